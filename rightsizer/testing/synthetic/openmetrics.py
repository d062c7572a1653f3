"""Write a simulated cluster as OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``.

Metric names and labels are the ones a real cluster's scrape gives: cAdvisor through the
kubelet (with the pod-level ``container=""`` and pause ``container="POD"`` series a
source must ignore, and the occasional duplicate series of a restarting container),
kube-state-metrics v2, and prom-client's default Node.js metrics.

promtool wants each metric family contiguous and each series in time order, so every
family is streamed to its own temporary file and the files are joined at the end; a
workload's samples never have to be held all at once.  A large cluster is written in
time slices (``scrapes``), each a complete file of its own, so the text of 14 days of
thousands of containers (hundreds of GB) never has to be on disk at once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np

from rightsizer.testing.synthetic.simulate import CFS_PERIODS_PER_SECOND, WorkloadRun
from rightsizer.testing.synthetic.spec import ClusterSpec, ContainerSpec

COUNTERS = {
    "container_cpu_usage_seconds",
    "container_cpu_cfs_periods",
    "container_cpu_cfs_throttled_periods",
    "kube_pod_container_status_restarts",
}


def _labels(**labels: str) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Families:
    """One temporary file per metric family, joined into the final file by :meth:`finish`."""

    def __init__(self, directory: Path, times: list[str], exclude: frozenset[str], scrapes: tuple[int, int],
                 external: str = ""):
        self._dir = directory
        self.external = external  # labels every series carries, as a central store adds them
        self._files: dict[str, IO[str]] = {}
        self.times = times
        self.exclude = exclude
        self.first, self.stop = scrapes  # only scrapes in [first, stop) are written
        self.samples = 0

    def _file(self, family: str) -> IO[str]:
        if family not in self._files:
            self._files[family] = open(self._dir / family, "w", buffering=1 << 20)  # noqa: SIM115
        return self._files[family]

    def series(self, family: str, labels: str, start: int, values: Iterable[float] | np.ndarray, fmt: str) -> None:
        """One series: ``values`` at scrapes ``start, start+1, ...``."""
        if family in self.exclude:
            return
        name = f"{family}_total" if family in COUNTERS else family
        prefix = f"{name}{{{self.external}{labels}}} "
        vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
        first, stop = max(start, self.first), min(start + len(vals), self.stop)
        if stop <= first:
            return
        vals = vals[first - start : stop - start]
        times = self.times[first:stop]
        self._file(family).write("".join([f"{prefix}{v:{fmt}} {t}\n" for v, t in zip(vals, times, strict=True)]))
        self.samples += len(vals)

    def constant(self, family: str, labels: str, start: int, end: int, value: float = 1) -> None:
        prefix = f"{family}{{{self.external}{labels}}} {value:.17g} "
        times = self.times[max(start, self.first) : min(end, self.stop)]
        if times and family not in self.exclude:
            self._file(family).write(prefix + ("\n" + prefix).join(times) + "\n")
            self.samples += len(times)

    def finish(self, out: IO[str]) -> None:
        for family, fh in sorted(self._files.items()):
            fh.close()
            kind = "counter" if family in COUNTERS else "gauge"
            out.write(f"# TYPE {family} {kind}\n")
            with open(self._dir / family) as src:
                shutil.copyfileobj(src, out, 1 << 20)
        out.write("# EOF\n")


def write(spec: ClusterSpec, runs: Iterable[WorkloadRun], path: Path, exclude: frozenset[str] = frozenset(),
          scrapes: tuple[int, int] | None = None, external: tuple[str, str] | None = None) -> int:
    """Write the runs to ``path`` atomically; returns the number of samples.

    ``exclude`` names metric families to leave out, to play a cluster missing an exporter;
    ``scrapes`` (first, stop) writes only the scrapes with those indices (a time slice);
    ``external`` (name, value) is a label on every series, as Thanos, Mimir or a
    remote-write setup adds to tell clusters apart.
    """
    path = Path(path)
    times = [str(int(spec.start + i * spec.scrape_interval)) for i in range(spec.n_scrapes)]
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".openmetrics-") as tmp:
        families = _Families(Path(tmp), times, exclude, scrapes or (0, spec.n_scrapes),
                             f"{_labels(**{external[0]: external[1]})}," if external else "")
        for node in spec.nodes:
            label = ("label_karpenter_sh_capacity_type", node.capacity_type)
            if node.label_style == "eks":
                label = ("label_eks_amazonaws_com_capacity_type", node.capacity_type.upper().replace("-", "_"))
            families.constant("kube_node_labels", _labels(
                job="kube-state-metrics", node=node.name,
                label_node_kubernetes_io_instance_type=node.instance_type, **{label[0]: label[1]},
            ), 0, spec.n_scrapes)
        for run in runs:
            _write_workload(families, spec, run)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "w", buffering=1 << 20) as out:
            families.finish(out)
        os.replace(partial, path)
        return families.samples


def _write_workload(f: _Families, spec: ClusterSpec, run: WorkloadRun) -> None:
    w = run.spec
    ksm = {"job": "kube-state-metrics"}
    end_all = spec.n_scrapes
    for owned, (owner_kind, owner_name) in sorted(run.owners.items()):
        if owner_kind == "Deployment":
            f.constant("kube_replicaset_owner", _labels(**ksm, namespace=w.namespace, replicaset=owned,
                       owner_kind=owner_kind, owner_name=owner_name, owner_is_controller="true"), 0, end_all)
        else:  # a finished Job is kept a while (history limit), then deleted with its series
            pods = [p for p in run.pods if p.owner_name == owned]
            if pods:
                first, last = min(p.start for p in pods), max(p.end for p in pods)
                keep = int(3600 / spec.scrape_interval)
                f.constant("kube_job_owner", _labels(**ksm, namespace=w.namespace, job_name=owned,
                           owner_kind=owner_kind, owner_name=owner_name, owner_is_controller="true"),
                           first, min(end_all, last + keep))
    if w.hpa is not None:
        hpa = {**ksm, "namespace": w.namespace, "horizontalpodautoscaler": w.name}
        f.constant("kube_horizontalpodautoscaler_info", _labels(**hpa, scaletargetref_api_version="apps/v1",
                   scaletargetref_kind=w.kind, scaletargetref_name=w.name), 0, end_all)
        f.constant("kube_horizontalpodautoscaler_spec_target_metric", _labels(**hpa, metric_name="cpu",
                   metric_target_type="utilization"), 0, end_all, w.hpa.cpu_utilization)
        f.constant("kube_horizontalpodautoscaler_spec_min_replicas", _labels(**hpa), 0, end_all, w.hpa.min_replicas)
        f.constant("kube_horizontalpodautoscaler_spec_max_replicas", _labels(**hpa), 0, end_all, w.hpa.max_replicas)

    by_pod: dict[int, list] = {}
    for c in run.containers:
        by_pod.setdefault(c.pod, []).append(c)
    for p_index, pod in enumerate(run.pods):
        s, e = pod.start, pod.end
        pod_ids = {"namespace": w.namespace, "pod": pod.name}
        f.constant("kube_pod_owner", _labels(**ksm, **pod_ids, uid=pod.uid, owner_kind=pod.owner_kind,
                   owner_name=pod.owner_name, owner_is_controller="true"), s, e)
        f.constant("kube_pod_info", _labels(**ksm, **pod_ids, uid=pod.uid, node=pod.node,
                   created_by_kind=pod.owner_kind, created_by_name=pod.owner_name), s, e)
        # pod labels on kube-state-metrics' allowlist: app and app.kubernetes.io/part-of
        f.constant("kube_pod_labels", _labels(**ksm, **pod_ids, uid=pod.uid, label_app=w.name,
                   label_app_kubernetes_io_part_of=w.namespace), s, e)
        cgroup = f"/kubepods/burstable/pod{pod.uid}"
        kubelet = {"job": "kubelet", "metrics_path": "/metrics/cadvisor", "node": pod.node}
        containers = by_pod.get(p_index, [])
        for i, c in enumerate(containers):
            cs = c.spec
            ids = {**pod_ids, "container": cs.name}
            cad = _labels(**kubelet, **ids, id=f"{cgroup}/{cs.name}", image=cs.image)
            counter = _restart_aware_cumsum(c.cpu_usage * spec.scrape_interval, c.restarts)
            f.series("container_cpu_usage_seconds", cad, c.start, counter, ".4f")
            f.series("container_memory_working_set_bytes", cad, c.start, c.working_set, ".0f")
            ksm_c = {**ksm, **ids, "uid": pod.uid}
            if cs.init_minutes is not None:  # kube-state-metrics keeps init containers in their own families
                f.constant("kube_pod_init_container_info", _labels(**ksm_c, image=cs.image), s, e)
                _resources(f, "kube_pod_init_container", ksm_c, cs, s, e)
                continue
            if p_index % 5 == 0 and i == 0 and e - s > 40:  # a restarting container's short-lived twin series
                dup = _labels(**kubelet, **ids, id=f"{cgroup}/{cs.name}-old", image=cs.image)
                f.series("container_cpu_usage_seconds", dup, s, counter[:20], ".4f")
                f.series("container_memory_working_set_bytes", dup, s, c.working_set[:20], ".0f")
            if c.throttled_ratio is not None:
                periods = np.full(e - s, CFS_PERIODS_PER_SECOND * spec.scrape_interval, dtype=np.float64)
                f.series("container_cpu_cfs_periods", cad, s, _restart_aware_cumsum(periods, c.restarts), ".0f")
                f.series("container_cpu_cfs_throttled_periods", cad, s,
                         _restart_aware_cumsum(np.round(periods * c.throttled_ratio), c.restarts), ".0f")
            f.constant("kube_pod_container_info", _labels(**ksm_c, image=cs.image,
                       container_id=f"containerd://{pod.uid}{i}"), s, e)
            _resources(f, "kube_pod_container", {**ksm_c, "node": pod.node}, cs, s, e)
            f.series("kube_pod_container_status_restarts", _labels(**ksm_c), s, c.restarts, "d")
            if c.oom_kills:
                f.constant("kube_pod_container_status_last_terminated_reason",
                           _labels(**ksm_c, reason="OOMKilled"), s + c.oom_kills[0], e)
            if cs.nodejs is not None:
                app = {"job": "kubernetes-pods", **ids, "instance": f"{pod.name}:9464"}
                f.series("nodejs_heap_size_used_bytes", _labels(**app), s, c.heap_used, ".0f")
                f.series("nodejs_heap_size_total_bytes", _labels(**app), s, c.heap_total, ".0f")
                f.series("process_resident_memory_bytes", _labels(**app), s, c.rss, ".0f")
                major, minor, patch = cs.nodejs.version.split(".")
                f.constant("nodejs_version_info", _labels(**app, version=f"v{cs.nodejs.version}", major=major,
                           minor=minor, patch=patch), s, e)
        running = [c for c in containers if c.spec.init_minutes is None]
        if running:  # the pod cgroup and the pause container: a source must leave both out
            total_cpu = np.cumsum(sum(c.cpu_usage for c in running) * spec.scrape_interval)
            total_mem = sum(c.working_set for c in running)
            pod_level = _labels(**kubelet, **pod_ids, container="", id=cgroup, image="")
            f.series("container_cpu_usage_seconds", pod_level, s, total_cpu, ".4f")
            f.series("container_memory_working_set_bytes", pod_level, s, total_mem, ".0f")
            pause = _labels(**kubelet, **pod_ids, container="POD", id=f"{cgroup}/pause",
                            image="registry.k8s.io/pause:3.9")
            f.series("container_cpu_usage_seconds", pause, s, np.arange(e - s) * 0.001, ".4f")
            f.constant("container_memory_working_set_bytes", pause, s, e, 745472)


def _resources(f: _Families, family: str, labels: dict[str, str], cs: ContainerSpec, start: int, end: int) -> None:
    """kube-state-metrics' ``<family>_resource_requests`` and ``_limits``, for what the container sets."""
    for kind, resource, value in (("requests", "cpu", cs.cpu_request), ("requests", "memory", cs.memory_request),
                                  ("limits", "cpu", cs.cpu_limit), ("limits", "memory", cs.memory_limit)):
        if value is not None:
            unit = "core" if resource == "cpu" else "byte"
            f.constant(f"{family}_resource_{kind}", _labels(**labels, resource=resource, unit=unit), start, end, value)


def _restart_aware_cumsum(increments: np.ndarray, restarts: np.ndarray) -> np.ndarray:
    """A cAdvisor counter: cumulative, starting again from zero when the container restarts."""
    total = np.cumsum(increments)
    restart_at = np.flatnonzero(np.diff(restarts)) + 1
    for at in restart_at:
        total[at:] -= total[at - 1]
    return total
