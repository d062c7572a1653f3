"""A cluster read in parts, gathered whole before any part is recommended, one part in memory at a time.

The learned memory margins are fitted on every container of the cluster.  A large cluster
comes in batches of whole workloads, and its recommendations are made part by part so that
memory holds one batch; but no part may be recommended before the last has been read, or
the first batches would be sized by a model of themselves alone.  So each part is read
once: its daily series are kept (two floats a day per container) and the part itself is
written to a temporary file, to be read back, recommended and deleted once the cluster's
series are complete.  A history that comes in one part (a snapshot, the demo, a small
cluster) is never written anywhere.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path

from rightsizer.errors import RightsizerError
from rightsizer.fileio import scratch_directory
from rightsizer.history import ClusterHistory
from rightsizer.recommend.margins import ClusterSeries


def gathered(parts: Iterable[ClusterHistory], cluster: ClusterSeries) -> Iterator[ClusterHistory]:
    """``parts`` again, once ``cluster`` holds the daily series of all of them (the first is yielded only
    after the last has been read)."""
    iterator = iter(parts)
    first = next(iterator, None)
    if first is None:
        return
    cluster.add(first)
    second = next(iterator, None)
    if second is None:
        yield first
        return
    with scratch_directory("rightsizer-parts-") as tmp:  # removed on SIGTERM too
        files = [_spill(first, tmp, 0)]
        del first
        part: ClusterHistory | None = second
        del second
        while part is not None:
            cluster.add(part)
            files.append(_spill(part, tmp, len(files)))
            part = next(iterator, None)
        for path in files:
            with open(path, "rb") as f:
                part = pickle.load(f)  # our own file, in a directory only this process knows
            path.unlink()
            yield part
            part = None


def _spill(part: ClusterHistory, directory: Path, index: int) -> Path:
    path = directory / f"part-{index}.pickle"
    try:
        with open(path, "wb") as f:
            pickle.dump(part, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        raise RightsizerError(f"could not keep a batch of the history in {directory.parent} ({exc.strerror}): "
                              "free some space there or point TMPDIR at a larger disk") from None
    return path
