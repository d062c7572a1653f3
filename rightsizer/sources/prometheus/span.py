"""The window a store can answer: ``--window`` shortened to the history the store holds.

A window longer than the store's retention asks for steps with no sample in them, by the
million for ``--window 10y`` (hundreds of range queries for each batch, every one empty at
its start).  Before anything else, the store is asked whether it holds kube-state-metrics samples in
the window's first coarse step: one instant count over that step, which reads only its
samples.  Most stores do, and that is all.  Otherwise it is asked where they begin: a count
per coarse step over the whole window, then, when the first count lies inside the window, a
count per step over the coarse step before it.  The window then starts at the first step
holding samples, and the run says so.  (The count per coarse step reads every sample of the
window: asked first, it was a report's longest query at 1,000 containers, 7 s of 50, with
nothing else running.)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient
from rightsizer.sources.prometheus.discovery import fmt_time
from rightsizer.sources.prometheus.options import FetchOptions

log = logging.getLogger(__name__)

#: lookups of the coarse pass, whatever the window's length
_COARSE_LOOKUPS = 256


def fit_window(client: PrometheusClient, options: FetchOptions) -> FetchOptions:
    """``options`` with the window starting no earlier than the store's oldest sample in it (and its end fixed)."""
    end = time.time() if options.end is None else options.end
    options = replace(options, end=end)
    grid = options.grid()
    step = options.step
    coarse = math.ceil(max(step, options.window / _COARSE_LOOKUPS) / step) * step  # whole steps: on the grid
    start = grid.end - math.floor(options.window / coarse) * coarse
    if _holds_samples(client, start, coarse):
        return options
    first = _first_step(client, start, grid.end, coarse)
    if first is None or first - coarse <= grid.start:
        return options  # nothing at all (discovery says so), or history from the window's start
    first = _first_step(client, first - coarse, first, step) or first
    window = grid.end - first + step  # the first step whose interval holds a sample starts the window
    if window < 2 * step or window >= options.window:
        return options
    log.warning("--window shortened to %s: the store holds samples from %s on", _days(window),
                fmt_time(first - step))
    return replace(options, window=float(window))


def _holds_samples(client: PrometheusClient, at: float, interval: float) -> bool:
    """Whether the ``interval`` before ``at`` holds a kube-state-metrics sample."""
    return any(row[-1] > 0 for row in client.instant_rows(q.owner_samples(interval), at, ()))


def _first_step(client: PrometheusClient, start: float, end: float, step: float) -> float | None:
    """The first step from ``start`` to ``end`` whose interval holds a kube-state-metrics sample."""
    times = [t for series in client.range(q.owner_samples(step), start, end, step, by_days=False)
             for t, v in zip(series.times.tolist(), series.values.tolist(), strict=True) if v > 0]
    return min(times) if times else None


def _days(seconds: float) -> str:
    return f"{seconds / 86_400:.1f} days" if seconds >= 86_400 else f"{seconds / 3600:.1f} hours"
