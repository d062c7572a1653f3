"""Garbage in, no recommendation out: samples no container can produce are set aside, and said so.

A scrape glitch, a counter that jumped, a broken exporter: NaN, infinities, negative usage,
a 1 PB working set.  None of that may move a request.  Impossible samples become NaN (so
every later step simply skips them) and the count is reported with the recommendation.

The throttling ratio is the exception: a step without it reads as not throttled, which
would lower the CPU of a container capped by its limit.  An impossible ratio is taken as
the worst a step can be, every period throttled, so a broken ratio can only raise the
CPU estimate, never lower it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rightsizer.history import ContainerHistory, Samples
from rightsizer.sources.plausible import MAX_BYTES, MAX_CORES

_BOUNDS = {"cpu": MAX_CORES, "cpu_scrape": MAX_CORES, "memory": MAX_BYTES, "heap_used": MAX_BYTES,
           "heap_total": MAX_BYTES, "rss": MAX_BYTES, "throttled": 1.0}
_LARGEST = float(np.finfo(np.float32).max)  # a series without a bound of its own: any finite value
#: what an impossible sample becomes: NaN (no sample), but a fully throttled step for the throttling ratio
_SET_ASIDE_AS = {"throttled": 1.0}


def sanitize(ch: ContainerHistory) -> tuple[ContainerHistory, dict[str, int]]:
    """The container with impossible samples set to NaN, and how many per series were."""
    dropped: dict[str, int] = {}
    values = {}
    for name, column in ch.samples.values.items():
        values[name] = column
        within = (column >= 0) & (column <= _BOUNDS.get(name, _LARGEST))  # NaN and infinities compare False
        if within.all():  # the usual case, in two passes over the column
            continue
        bad = ~within & ~np.isnan(column)
        if bad.any():
            dropped[name] = int(bad.sum())
            values[name] = np.where(bad, _SET_ASIDE_AS.get(name, np.nan), column).astype(np.float32)
    if not dropped:
        return ch, dropped
    return replace(ch, samples=Samples(ch.samples.pod, ch.samples.step, values)), dropped
