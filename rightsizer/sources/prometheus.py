"""Read a ClusterHistory from a Prometheus-compatible API, using kube-state-metrics alone for discovery.

The flow, each step a handful of wide queries rather than one per container:

1. discovery (instant queries at the window's end, looking back over the window): which
   pods existed, who owns them (pod -> ReplicaSet -> Deployment, Job -> CronJob...),
   their containers, images, requests, limits, nodes, HPAs and Node.js versions;
2. usage (range queries at the step), batched by namespace and run with bounded
   concurrency: CPU rate, working-set peaks, throttling, Node.js heap and RSS, restarts;
3. assembly into one ContainerHistory per workload container, pooling all its pods.

A batch that still fails after the client's retries is reported in
``ClusterHistory.missing`` and the rest of the cluster is returned: one sick namespace
does not sink a weekly run.  Missing exporters are named, with what provides them.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from rightsizer.errors import MissingMetricsError, NoDataError, RightsizerError, SourceError
from rightsizer.history import (
    SERIES,
    ClusterHistory,
    ContainerEvent,
    ContainerHistory,
    ContainerKey,
    Hpa,
    Node,
    Resources,
    Samples,
    Workload,
    WorkloadKey,
)
from rightsizer.scope import Scope
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.matrix import Series
from rightsizer.units import DAY, HOUR

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
#: Batches whose queries may be in flight or answered but not yet used: Prometheus keeps working while a part
#: is assembled and recommended, and memory holds two batches at most.
LOOKAHEAD = 2
#: the least a pod counts for in a batch, however short it lived: its series' labels and
#: bookkeeping cost about a fiftieth of a full window's points
MIN_POD_SHARE = 0.02
#: marks a series-endpoint request among the prefetched instant queries
_SERIES = "series:"
#: the usage queries read at ``FetchOptions.peak_step`` (an hour in summary mode)
_HOURLY = ("memory", "restarts", "reasons")
PodId = tuple[str, str]  # (namespace, pod)
ContainerId = tuple[str, str, str]  # (namespace, pod, container)


@dataclass(frozen=True)
class FetchOptions:
    """What to fetch and at which resolution."""

    window: float = 14 * 86_400.0  # seconds of history
    step: float = 300.0  # seconds between samples
    end: float | None = None  # unix seconds; None means now
    scrape_interval: float = 60.0  # of cAdvisor; rates need at least a few samples per window
    nodejs_metric_prefix: str = ""  # prom-client's configurable prefix
    batch_pods: int = 200  # pods' worth of history per usage query batch (a pod counts the share of the window it lived)
    #: fetch what a recommendation needs, aggregated by the server where that loses nothing
    #: (working-set peaks per hour, throttling only where it happened), not every series at every step
    summary: bool = False
    #: the label telling clusters apart in a store that holds several (Thanos, Mimir, VictoriaMetrics)
    cluster_label: str | None = None

    def __post_init__(self) -> None:
        if self.cluster_label is not None:
            q.check_label_name(self.cluster_label, "--cluster-label")
        if self.step < 10:
            raise RightsizerError(f"--step {self.step:g}s is too fine: use 10s or more (5m is the default)")
        if self.window < 2 * self.step:
            raise RightsizerError(f"--window must hold at least two steps of {self.step:g}s")

    def grid(self) -> tuple[float, int]:
        """(time of the first step, number of steps), aligned to the step so runs agree."""
        end = time.time() if self.end is None else self.end
        last = end - end % self.step
        n_steps = int(self.window // self.step)
        return last - (n_steps - 1) * self.step, n_steps

    @property
    def rate_window(self) -> float:
        return max(self.step, 4 * self.scrape_interval)

    @property
    def peak_step(self) -> float:
        """The step of working-set peaks: an hour in summary mode, where the hours hold whole steps.

        The memory rule looks at daily peaks only, and the peak of a day is the peak of its
        hours: fetching hourly peaks moves a twelfth of the points for the same answer.
        """
        if self.summary and HOUR % self.step == 0 and self.step < HOUR:
            return HOUR
        return self.step


@dataclass
class _Discovery:
    owners: dict[PodId, tuple[str, str]] = field(default_factory=dict)  # pod -> (kind, workload)
    lived: dict[PodId, float] = field(default_factory=dict)  # pod -> samples kube-state-metrics wrote for it
    containers: dict[PodId, set[str]] = field(default_factory=lambda: defaultdict(set))
    images: dict[ContainerId, str] = field(default_factory=dict)
    requests: dict[ContainerId, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    limits: dict[ContainerId, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    pod_nodes: dict[PodId, str] = field(default_factory=dict)
    nodejs: dict[ContainerId, str] = field(default_factory=dict)
    init: set[ContainerId] = field(default_factory=set)  # init containers
    hpas: dict[WorkloadKey, Hpa] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)


def load_prometheus_history(
    settings: PrometheusSettings,
    options: FetchOptions | None = None,
    scope: Scope | None = None,
    progress: Progress | None = None,
    client: PrometheusClient | None = None,
) -> ClusterHistory:
    """Fetch the history of every workload container in scope, as one ClusterHistory.

    Pass a ``client`` to reuse its connections across calls or read its counters
    (queries sent, bytes received) afterwards; by default one is made and closed.
    For a large cluster, :func:`iter_prometheus_history` holds one batch at a time.
    """
    return ClusterHistory.combine(iter_prometheus_history(settings, options, scope, progress, client))


def iter_prometheus_history(
    settings: PrometheusSettings,
    options: FetchOptions | None = None,
    scope: Scope | None = None,
    progress: Progress | None = None,
    client: PrometheusClient | None = None,
) -> Iterator[ClusterHistory]:
    """The history in parts of at most ``options.batch_pods`` pods, each holding whole workloads.

    A part whose queries failed (after retries) holds no containers and names what it
    left out in ``missing``.
    """
    options = options or FetchOptions()
    scope = scope or Scope()
    own = client is None
    client = client or PrometheusClient(settings)
    began, queries, received = time.monotonic(), client.queries, client.bytes_received
    containers = 0
    try:
        for part in _clusters(client, options, scope, progress):
            containers += len(part)
            yield part
        log.info("read %d containers with %d queries, %.1f MB, in %.1fs", containers, client.queries - queries,
                 (client.bytes_received - received) / 1e6, time.monotonic() - began)
    finally:
        if own:
            client.close()


def _clusters(client: PrometheusClient, options: FetchOptions, scope: Scope, progress: Progress | None
              ) -> Iterator[ClusterHistory]:
    """Every cluster's parts; without a cluster label, the store is one cluster.

    With several clusters, one that has nothing in scope is passed over and one that
    cannot be read is a partial result; only when none gives anything is it an error.
    """
    if options.cluster_label is None:
        yield from _Fetch(client, options, scope, progress).parts()
        return
    label = options.cluster_label
    probe = _Fetch(client, options, scope, progress)  # the window's grid and queries, before any cluster
    found = sorted({cluster for cluster, _ in probe.rows(q.clusters(label, probe.lookback), label)})
    if not found or found == [""]:
        raise MissingMetricsError(f"no kube_pod_owner series carries the label {label!r}: check --cluster-label "
                                  "(the external label your Thanos, Mimir or remote-write setup adds, e.g. cluster)")
    chosen = [c for c in found if c and scope.cluster_ok(c)]
    if not chosen:
        raise NoDataError(f"no cluster matches --cluster {scope.cluster!r}; clusters: {', '.join(found)}")
    errors: list[RightsizerError] = []
    for cluster in chosen:
        try:
            yield from _Fetch(client, options, scope, progress, cluster).parts()
        except NoDataError as exc:
            errors.append(exc)
            log.info("cluster %s: %s", cluster, exc)
        except SourceError as exc:
            errors.append(exc)
            yield probe.empty({f"cluster {cluster}": str(exc)})
    if len(errors) == len(chosen):
        raise errors[0]


class _Fetch:
    """One cluster's history; ``cluster`` is its value of ``options.cluster_label`` ("" without one)."""

    def __init__(self, client: PrometheusClient, options: FetchOptions, scope: Scope, progress: Progress | None,
                 cluster: str = ""):
        self.client = client
        self.options = options
        self.scope = scope
        self.cluster = cluster
        self.progress = progress or (lambda done, total, what: None)
        self.start, self.n_steps = options.grid()
        self.end = self.start + (self.n_steps - 1) * options.step
        self.lookback = options.window + options.step
        self._prefetched: dict[tuple[str, tuple[str, ...]], Future[list[tuple[Any, ...]]]] = {}

    # --- discovery ---------------------------------------------------------------------------

    def rows(self, query: str, *labels: str) -> list[tuple[Any, ...]]:
        """``(label values..., value)`` of each series: what discovery keeps of an answer."""
        future = self._prefetched.pop((query, labels), None)
        return future.result() if future is not None else self.client.instant_rows(query, self.end, labels)

    def _prefetch(self, queries: Sequence[tuple[str, tuple[str, ...]]],
                  series: Sequence[tuple[str, tuple[str, ...]]] = ()) -> None:
        """Send these instant queries, and these series-endpoint requests, at once (at most ``concurrency``
        in flight); :meth:`rows` and :meth:`_reader` collect them.

        Each discovery query reads the whole window of a kube-state-metrics family: one
        after the other they add up to seconds that a second core can share.
        """
        with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
            self._prefetched = {(query, labels): pool.submit(self.client.instant_rows, query, self.end, labels)
                                for query, labels in queries}
            for match, labels in series:
                self._prefetched[(_SERIES + match, labels)] = pool.submit(
                    self.client.series_rows, match, self.end - self.lookback, self.end, labels)
            # leaving the block waits for them all; a failure surfaces when its answer is collected

    def _m(self, namespaces: tuple[str, ...] = (), pods: tuple[str, ...] = ()) -> q.Matchers:
        label = self.options.cluster_label
        return q.Matchers(namespaces, pods, (label, self.cluster) if label else None)

    def parts(self) -> Iterator[ClusterHistory]:
        """The history in parts of at most ``batch_pods`` pods, each holding whole workloads.

        The next batches' queries run while a part is being used, so Prometheus is kept
        busy, but never more than :data:`LOOKAHEAD` batches of answers are held: memory
        grows with the batch, not with the cluster.
        """
        namespaces = self._namespaces()
        found = self._discover(namespaces)
        selected = self._select(found)
        batches = self._batches(selected, found)
        per_batch = len(self._usage_queries(batches[0][0]))
        total = len(batches) * per_batch
        done = 0
        containers = 0
        failures: list[RightsizerError] = []
        self.progress(0, total, "fetching usage")
        with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
            pending: deque[tuple[q.Matchers, list[str], dict[str, Future[list[Series]]]]] = deque()
            queue = iter(batches)

            def submit() -> None:
                nxt = next(queue, None)
                if nxt is not None:
                    m, workloads = nxt
                    pending.append((m, workloads, {name: pool.submit(self.client.range, query, *self._range(name))
                                                   for name, query in self._usage_queries(m).items()}))

            for _ in range(LOOKAHEAD):
                submit()
            while pending:
                m, workloads, futures = pending.popleft()
                usage: dict[str, list[Series]] = {}
                error: RightsizerError | None = None
                for name, future in futures.items():
                    try:
                        usage[name] = future.result()
                    except SourceError as exc:
                        error = error or exc
                    done += 1
                    self.progress(done, total, "fetching usage")
                submit()
                if error is not None:
                    failures.append(error)
                    yield self._failed(m, workloads, error)
                    continue
                part = self._assemble(found, usage)
                containers += len(part)
                yield part
        if failures and len(failures) == len(batches):
            raise failures[0]
        if not containers and not failures:
            self._explain_empty()

    def _namespaces(self) -> list[str] | None:
        """The namespaces --namespace keeps; None without the flag (every namespace, no matcher needed)."""
        self.progress(0, 1, "discovering workloads")
        if self.scope.namespace is None:
            return None
        all_ns = sorted(ns for ns, _ in self.rows(q.namespaces(self.lookback, self._m()), "namespace"))
        if not all_ns:
            raise self._no_owners()
        chosen = [ns for ns in all_ns if self.scope.namespace_ok(ns)]
        if not chosen:
            shown = ", ".join(all_ns[:15]) + (" ..." if len(all_ns) > 15 else "")
            raise NoDataError(f"no namespace matches --namespace {self.scope.namespace!r}; "
                              f"namespaces with workloads: {shown}")
        return chosen

    def _no_owners(self) -> MissingMetricsError:
        return MissingMetricsError(
            f"no kube_pod_owner series between {_fmt(self.start)} and {_fmt(self.end)}: rightsizer discovers "
            "workloads from kube-state-metrics v2, so make sure Prometheus scrapes it (or check --end/--window)"
        )

    def _reader(self, plan: dict[str, tuple[str, tuple[str, ...]]], labels_only: dict[str, str] | None = None
                ) -> Callable[[str], list[tuple[Any, ...]]]:
        """Send a plan's queries at once; the function returned gives each one's rows by name.

        ``labels_only`` names the entries whose values say nothing (name -> series selector):
        their label sets are asked of the series endpoint, which reads the index only, and
        the plan's query is sent only when the store refuses that (VictoriaMetrics caps it
        with ``-search.maxSeries``; a proxy may not expose it).
        """
        labels_only = labels_only or {}
        self._prefetch([ask for name, ask in plan.items() if name not in labels_only],
                       [(match, plan[name][1]) for name, match in labels_only.items()])

        def rows(name: str) -> list[tuple[Any, ...]]:
            query, labels = plan[name]
            if name in labels_only:
                try:
                    return self._prefetched.pop((_SERIES + labels_only[name], labels)).result()
                except SourceError as exc:
                    log.info("reading %s by query: the series endpoint answered: %s", labels_only[name], exc)
            return self.rows(query, *labels)

        return rows

    def _discover(self, namespaces: list[str] | None) -> _Discovery:
        m = self._m(tuple(namespaces or ()))
        w = self.lookback
        d = _Discovery()
        ns_pod = ("namespace", "pod")
        hpa = ("namespace", "horizontalpodautoscaler")
        # settings matter for each container's latest pod only: in summary mode they are read over the last
        # day, where every running workload's latest pod is; the others are read over the window below
        recent = min(w, DAY + self.options.step) if self.options.summary else w
        plan = {
            "rs": (q.replicaset_owners(m, w), ("namespace", "replicaset", "owner_kind", "owner_name")),
            "jobs": (q.job_owners(m, w), ("namespace", "job_name", "owner_kind", "owner_name")),
            "pods": (q.pod_owners(m, w), (*ns_pod, "owner_kind", "owner_name")),
            "hpa_targets": (q.hpa_targets(m, w), (*hpa, "metric_name", "metric_target_type")),
            "hpa_min": (q.hpa_replicas("min", m, w), hpa),
            "hpa_max": (q.hpa_replicas("max", m, w), hpa),
            "hpa_info": (q.hpa_info(m, w), (*hpa, "scaletargetref_kind", "scaletargetref_name")),
            "nodes": (q.node_labels(w, self._m()), ("node", *q.NODE_LABELS)),
            **self._settings_plan(m, recent),
        }
        if not self.options.summary:  # which node ran each pod: kept in snapshots, not needed to recommend
            plan["nodes_of_pods"] = (q.pod_nodes(m, w), (*ns_pod, "node"))
        owners = {"rs": q.selector("kube_replicaset_owner", m), "jobs": q.selector("kube_job_owner", m)}
        rows = self._reader(plan, labels_only=owners)
        rs_owner = {(ns, rs): (kind, name) for ns, rs, kind, name, _ in rows("rs")}
        job_owner = {(ns, job): (kind, name) for ns, job, kind, name, _ in rows("jobs")}
        for ns, pod, kind, name, samples in rows("pods"):
            d.owners[(ns, pod)] = _workload_of((ns, pod), kind, name, rs_owner, job_owner)
            d.lived[(ns, pod)] = max(d.lived.get((ns, pod), 0.0), samples)
        if not d.owners:
            raise self._no_owners()
        self._settings(d, rows)
        if recent < w:
            self._older_settings(d, w)
        if "nodes_of_pods" in plan:
            for ns, pod, node, _ in rows("nodes_of_pods"):
                d.pod_nodes[(ns, pod)] = f"{self.cluster}/{node}" if self.cluster else node
        d.hpas = self._hpas(rows)
        d.nodes = {n.name: n for n in (_node(dict(zip(plan["nodes"][1], r[:-1], strict=True)), self.cluster)
                                       for r in rows("nodes"))}
        return d

    def _settings_plan(self, m: q.Matchers, lookback: float) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The queries for each pod's containers, images, requests, limits and Node.js version."""
        container = ("namespace", "pod", "container")
        plan = {"nodejs": (q.nodejs_versions(m, lookback, self.options.nodejs_metric_prefix), (*container, "version"))}
        for init in (False, True):
            plan[f"info{init}"] = (q.container_info(m, lookback, init), (*container, "image"))
            for kind in ("requests", "limits"):
                plan[f"{kind}{init}"] = (q.resources(kind, m, lookback, init), (*container, "resource"))
        return plan

    @staticmethod
    def _settings(d: _Discovery, rows: Callable[[str], list[tuple[Any, ...]]]) -> None:
        for init in (False, True):
            for ns, pod, name, image, _ in rows(f"info{init}"):
                cid = (ns, pod, name)
                d.images.setdefault(cid, image)
                if init:
                    d.init.add(cid)
                else:
                    d.containers[(ns, pod)].add(name)
            for kind, target in (("requests", d.requests), ("limits", d.limits)):
                for ns, pod, name, resource, value in rows(f"{kind}{init}"):
                    if np.isfinite(value):
                        target[(ns, pod, name)].setdefault(resource, value)
        for ns, pod, name, version, _ in rows("nodejs"):
            d.nodejs.setdefault((ns, pod, name), version)

    def _older_settings(self, d: _Discovery, window: float) -> None:
        """Settings of the workloads none of whose pods ran in the last day (a weekly CronJob, a finished Job),
        read over the whole window for their pods only."""
        recent = {(ns, pod) for ns, pod, _ in d.images}
        by_workload: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for (ns, pod), (kind, name) in d.owners.items():
            by_workload[(ns, kind, name)].append(pod)
        older: dict[str, list[str]] = defaultdict(list)
        for (ns, _, _), pods in by_workload.items():
            if not any((ns, pod) in recent for pod in pods):
                older[ns].extend(pods)
        for ns, pods in sorted(older.items()):
            for i in range(0, len(pods), self.options.batch_pods):
                chunk = tuple(sorted(pods[i : i + self.options.batch_pods]))
                self._settings(d, self._reader(self._settings_plan(self._m((ns,), chunk), window)))

    def _hpas(self, rows: Callable[[str], list[tuple[Any, ...]]]) -> dict[WorkloadKey, Hpa]:
        targets: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for ns, name, metric, kind, value in rows("hpa_targets"):
            if kind == "utilization" and metric in ("cpu", "memory"):
                targets[(ns, name)][metric] = value
        bounds = {bound: {(ns, name): int(value) for ns, name, value in rows(f"hpa_{bound}")}
                  for bound in ("min", "max")}
        hpas: dict[WorkloadKey, Hpa] = {}
        for ns, name, kind, target, _ in rows("hpa_info"):
            key = WorkloadKey(ns, kind, target, self.cluster)
            hid = (ns, name)
            hpas[key] = Hpa(name, bounds["min"].get(hid), bounds["max"].get(hid), dict(targets.get(hid, {})))
        return hpas

    def _select(self, d: _Discovery) -> dict[str, list[str]]:
        """Pods in scope, by namespace."""
        allowed: set[PodId] | None = None
        if self.scope.selector:
            matchers = q.selector_matchers(self.scope.selector)
            namespaces = tuple(sorted({ns for ns, _ in d.owners}))
            found = self.rows(q.pod_labels(matchers, self._m(namespaces), self.lookback), "namespace", "pod")
            allowed = {(ns, pod) for ns, pod, _ in found}
            if not allowed:
                raise NoDataError(
                    f"no pod matches --selector {self.scope.selector!r}. Pod labels come from kube-state-metrics' "
                    "kube_pod_labels, which exports only labels on its --metric-labels-allowlist "
                    "(e.g. pods=[app,app.kubernetes.io/name])"
                )
        by_ns: dict[str, list[str]] = defaultdict(list)
        for (ns, pod), (kind, name) in d.owners.items():
            if (allowed is None or (ns, pod) in allowed) and self.scope.workload_ok(kind, name):
                by_ns[ns].append(pod)
        if not by_ns:
            raise NoDataError(f"no workload matches {self.scope.describe()} between {_fmt(self.start)} "
                              f"and {_fmt(self.end)}")
        return dict(by_ns)

    # --- usage ---------------------------------------------------------------------------------

    def _batches(self, selected: dict[str, list[str]], d: _Discovery) -> list[tuple[q.Matchers, list[str]]]:
        """Batches of up to ``batch_pods`` pods' worth of history, with the workloads each holds.

        A pod counts for the share of the window it lived (at least :data:`MIN_POD_SHARE`):
        what a batch holds is points, and a CronJob's or a rollout's pods of a few minutes
        hold few.  Counted as whole pods, the many short-lived pods of a busy namespace
        would cut it into long pod lists that Prometheus parses again in every query.
        Small namespaces are grouped; a namespace larger than a batch (or one the scope
        narrows to some workloads) is cut into pod lists, whole workloads at a time, so a
        workload's pods are always read, and recommended, together.
        """
        narrowed = self.scope.selector is not None or self.scope.workload is not None
        limit = self.options.batch_pods
        longest = max(d.lived.values(), default=0.0) or 1.0

        def worth(ns: str, pods: list[str]) -> float:
            return sum(max(MIN_POD_SHARE, d.lived.get((ns, pod), longest) / longest) for pod in pods)

        batches: list[tuple[q.Matchers, list[str]]] = []
        group: list[str] = []
        group_workloads: list[str] = []
        size = 0.0
        for ns in sorted(selected):
            by_workload: dict[str, list[str]] = defaultdict(list)
            for pod in selected[ns]:
                kind, name = d.owners[(ns, pod)]
                by_workload[f"{ns}/{kind}/{name}"].append(pod)
            sizes = {workload: worth(ns, its_pods) for workload, its_pods in by_workload.items()}
            ns_size = sum(sizes.values())
            if narrowed or ns_size > limit:
                chunk: list[str] = []
                names: list[str] = []
                chunk_size = 0.0
                for workload, its_pods in sorted(by_workload.items()):
                    its_size = sizes[workload]
                    if chunk and chunk_size + its_size > limit:
                        batches.append((self._m((ns,), tuple(sorted(chunk))), names))
                        chunk, names, chunk_size = [], [], 0.0
                    chunk.extend(its_pods)
                    names.append(workload)
                    chunk_size += its_size
                if chunk:
                    batches.append((self._m((ns,), tuple(sorted(chunk))), names))
                continue
            if group and size + ns_size > limit:
                batches.append((self._m(tuple(group)), group_workloads))
                group, group_workloads, size = [], [], 0.0
            group.append(ns)
            group_workloads.extend(sorted(by_workload))
            size += ns_size
        if group:
            batches.append((self._m(tuple(group)), group_workloads))
        return batches

    def _failed(self, m: q.Matchers, workloads: list[str], error: RightsizerError) -> ClusterHistory:
        """An empty part that names what could not be read: a partial result, never a silent gap."""
        shown = ", ".join(workloads[:8]) + (f" and {len(workloads) - 8} more" if len(workloads) > 8 else "")
        what = f"{error} (workloads left out: {shown})"
        log.warning("leaving out %s: %s", ", ".join(m.namespaces), what)
        where = f"cluster {self.cluster} " if self.cluster else ""
        if m.pods:
            missing = {f"{where}workload {w}": str(error) for w in workloads}
        else:
            missing = {f"{where}namespace {ns}": what for ns in m.namespaces}
        return self.empty(missing)

    def empty(self, missing: dict[str, str]) -> ClusterHistory:
        """A part with no containers, naming what it left out."""
        return ClusterHistory(self.start, self.options.step, self.n_steps, {}, source=self._source, missing=missing)

    @property
    def _source(self) -> str:
        return f"prometheus {self.client.url}"

    def _usage_queries(self, m: q.Matchers) -> dict[str, str]:
        o = self.options
        prefix = o.nodejs_metric_prefix
        hourly = o.peak_step if o.peak_step != o.step else None
        return {
            "cpu": q.cpu_usage(m, o.rate_window),
            "memory": q.memory_peak(m, o.peak_step),
            # only a throttled step can move the CPU estimate: the others are left on the server
            "throttled": q.throttled_ratio(m, o.rate_window, only_throttled=o.summary),
            "heap_used": q.gauge_peak(f"{prefix}nodejs_heap_size_used_bytes", m, o.step),
            "heap_total": q.gauge_peak(f"{prefix}nodejs_heap_size_total_bytes", m, o.step),
            "rss": q.gauge_peak(f"{prefix}process_resident_memory_bytes", m, o.step),
            # restarts counted per hour are the same restarts: only their time is known to the hour
            "restarts": q.restarts(m, hourly),
            "reasons": q.terminated_reasons(m, hourly),
        }

    def _range(self, name: str) -> tuple[float, float, float]:
        """(start, end, step) of a usage query: the step grid, or its hours for summary peaks."""
        step = self.options.peak_step if name in _HOURLY else self.options.step
        if step == self.options.step:
            return self.start, self.end, step
        # the first hour ending on the grid at or after the window's first step: hours end on grid steps
        return math.ceil(self.start / step) * step, math.floor(self.end / step) * step, step

    # --- assembly ------------------------------------------------------------------------------

    def _assemble(self, d: _Discovery, usage: dict[str, list[Series]]) -> ClusterHistory:
        """One ContainerHistory per workload container of the batch, in a few array operations.

        A batch holds tens of thousands of short series (a CronJob's pods live minutes):
        every point of every series is placed at once, by the row key ``pod * n_steps +
        step``, rather than series by series.
        """
        ids = {name: [(self._container_id(series.labels, d), series) for series in usage.get(name, [])]
               for name in SERIES}
        # the pods: those cAdvisor saw (CPU or memory), in (workload container, pod) order
        seen = {cid for name in ("cpu", "memory") for cid, _ in ids[name] if cid is not None and cid[:2] in d.owners}
        keyed = sorted((self._key(cid, d), cid[1], cid) for cid in seen)
        gid = {cid: i for i, (_, _, cid) in enumerate(keyed)}
        n = self.n_steps
        points = {name: _place([(gid[cid], series) for cid, series in rows if cid in gid], self.start,
                               self.options.step, n)
                  for name, rows in ids.items()}
        every = _union([k for k, _ in points.values()])
        columns = {}
        for name, (keys, values) in points.items():
            column = np.full(len(every), np.nan, dtype=np.float32)
            column[np.searchsorted(every, keys)] = values
            columns[name] = column
        pod_of = (every // n).astype(np.int64)
        step_of = (every % n).astype(np.int32)
        events = self._events(usage.get("restarts", []), usage.get("reasons", []), d)
        containers: dict[ContainerKey, ContainerHistory] = {}
        bounds = np.searchsorted(pod_of, np.arange(len(keyed) + 1))
        first = 0
        while first < len(keyed):
            key = keyed[first][0]
            last = first
            while last + 1 < len(keyed) and keyed[last + 1][0] == key:
                last += 1
            lo, hi = bounds[first], bounds[last + 1]
            cids = [cid for _, _, cid in keyed[first : last + 1]]
            ends = [int(step_of[bounds[i + 1] - 1]) if bounds[i + 1] > bounds[i] else -1
                    for i in range(first, last + 1)]
            latest = cids[ends.index(max(ends))]  # the pod seen last: its settings are the current ones
            samples = Samples((pod_of[lo:hi] - first).astype(np.int32), step_of[lo:hi],
                              {name: column[lo:hi] for name, column in columns.items()})
            containers[key] = self._container(key, cids, latest, samples, events, d)
            first = last + 1
        workloads = {k.workload_key: Workload(k.workload_key, d.hpas.get(k.workload_key)) for k in containers}
        pod_nodes = {(k.namespace, pod): d.pod_nodes[(k.namespace, pod)] for k, ch in containers.items()
                     for pod in ch.pods if (k.namespace, pod) in d.pod_nodes}
        return ClusterHistory(self.start, self.options.step, self.n_steps, containers, workloads, d.nodes,
                              pod_nodes, source=self._source)

    def _key(self, cid: ContainerId, d: _Discovery) -> ContainerKey:
        kind, workload = d.owners[cid[:2]]
        return ContainerKey(cid[0], kind, workload, cid[2], self.cluster)

    def _container(self, key: ContainerKey, cids: list[ContainerId], latest: ContainerId, samples: Samples,
                   events: dict[ContainerId, list[ContainerEvent]], d: _Discovery) -> ContainerHistory:
        pods = [cid[1] for cid in cids]
        req = d.requests.get(latest, {})
        lim = d.limits.get(latest, {})
        nodejs = next((d.nodejs[(key.namespace, p, key.container)] for p in reversed(pods)
                       if (key.namespace, p, key.container) in d.nodejs), None)
        if nodejs is None:
            nodejs = next((d.nodejs[(key.namespace, p, "")] for p in reversed(pods)
                           if (key.namespace, p, "") in d.nodejs and len(d.containers[(key.namespace, p)]) == 1),
                          None)
        return ContainerHistory(
            key=key,
            pods=pods,
            samples=samples,
            requests=Resources(req.get("cpu"), req.get("memory")),
            limits=Resources(lim.get("cpu"), lim.get("memory")),
            image=d.images.get(latest),
            events=sorted((e for cid in cids for e in events.get(cid, ())), key=lambda e: (e.time, e.pod)),
            nodejs_version=nodejs or None,
            init=latest in d.init,
        )

    def _container_id(self, labels: dict[str, str], d: _Discovery) -> ContainerId | None:
        ns, pod, container = labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", "")
        if container:
            return ns, pod, container
        # prom-client series scraped without a container label: attach to a single-container pod only
        known = d.containers.get((ns, pod), set())
        return (ns, pod, next(iter(known))) if len(known) == 1 else None

    def _points(self, series: Series) -> tuple[np.ndarray, np.ndarray]:
        return to_steps(series.times, series.values, self.start, self.options.step, self.n_steps)

    def _events(self, restarts: list[Series], reasons: list[Series], d: _Discovery
                ) -> dict[ContainerId, list[ContainerEvent]]:
        """Restarts from the counter's steps; the reason is the last-terminated reason right after."""
        reason_at: dict[ContainerId, list[tuple[np.ndarray, str]]] = defaultdict(list)
        for r in reasons:
            cid = self._container_id(r.labels, d)
            if cid is not None:
                idx, _ = self._points(r)
                reason_at[cid].append((idx, r.labels.get("reason", "")))
        out: dict[ContainerId, list[ContainerEvent]] = defaultdict(list)
        first = round((self._range("restarts")[0] - self.start) / self.options.step)  # the first step read
        for r in restarts:
            cid = self._container_id(r.labels, d)
            if cid is None:
                continue
            idx, vals = self._points(r)
            # a pod seen from the window's first step may have restarted before it: that is the baseline
            previous = float(vals[0]) if len(idx) and idx[0] == first else 0.0
            for i, v in zip(idx.tolist(), vals.tolist(), strict=True):
                count = round(v - previous)
                previous = max(previous, v)
                if i == first or count <= 0:
                    continue
                reason = next((name for steps, name in reason_at.get(cid, []) if i in set(steps.tolist())), "")
                t = self.start + i * self.options.step
                out[cid].extend(ContainerEvent(t, cid[1], reason) for _ in range(count))
        return out

    def _explain_empty(self) -> None:
        for metric, exporter in (("container_cpu_usage_seconds_total", "cAdvisor (the kubelet's /metrics/cadvisor)"),
                                 ("container_memory_working_set_bytes", "cAdvisor (the kubelet's /metrics/cadvisor)")):
            if not self.rows(q.metric_present(metric, self.lookback)):
                raise MissingMetricsError(f"no {metric} series in the window: Prometheus must scrape {exporter}")
        raise NoDataError(f"no container usage for the workloads matching {self.scope.describe()} "
                          f"between {_fmt(self.start)} and {_fmt(self.end)}")


def to_steps(times: np.ndarray, values: np.ndarray, start: float, step: float, n_steps: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(step indices, float32 values) of a range result's points on the grid.

    A timestamp off the grid (a skewed clock, a store that shifts evaluation times) goes to
    the nearest step; points outside the window are dropped, and of two points on one step
    the higher is kept, so a series holds at most one value per step.
    """
    times = np.asarray(times, dtype=np.float64)
    return _on_grid(np.zeros(len(times), dtype=np.int64), times, np.asarray(values), start, step, n_steps)


def _union(sorted_keys: list[np.ndarray]) -> np.ndarray:
    """The sorted union of sorted, duplicate-free key arrays (a merge, cheaper than hashing them again)."""
    if not sorted_keys:
        return np.zeros(0, dtype=np.int64)
    merged = np.sort(np.concatenate(sorted_keys), kind="stable")
    return merged[np.r_[True, merged[1:] != merged[:-1]]] if len(merged) else merged


def _place(rows: list[tuple[int, Series]], start: float, step: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(row keys ``pod * n_steps + step``, float32 values) of many series at once (``rows``: pod, series)."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows = sorted(rows, key=itemgetter(0))  # by pod: the keys come out sorted unless a pod has duplicates
    lengths = np.fromiter((len(series.times) for _, series in rows), dtype=np.int64, count=len(rows))
    pods = np.repeat(np.fromiter((pod for pod, _ in rows), dtype=np.int64, count=len(rows)), lengths)
    return _on_grid(pods, np.concatenate([series.times for _, series in rows]),
                    np.concatenate([series.values for _, series in rows]), start, step, n_steps)


def _on_grid(pods: np.ndarray, times: np.ndarray, values: np.ndarray, start: float, step: float, n_steps: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(sorted keys ``pod * n_steps + step``, float32 values): each point at its nearest step inside the
    window, the highest of the points on one step kept.

    Usage queries leave duplicate series to us (a container's cAdvisor series while it
    restarts, a target scraped by two jobs): ``max by`` on the server would cost Prometheus
    another pass over every step of every series, a third of its time.
    """
    idx = np.rint((times - start) / step).astype(np.int64)
    ok = (idx >= 0) & (idx < n_steps)
    keys = (pods * n_steps + idx)[ok]
    kept = values[ok].astype(np.float32)
    if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):  # sorted and distinct already, most often
        order = np.argsort(keys, kind="stable")
        keys, kept = keys[order], kept[order]
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        keys, kept = keys[first], np.fmax.reduceat(kept, first)  # fmax: NaN only where every point is NaN
    return keys, kept


def _workload_of(pod: PodId, kind: str, name: str, rs_owner: dict[PodId, tuple[str, str]],
                 job_owner: dict[PodId, tuple[str, str]]) -> tuple[str, str]:
    ns = pod[0]
    if kind == "ReplicaSet":
        owner_kind, owner_name = rs_owner.get((ns, name), ("", ""))
        return (owner_kind, owner_name) if owner_kind in ("Deployment", "Rollout") else ("ReplicaSet", name)
    if kind == "Job":
        owner_kind, owner_name = job_owner.get((ns, name), ("", ""))
        return ("CronJob", owner_name) if owner_kind == "CronJob" else ("Job", name)
    if kind in ("StatefulSet", "DaemonSet"):
        return kind, name
    return "Pod", pod[1]  # no controller ("<none>"), or a static pod owned by its Node


def _node(labels: dict[str, str], cluster: str = "") -> Node:
    """A node from kube_node_labels; named ``cluster/node`` when one store holds several clusters."""
    itype = labels.get("label_node_kubernetes_io_instance_type") or labels.get(
        "label_beta_kubernetes_io_instance_type") or None
    capacity = None
    karpenter = labels.get("label_karpenter_sh_capacity_type", "").lower()
    eks = labels.get("label_eks_amazonaws_com_capacity_type", "").upper()
    if karpenter in ("spot", "on-demand"):
        capacity = karpenter
    elif eks in ("SPOT", "ON_DEMAND"):
        capacity = "spot" if eks == "SPOT" else "on-demand"
    elif labels.get("label_cloud_google_com_gke_spot") == "true" or \
            labels.get("label_cloud_google_com_gke_preemptible") == "true" or labels.get("label_kubernetes_azure_com_scalesetpriority", "").lower() == "spot":
        capacity = "spot"
    name = labels.get("node", "")
    return Node(f"{cluster}/{name}" if cluster else name, itype, capacity)


def _fmt(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))
