"""Garbage in, no recommendation out: samples no container can produce are set aside, and said so.

A scrape glitch, a counter that jumped, a broken exporter: NaN, infinities, negative usage,
a 1 PB working set.  None of that may move a request.  Impossible samples become NaN (so
every later step simply skips them) and the count is reported with the recommendation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rightsizer.history import ContainerHistory, Samples

#: Beyond these no single container goes: the largest machines have a few hundred cores and TB of memory.
MAX_CORES = 1024.0
MAX_BYTES = 64.0 * 2**40

_BOUNDS = {"cpu": MAX_CORES, "memory": MAX_BYTES, "heap_used": MAX_BYTES, "heap_total": MAX_BYTES,
           "rss": MAX_BYTES, "throttled": 1.0}


def sanitize(ch: ContainerHistory) -> tuple[ContainerHistory, dict[str, int]]:
    """The container with impossible samples set to NaN, and how many per series were."""
    dropped: dict[str, int] = {}
    values = {}
    for name, column in ch.samples.values.items():
        limit = _BOUNDS.get(name)
        present = ~np.isnan(column)
        bad = present & (~np.isfinite(column) | (column < 0) | (column > limit if limit else False))
        if bad.any():
            dropped[name] = int(bad.sum())
            column = np.where(bad, np.nan, column).astype(np.float32)
        values[name] = column
    if not dropped:
        return ch, dropped
    return replace(ch, samples=Samples(ch.samples.pod, ch.samples.step, values)), dropped
