"""Discovery: which pods existed in the window, who owns them, and their settings, from kube-state-metrics.

Instant queries at the window's end, looking back over the window: pod -> ReplicaSet ->
Deployment (Job -> CronJob...), containers, images, requests, limits, nodes, HPAs and
Node.js versions.  A handful of wide queries sent at once, never one per container.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any

from rightsizer.errors import MissingMetricsError, NoDataError, SourceError
from rightsizer.history import Hpa, Node, WorkloadKey
from rightsizer.scope import Scope
from rightsizer.sources import plausible
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient
from rightsizer.sources.prometheus.options import FetchOptions, Grid
from rightsizer.sources.prometheus.pool import query_pool, stop_on_failure

log = logging.getLogger(__name__)

#: marks a series-endpoint request among the prefetched instant queries
_SERIES = "series:"
PodId = tuple[str, str]  # (namespace, pod)
ContainerId = tuple[str, str, str]  # (namespace, pod, container)
Rows = Callable[[str], list[tuple[Any, ...]]]
Plan = dict[str, tuple[str, tuple[str, ...]]]  # name -> (query, labels kept)
#: the span of time the pod list is asked for at once, at most (see _pieces)
_POD_SPAN = 4 * 86_400


@dataclass
class Discovery:
    """What discovery found of one cluster's pods."""

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
    #: settings no container or HPA can have, left out and counted
    set_aside: plausible.SetAside = field(default_factory=plausible.SetAside)


class Reader:
    """Instant queries at the window's end for one cluster (``cluster`` is its value of
    ``options.cluster_label``, "" without one), sent several at once where a plan allows."""

    def __init__(self, client: PrometheusClient, options: FetchOptions, grid: Grid, cluster: str = ""):
        self.client = client
        self.options = options
        self.grid = grid
        self.cluster = cluster
        self.lookback = options.window + options.step
        self._prefetched: dict[tuple[str, tuple[str, ...]], Future[list[tuple[Any, ...]]]] = {}
        self._submitted: list[Future[list[tuple[Any, ...]]]] = []

    def matchers(self, namespaces: tuple[str, ...] = (), pods: tuple[str, ...] = ()) -> q.Matchers:
        label = self.options.cluster_label
        return q.Matchers(namespaces, pods, (label, self.cluster) if label else None)

    def rows(self, query: str, *labels: str) -> list[tuple[Any, ...]]:
        """``(label values..., value)`` of each series: what discovery keeps of an answer."""
        future = self._prefetched.pop((query, labels), None)
        return self._result(future) if future is not None else self.client.instant_rows(query, self.grid.end, labels)

    def _result(self, future: Future[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        """A prefetched answer; one cancelled because another query failed raises that query's failure."""
        try:
            return future.result()
        except CancelledError:
            failed = next(f for f in self._submitted if f.done() and not f.cancelled() and f.exception())
            raise failed.exception() from None  # type: ignore[misc]

    def _prefetch(self, queries: Sequence[tuple[str, tuple[str, ...]]],
                  series: Sequence[tuple[str, tuple[str, ...]]] = ()) -> None:
        """Send these instant queries, and these series-endpoint requests, at once (at most ``concurrency``
        in flight); :meth:`rows` and :meth:`plan` collect them.

        Each discovery query reads the whole window of a kube-state-metrics family: one
        after the other they add up to seconds that a second core can share.
        """
        end = self.grid.end
        with query_pool(self.client.settings.concurrency) as pool:
            self._prefetched = {(query, labels): pool.submit(self.client.instant_rows, query, end, labels)
                                for query, labels in queries}
            self._submitted = list(self._prefetched.values())
            for match, labels in series:  # a refused series request is read by query instead: never the end
                self._prefetched[(_SERIES + match, labels)] = pool.submit(
                    self.client.series_rows, match, end - self.lookback, end, labels)
            for future in self._submitted:  # a failed query is the plan's answer: those not started are cancelled
                stop_on_failure(pool, future)
            # leaving the block waits for those running; a failure surfaces when its answer is collected

    def plan(self, plan: Plan, labels_only: dict[str, str] | None = None) -> Rows:
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
                future = self._prefetched.pop((_SERIES + labels_only[name], labels))
                if future.cancelled():  # another query failed: that failure is the answer
                    return self._result(future)
                try:
                    return future.result()
                except SourceError as exc:
                    log.info("reading %s by query: the series endpoint answered: %s", labels_only[name], exc)
            return self.rows(query, *labels)

        return rows

    def no_owners(self) -> MissingMetricsError:
        return MissingMetricsError(
            f"no kube_pod_owner series between {fmt_time(self.grid.start)} and {fmt_time(self.grid.end)}: "
            "rightsizer discovers workloads from kube-state-metrics v2, so make sure Prometheus scrapes it "
            "(or check --end/--window)"
        )


def namespaces(reader: Reader, scope: Scope) -> list[str] | None:
    """The namespaces --namespace keeps; None without the flag (every namespace, no matcher needed)."""
    if scope.namespace is None:
        return None
    all_ns = sorted(ns for ns, _ in reader.rows(q.namespaces(reader.lookback, reader.matchers()), "namespace"))
    if not all_ns:
        raise reader.no_owners()
    chosen = [ns for ns in all_ns if scope.namespace_ok(ns)]
    if not chosen:
        shown = ", ".join(all_ns[:15]) + (" ..." if len(all_ns) > 15 else "")
        raise NoDataError(f"no namespace matches --namespace {scope.namespace!r}; namespaces with workloads: {shown}")
    return chosen


def discover(reader: Reader, namespaces: list[str] | None) -> Discovery:
    """Owners, settings, HPAs and nodes of the pods of these namespaces (None: every namespace)."""
    m = reader.matchers(tuple(namespaces or ()))
    w = reader.lookback
    needs = reader.options.needs
    d = Discovery()
    ns_pod = ("namespace", "pod")
    hpa = ("namespace", "horizontalpodautoscaler")
    # a consumer that reads each container's latest pod only has its settings read over the recent span
    # where every running workload's latest pod is; the others are read over the window below
    recent = w if needs.settings_within is None else min(w, needs.settings_within + reader.options.step)
    pieces = _pieces(w, reader.client.settings.concurrency)
    plan = {
        **{f"pods {i}": (q.pod_owners(m, w / pieces, i * w / pieces), (*ns_pod, "owner_kind", "owner_name"))
           for i in range(pieces)},
        "rs": (q.replicaset_owners(m, w), ("namespace", "replicaset", "owner_kind", "owner_name")),
        "jobs": (q.job_owners(m, w), ("namespace", "job_name", "owner_kind", "owner_name")),
        "hpa_targets": (q.hpa_targets(m, w), (*hpa, "metric_name", "metric_target_type")),
        "hpa_min": (q.hpa_replicas("min", m, w), hpa),
        "hpa_max": (q.hpa_replicas("max", m, w), hpa),
        "hpa_info": (q.hpa_info(m, w), (*hpa, "scaletargetref_kind", "scaletargetref_name")),
        "nodes": (q.node_labels(w, reader.matchers()), ("node", *q.NODE_LABELS)),
        **_settings_plan(m, recent, reader.options.nodejs_metric_prefix),
    }
    if needs.pod_nodes:
        plan["nodes_of_pods"] = (q.pod_nodes(m, w), (*ns_pod, "node"))
    owners = {"rs": q.selector("kube_replicaset_owner", m), "jobs": q.selector("kube_job_owner", m)}
    rows = reader.plan(plan, labels_only=owners)
    rs_owner = {(ns, rs): (kind, name) for ns, rs, kind, name, _ in rows("rs")}
    job_owner = {(ns, job): (kind, name) for ns, job, kind, name, _ in rows("jobs")}
    for i in range(pieces):  # the latest span first: a pod's latest owner is the one kept
        lived: dict[PodId, float] = {}
        for ns, pod, kind, name, samples in rows(f"pods {i}"):
            d.owners.setdefault((ns, pod), workload_of((ns, pod), kind, name, rs_owner, job_owner))
            lived[(ns, pod)] = max(lived.get((ns, pod), 0.0), samples)
        for pod, samples in lived.items():
            d.lived[pod] = d.lived.get(pod, 0.0) + samples
    if not d.owners:
        raise reader.no_owners()
    _settings(d, rows)
    if recent < w:
        _older_settings(reader, d, w)
    if "nodes_of_pods" in plan:
        for ns, pod, node, _ in rows("nodes_of_pods"):
            d.pod_nodes[(ns, pod)] = f"{reader.cluster}/{node}" if reader.cluster else node
    d.hpas = _hpas(rows, reader.cluster, d.set_aside)
    d.nodes = {n.name: n for n in (node_of(dict(zip(plan["nodes"][1], r[:-1], strict=True)), reader.cluster)
                                   for r in rows("nodes"))}
    return d


def _pieces(window: float, concurrency: int) -> int:
    """Into how many spans of time the pod list is asked for.

    It is discovery's longest query (it reads every kube_pod_owner sample of the window:
    6 of the 7 s discovery took at 1,000 containers), and Prometheus evaluates a query on
    one core: asked for in spans of a few days, evaluated side by side, it takes a fraction
    of that for the same work.
    """
    return max(1, min(concurrency, math.ceil(window / _POD_SPAN)))


def _settings_plan(m: q.Matchers, lookback: float, prefix: str) -> Plan:
    """The queries for each pod's containers, images, requests, limits and Node.js version."""
    container = ("namespace", "pod", "container")
    plan = {"nodejs": (q.nodejs_versions(m, lookback, prefix), (*container, "version"))}
    for init in (False, True):
        plan[f"info{init}"] = (q.container_info(m, lookback, init), (*container, "image"))
        for kind in ("requests", "limits"):
            plan[f"{kind}{init}"] = (q.resources(kind, m, lookback, init), (*container, "resource"))
    return plan


def _settings(d: Discovery, rows: Rows) -> None:
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
                if d.set_aside.keep(f"kube_pod_container_resource_{kind}", plausible.resource(resource, value),
                                    f"{ns}/{pod}/{name} {resource}", value):
                    target[(ns, pod, name)].setdefault(resource, value)
    for ns, pod, name, version, _ in rows("nodejs"):
        d.nodejs.setdefault((ns, pod, name), version)


def _older_settings(reader: Reader, d: Discovery, window: float) -> None:
    """Settings of the workloads none of whose pods ran in the recent span (a weekly CronJob, a finished Job),
    read over the whole window for their pods only."""
    recent = {(ns, pod) for ns, pod, _ in d.images}
    by_workload: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for (ns, pod), (kind, name) in d.owners.items():
        by_workload[(ns, kind, name)].append(pod)
    older: dict[str, list[str]] = defaultdict(list)
    for (ns, _, _), pods in by_workload.items():
        if not any((ns, pod) in recent for pod in pods):
            older[ns].extend(pods)
    size = reader.options.batch_pods
    for ns, pods in sorted(older.items()):
        for i in range(0, len(pods), size):
            chunk = tuple(sorted(pods[i : i + size]))
            plan = _settings_plan(reader.matchers((ns,), chunk), window, reader.options.nodejs_metric_prefix)
            _settings(d, reader.plan(plan))


def _hpas(rows: Rows, cluster: str, set_aside: plausible.SetAside) -> dict[WorkloadKey, Hpa]:
    targets: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for ns, name, metric, kind, value in rows("hpa_targets"):
        if kind == "utilization" and metric in ("cpu", "memory") and set_aside.keep(
                "kube_horizontalpodautoscaler_spec_target_metric", plausible.utilization(value),
                f"{ns}/{name} {metric}", value):
            targets[(ns, name)][metric] = value
    bounds = {bound: {(ns, name): int(value) for ns, name, value in rows(f"hpa_{bound}")
                      if set_aside.keep(f"kube_horizontalpodautoscaler_spec_{bound}_replicas",
                                        plausible.replicas(value), f"{ns}/{name}", value)}
              for bound in ("min", "max")}
    hpas: dict[WorkloadKey, Hpa] = {}
    for ns, name, kind, target, _ in rows("hpa_info"):
        key = WorkloadKey(ns, kind, target, cluster)
        hid = (ns, name)
        hpas[key] = Hpa(name, bounds["min"].get(hid), bounds["max"].get(hid), dict(targets.get(hid, {})))
    return hpas


def select(reader: Reader, scope: Scope, d: Discovery) -> dict[str, list[str]]:
    """Pods in scope, by namespace."""
    allowed: set[PodId] | None = None
    if scope.selector:
        matchers = q.selector_matchers(scope.selector)
        namespaces = tuple(sorted({ns for ns, _ in d.owners}))
        found = reader.rows(q.pod_labels(matchers, reader.matchers(namespaces), reader.lookback), "namespace", "pod")
        allowed = {(ns, pod) for ns, pod, _ in found}
        if not allowed:
            raise NoDataError(
                f"no pod matches --selector {scope.selector!r}. Pod labels come from kube-state-metrics' "
                "kube_pod_labels, which exports only labels on its --metric-labels-allowlist "
                "(e.g. pods=[app,app.kubernetes.io/name])"
            )
    by_ns: dict[str, list[str]] = defaultdict(list)
    for (ns, pod), (kind, name) in d.owners.items():
        if (allowed is None or (ns, pod) in allowed) and scope.workload_ok(kind, name):
            by_ns[ns].append(pod)
    if not by_ns:
        raise NoDataError(f"no workload matches {scope.describe()} between {fmt_time(reader.grid.start)} "
                          f"and {fmt_time(reader.grid.end)}")
    return dict(by_ns)


def workload_of(pod: PodId, kind: str, name: str, rs_owner: dict[PodId, tuple[str, str]],
                job_owner: dict[PodId, tuple[str, str]]) -> tuple[str, str]:
    """The workload (kind, name) a pod belongs to, following its owner's owner."""
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


def node_of(labels: dict[str, str], cluster: str = "") -> Node:
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
            labels.get("label_cloud_google_com_gke_preemptible") == "true" or \
            labels.get("label_kubernetes_azure_com_scalesetpriority", "").lower() == "spot":
        capacity = "spot"
    name = labels.get("node", "")
    return Node(f"{cluster}/{name}" if cluster else name, itype, capacity)


def fmt_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))
