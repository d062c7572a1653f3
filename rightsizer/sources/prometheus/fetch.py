"""One cluster's history in parts: discovery, the batch plan, the usage fetch, assembly, in that order."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import replace

from rightsizer.errors import MissingMetricsError, NoDataError, RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.scope import Scope
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient
from rightsizer.sources.prometheus import discovery
from rightsizer.sources.prometheus.assembly import assemble
from rightsizer.sources.prometheus.batches import Batch, plan_batches
from rightsizer.sources.prometheus.discovery import Reader, fmt_time
from rightsizer.sources.prometheus.options import DEFAULT_SCRAPE_INTERVAL, FetchOptions, Progress
from rightsizer.sources.prometheus.pipeline import fetch_usage, query_range
from rightsizer.units import HOUR

log = logging.getLogger(__name__)


class ClusterFetch:
    """One cluster's history; ``cluster`` is its value of ``options.cluster_label`` ("" without one)."""

    def __init__(self, client: PrometheusClient, options: FetchOptions, scope: Scope, progress: Progress | None,
                 cluster: str = ""):
        self.client = client
        self.options = options
        self.scope = scope
        self.cluster = cluster
        self.progress = progress or (lambda done, total, what: None)
        self.grid = options.grid()
        self.reader = Reader(client, options, self.grid, cluster)
        self.source = f"prometheus {client.url}"

    def parts(self) -> Iterator[ClusterHistory]:
        """The history in parts of at most ``batch_pods`` pods, each holding whole workloads.

        A part whose queries failed (after retries) holds no containers and names what it
        left out in ``missing``; only when every part fails is it an error.
        """
        self.progress(0, 1, "discovering workloads")
        found = discovery.discover(self.reader, discovery.namespaces(self.reader, self.scope))
        selected = discovery.select(self.reader, self.scope, found)
        if self.options.scrape_interval is None:
            self.options = replace(self.options, scrape_interval=self._scrape_interval())
        narrowed = self.scope.selector is not None or self.scope.workload is not None
        batches = plan_batches(selected, found.owners, found.lived, self.options.batch_pods, narrowed)
        matchers = [self.reader.matchers(b.namespaces, b.pods) for b in batches]
        restarts_from = round((query_range("restarts", self.options, self.grid)[0] - self.grid.start)
                              / self.options.step)
        containers = 0
        failures: list[RightsizerError] = []
        answers = fetch_usage(self.client, self.options, self.grid, matchers, self.progress)
        for batch, answer in zip(batches, answers, strict=True):
            if isinstance(answer, RightsizerError):
                failures.append(answer)
                yield self._failed(batch, answer)
                continue
            part = assemble(found, answer, self.grid, self.cluster, self.source, restarts_from,
                            self.options.scrape_interval)
            containers += len(part)
            yield part
        if failures and len(failures) == len(batches):
            raise failures[0]
        if not containers and not failures:
            self._explain_empty()

    def _scrape_interval(self) -> float:
        """Seconds between cAdvisor's scrapes: an hour over the samples a series holds per hour, counted over
        the window's last two hours.

        The usual 60 s when no series ran through those hours.
        """
        rows = self.reader.rows(q.scrape_samples(self.reader.matchers(), HOUR))
        count = rows[0][-1] if rows else math.nan
        if not count >= 2:
            log.info("no cAdvisor series ran through the window's last two hours: CPU sized at %gs scrapes",
                     DEFAULT_SCRAPE_INTERVAL)
            return DEFAULT_SCRAPE_INTERVAL
        interval = float(round(HOUR / count))
        log.info("cAdvisor is scraped every %gs", interval)
        return interval

    def _failed(self, batch: Batch, error: RightsizerError) -> ClusterHistory:
        """An empty part that names what could not be read: a partial result, never a silent gap."""
        workloads = batch.workloads
        shown = ", ".join(workloads[:8]) + (f" and {len(workloads) - 8} more" if len(workloads) > 8 else "")
        what = f"{error} (workloads left out: {shown})"
        log.warning("leaving out %s: %s", ", ".join(batch.namespaces), what)
        where = f"cluster {self.cluster} " if self.cluster else ""
        if batch.pods:
            missing = {f"{where}workload {w}": str(error) for w in workloads}
        else:
            missing = {f"{where}namespace {ns}": what for ns in batch.namespaces}
        return self.empty(missing)

    def empty(self, missing: dict[str, str]) -> ClusterHistory:
        """A part with no containers, naming what it left out."""
        return ClusterHistory(self.grid.start, self.grid.step, self.grid.n_steps, {}, source=self.source,
                              missing=missing, scrape_interval=self.options.scrape_interval)

    def _explain_empty(self) -> None:
        for metric, exporter in (("container_cpu_usage_seconds_total", "cAdvisor (the kubelet's /metrics/cadvisor)"),
                                 ("container_memory_working_set_bytes", "cAdvisor (the kubelet's /metrics/cadvisor)")):
            if not self.reader.rows(q.metric_present(metric, self.reader.lookback)):
                raise MissingMetricsError(f"no {metric} series in the window: Prometheus must scrape {exporter}")
        raise NoDataError(f"no container usage for the workloads matching {self.scope.describe()} "
                          f"between {fmt_time(self.grid.start)} and {fmt_time(self.grid.end)}")
