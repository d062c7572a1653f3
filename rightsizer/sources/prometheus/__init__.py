"""Read a ClusterHistory from a Prometheus-compatible API, using kube-state-metrics alone for discovery.

The flow, each step a handful of wide queries rather than one per container, each step a
module:

1. ``discovery`` (instant queries at the window's end, looking back over the window): which
   pods existed, who owns them (pod -> ReplicaSet -> Deployment, Job -> CronJob...),
   their containers, images, requests, limits, nodes, HPAs and Node.js versions;
2. ``batches`` (pure): which pods are read together, whole workloads at a time;
3. ``pipeline``: each batch's range queries at the step (CPU rate, working-set peaks,
   throttling, Node.js heap and RSS, restarts) with bounded concurrency and a look-ahead;
4. ``assembly`` (pure): one ContainerHistory per workload container, pooling all its pods.

``fetch`` runs them for one cluster; this module runs them for every cluster of a store.
What is read at which resolution follows ``FetchOptions.needs``, which the consumer states
(a strategy's ``needs``): the source never guesses what a rule reads.

A batch that still fails after the client's retries is reported in
``ClusterHistory.missing`` and the rest of the cluster is returned: one sick namespace
does not sink a weekly run.  Missing exporters are named, with what provides them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from rightsizer.errors import MissingMetricsError, NoDataError, RightsizerError, SourceError
from rightsizer.history import ClusterHistory
from rightsizer.scope import Scope
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.prometheus.assembly import to_steps
from rightsizer.sources.prometheus.batches import MIN_POD_SHARE
from rightsizer.sources.prometheus.fetch import ClusterFetch
from rightsizer.sources.prometheus.options import FetchOptions, Progress
from rightsizer.sources.prometheus.span import fit_window

log = logging.getLogger(__name__)


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
    options = fit_window(client, options)
    if options.cluster_label is None:
        yield from ClusterFetch(client, options, scope, progress).parts()
        return
    label = options.cluster_label
    probe = ClusterFetch(client, options, scope, progress)  # the window's grid and queries, before any cluster
    found = sorted({cluster for cluster, _ in probe.reader.rows(q.clusters(label, probe.reader.lookback), label)})
    if not found or found == [""]:
        raise MissingMetricsError(f"no kube_pod_owner series carries the label {label!r}: check --cluster-label "
                                  "(the external label your Thanos, Mimir or remote-write setup adds, e.g. cluster)")
    chosen = [c for c in found if c and scope.cluster_ok(c)]
    if not chosen:
        raise NoDataError(f"no cluster matches --cluster {scope.cluster!r}; clusters: {', '.join(found)}")
    errors: list[RightsizerError] = []
    for cluster in chosen:
        try:
            yield from ClusterFetch(client, options, scope, progress, cluster).parts()
        except NoDataError as exc:
            errors.append(exc)
            log.info("cluster %s: %s", cluster, exc)
        except SourceError as exc:
            errors.append(exc)
            yield probe.empty({f"cluster {cluster}": str(exc)})
    if len(errors) == len(chosen):
        raise errors[0]


__all__ = ["MIN_POD_SHARE", "FetchOptions", "Progress", "iter_prometheus_history", "load_prometheus_history",
           "to_steps"]
