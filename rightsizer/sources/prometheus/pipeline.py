"""The usage fetch: each batch's range queries, run with bounded concurrency and a look-ahead.

The next batches' queries run while a batch is assembled and recommended, so Prometheus is
kept busy, but never more than :data:`LOOKAHEAD` batches of answers are held: memory grows
with the batch, not with the cluster.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

from rightsizer.errors import SourceError
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient
from rightsizer.sources.matrix import LabelMemo, Matrix
from rightsizer.sources.prometheus.options import FetchOptions, Grid
from rightsizer.sources.prometheus.pool import query_pool

#: Batches whose queries may be in flight or answered but not yet used: Prometheus keeps working while a part
#: is assembled and recommended, and memory holds two batches at most.
LOOKAHEAD = 2
#: the usage queries read at ``FetchOptions.peak_step``, which may be coarser than the step
_COARSE = ("memory", "heap_used", "heap_total", "rss", "restarts", "reasons")
#: the usage queries whose series must come whole: a restart counter is read against its first value, so a
#: series cut at a chunk boundary would count its restarts again; the assembly places the others' points by
#: labels and time, so their chunks' answers are used as they come
_JOINED = ("restarts", "reasons")
Usage = dict[str, list[Matrix]]  # query name -> its answers (one per chunk; one in all for a joined query)


def usage_queries(m: q.Matchers, options: FetchOptions) -> dict[str, str]:
    """The range queries of one batch, by the name of what they read."""
    o = options
    prefix = o.nodejs_metric_prefix
    coarse = o.peak_step if o.peak_step != o.step else None
    queries = {
        # the step's mean rate, and the rate of its last scrape interval (what a request must cover)
        "cpu": q.cpu_usage(m, o.rate_window),
        "cpu_scrape": q.cpu_scrape(m, o.scrape),
        "memory": q.memory_peak(m, o.peak_step),
        # only a throttled step can move the CPU estimate: the others may be left on the server
        "throttled": q.throttled_ratio(m, o.rate_window, only_throttled=o.needs.throttled_steps_only),
        # the heap rules read each pod's hourly peaks: per step these were 40% of a report's bytes
        "heap_used": q.gauge_peak(f"{prefix}nodejs_heap_size_used_bytes", m, o.peak_step),
        "heap_total": q.gauge_peak(f"{prefix}nodejs_heap_size_total_bytes", m, o.peak_step),
        "rss": q.gauge_peak(f"{prefix}process_resident_memory_bytes", m, o.peak_step),
        # restarts counted per hour are the same restarts: only their time is known to the hour
        "restarts": q.restarts(m, coarse),
        "reasons": q.terminated_reasons(m, coarse),
    }
    if not o.needs.cpu_mean:
        del queries["cpu"]
    return queries


def query_range(name: str, options: FetchOptions, grid: Grid) -> tuple[float, float, float]:
    """(start, end, step) of a usage query: the step grid, or its coarser steps for peaks."""
    step = options.peak_step if name in _COARSE else options.step
    if step == options.step:
        return grid.start, grid.end, step
    # the first coarse step ending on the grid at or after the window's first step: they end on grid steps
    return math.ceil(grid.start / step) * step, math.floor(grid.end / step) * step, step


def fetch_usage(client: PrometheusClient, options: FetchOptions, grid: Grid, batches: Sequence[q.Matchers],
                progress: Callable[[int, int, str], None]) -> Iterator[Usage | SourceError]:
    """Each batch's usage, in order, or the first error one of its queries ended in (after retries)."""
    per_batch = len(usage_queries(batches[0], options))
    total = len(batches) * per_batch
    done = 0
    progress(0, total, "fetching usage")
    with query_pool(client.settings.concurrency) as pool:
        pending: deque[dict[str, Future[list[Matrix]]]] = deque()
        queue = iter(batches)

        def joined(query: str, start: float, end: float, step: float) -> list[Matrix]:
            return [Matrix.of(client.range(query, start, end, step))]

        def ask(name: str, query: str, memo: LabelMemo) -> Future[list[Matrix]]:
            span = query_range(name, options, grid)
            if name in _JOINED:
                return pool.submit(joined, query, *span)
            return pool.submit(client.range_chunks, query, *span, memo=memo)

        def submit() -> None:
            m = next(queue, None)
            if m is not None:
                memo: LabelMemo = {}  # the batch's label sets, each decoded once for all its queries and chunks
                pending.append({name: ask(name, query, memo) for name, query in usage_queries(m, options).items()})

        for _ in range(LOOKAHEAD):
            submit()
        while pending:
            futures = pending.popleft()
            usage: Usage = {}
            error: SourceError | None = None
            for name, future in futures.items():
                try:
                    usage[name] = future.result()
                except SourceError as exc:
                    error = error or exc
                done += 1
                progress(done, total, "fetching usage")
            submit()
            yield usage if error is None else error
