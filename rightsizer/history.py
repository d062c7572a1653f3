"""The data model every source fills and every consumer reads.

A recommendation is made per *workload container* (``ContainerKey``): the samples of
all pods of a workload, old ReplicaSets included, are pooled as the VPA does, because
a Deployment's next pod is sized from what all its previous pods needed.

Usage is kept in long form, one row per (pod, step): a workload with three replicas
that rolled out twice holds three pods' worth of rows, not nine sparse columns.
Per-step views across pods (the hottest pod, the replica count) are derived on demand.
Samples are float32: usage needs no more precision, and it halves the memory a large
cluster takes.

Sample ``i`` of a history describes the interval ``(start + (i-1)*step, start + i*step]``
and is stamped with its end time, as a Prometheus range query evaluated at
``start + i*step`` reports it.

CPU is kept at two resolutions: the step's mean rate (``cpu``), and the rate over the
step's last scrape interval (``cpu_scrape``).  A request must cover demand at the
resolution the cluster is scraped at, and a 5-minute mean hides the minutes above it; one
scrape interval per step is a sample of those minutes, one in every step's worth, at the
step's cost, and its percentiles are those of every scrape interval's rate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from rightsizer.units import HOUR

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: at the top, every command's start-up
    import pandas as pd  # would take a second longer

_NODE_IMAGE = re.compile(r"(^|/)node(js)?(:|@|$)")


def is_node_image(image: str | None) -> bool:
    """An official-style Node.js image (``node:20``, ``docker.io/library/node@sha256:...``)."""
    return bool(image and _NODE_IMAGE.search(image))

#: The usage columns of a sample table; NaN where a metric does not exist for a container.
SERIES = (
    "cpu",  # cores, average over the step
    "memory",  # working-set bytes, peak within the step
    "throttled",  # throttled CFS periods / CFS periods in the step; only with a CPU limit
    "heap_used",  # Node.js V8 heap used, bytes, peak within the step
    "heap_total",  # Node.js V8 heap committed, bytes, peak within the step
    "rss",  # process resident set size of a Node.js process, bytes, peak within the step
    "cpu_scrape",  # cores, the rate over the step's last scrape interval (a sample of CPU at that resolution)
)

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Rollout", "Pod")


@dataclass(frozen=True, order=True)
class WorkloadKey:
    """A workload: what a recommendation is applied to (a Deployment, a CronJob...)."""

    namespace: str
    kind: str
    name: str
    cluster: str = ""

    def __str__(self) -> str:
        prefix = f"{self.cluster}:" if self.cluster else ""
        return f"{prefix}{self.namespace}/{self.kind}/{self.name}"


def step_hours(steps: np.ndarray, start: float, step: float) -> np.ndarray:
    """The UTC hour number of each step of the grid stamped ``start + i * step``.  A step is stamped with its
    end, so its hour (and day) is the one its interval begins in: an hourly peak stamped at the hour and the
    5-minute peaks within that hour fall in the same hour."""
    return np.floor((start + step * (np.asarray(steps, dtype=np.float64) - 1.0)) / HOUR).astype(np.int64)


@dataclass(frozen=True, order=True)
class ContainerKey:
    """One container of a workload; all its pods share the recommendation."""

    namespace: str
    kind: str
    workload: str
    container: str
    cluster: str = ""

    @property
    def workload_key(self) -> WorkloadKey:
        return WorkloadKey(self.namespace, self.kind, self.workload, self.cluster)

    def __str__(self) -> str:
        return f"{self.workload_key}/{self.container}"


@dataclass(frozen=True)
class Resources:
    """CPU in cores and memory in bytes; None where the manifest sets nothing."""

    cpu: float | None = None
    memory: float | None = None


@dataclass(frozen=True)
class ContainerEvent:
    """A container restart seen in the window (``reason`` is kube-state-metrics' last terminated reason)."""

    time: float  # unix seconds, end of the step in which the restart was seen
    pod: str
    reason: str  # "OOMKilled", "Error", "Completed", ... or "" when unknown


@dataclass(frozen=True)
class Hpa:
    """A HorizontalPodAutoscaler targeting the workload."""

    name: str
    min_replicas: int | None
    max_replicas: int | None
    #: resource name ("cpu", "memory") -> target average utilization in percent of the request
    utilization_targets: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    name: str
    instance_type: str | None = None
    capacity_type: str | None = None  # "spot" or "on-demand", None when kube-state-metrics does not say


@dataclass
class Workload:
    key: WorkloadKey
    hpa: Hpa | None = None


@dataclass
class Samples:
    """Usage rows of one workload container, sorted by (pod, step)."""

    pod: np.ndarray  # int32 index into ContainerHistory.pods
    step: np.ndarray  # int32 index into the history's time grid
    values: dict[str, np.ndarray]  # SERIES name -> float32 array, same length as pod

    def __post_init__(self) -> None:
        n = len(self.pod)
        missing = [s for s in SERIES if s not in self.values]
        for name in missing:
            self.values[name] = np.full(n, np.nan, dtype=np.float32)
        for name, column in self.values.items():
            if name not in SERIES:
                raise ValueError(f"unknown series {name!r}")
            if len(column) != n:
                raise ValueError(f"series {name!r} has {len(column)} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.pod)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def has(self, name: str) -> bool:
        """True when the metric was exported for at least one sample."""
        return bool(np.isfinite(self.values[name]).any())

    @classmethod
    def from_rows(cls, pod: np.ndarray, step: np.ndarray, values: Mapping[str, np.ndarray]) -> Samples:
        """Build sorted, typed samples from unsorted rows."""
        pod = np.asarray(pod, dtype=np.int32)
        step = np.asarray(step, dtype=np.int32)
        order = np.lexsort((step, pod))
        cols = {k: np.asarray(v, dtype=np.float32)[order] for k, v in values.items()}
        return cls(pod[order], step[order], cols)


@dataclass
class ContainerHistory:
    """Everything known about one workload container over the window."""

    key: ContainerKey
    pods: list[str]
    samples: Samples
    requests: Resources = field(default_factory=Resources)
    limits: Resources = field(default_factory=Resources)
    image: str | None = None
    events: list[ContainerEvent] = field(default_factory=list)
    nodejs_version: str | None = None
    init: bool = False  # an init container: runs to completion before the others start

    @property
    def oom_kills(self) -> list[ContainerEvent]:
        return [e for e in self.events if e.reason == "OOMKilled"]

    @property
    def restarts(self) -> int:
        return len(self.events)

    @property
    def is_nodejs(self) -> bool:
        """prom-client's metrics say so, or the image is an official-style Node.js one (``node:20``...)."""
        return (self.nodejs_version is not None or self.samples.has("heap_used")
                or is_node_image(self.image))

    @property
    def active_steps(self) -> np.ndarray:
        """Steps (one row per pod) where the container ran: those with a CPU rate at the scrape interval (the
        step's mean in a history without it).

        CPU is read at every step; working-set peaks may come per hour, and a peak over
        an hour is reported at the hour's end even when the pod stopped minutes into it,
        so rows holding only memory do not say the container was running.  The step's
        mean, over a longer window, also reaches the step after a pod stopped: counting
        one rate only, a history fetched with the mean and one without agree.
        """
        cpu = np.isfinite(self.cpu_at_scrape)
        return self.samples.step[cpu] if cpu.any() else self.samples.step

    @property
    def cpu_at_scrape(self) -> np.ndarray:
        """CPU at the finest resolution the history holds, a sample per row: the rate over the step's last
        scrape interval (``cpu_scrape``), or the step's mean where no source measured that (an older
        snapshot)."""
        return self.samples["cpu_scrape"] if self.samples.has("cpu_scrape") else self.samples["cpu"]

    def pods_per_step(self, n_steps: int) -> np.ndarray:
        """How many pods ran at each step: the replicas."""
        return np.bincount(self.active_steps, minlength=n_steps).astype(np.float32)

    def hourly_peaks(self, names: tuple[str, ...], start: float, step: float) -> tuple[np.ndarray, ...]:
        """Each pod's peak of each hour, for each of ``names``, aligned (NaN where a series has no point in
        that pod-hour), on the grid stamped ``start + i * step``.

        The heap rules read these rather than per-step peaks: Prometheus then sends one
        peak an hour instead of twelve, and a history of 5-minute peaks (a snapshot) and
        one of hourly peaks give the same hours.
        """
        hour = step_hours(self.samples.step, start, step)
        group = self.samples.pod.astype(np.int64) * (int(hour.max()) + 1 if len(hour) else 1) + hour
        cells, index = np.unique(group, return_inverse=True)
        out = []
        for name in names:
            peaks = np.full(len(cells), np.nan)
            np.fmax.at(peaks, index, self.samples[name].astype(np.float64))  # fmax: a NaN point is no point
            out.append(peaks)
        return tuple(out)

    def per_step(self, series: str, n_steps: int, how: str = "max") -> np.ndarray:
        """One value per step across pods: ``max`` (the hottest pod), ``sum`` or ``count``.

        Steps where no pod reported are NaN (``count`` gives 0).
        """
        values = self.samples[series]
        ok = np.isfinite(values)
        steps = self.samples.step[ok]
        if how == "count":
            return np.bincount(steps, minlength=n_steps).astype(np.float32)
        out = np.full(n_steps, -np.inf if how == "max" else 0.0, dtype=np.float64)
        # the values cast first: ``ufunc.at`` into another dtype takes numpy's slow path (40 times slower)
        picked = values[ok].astype(np.float64)
        if how == "max":
            np.maximum.at(out, steps, picked)
        elif how == "sum":
            np.add.at(out, steps, picked)
        else:
            raise ValueError(f"unknown aggregation {how!r}")
        seen = np.bincount(steps, minlength=n_steps) > 0
        out[~seen] = np.nan
        return out.astype(np.float32)


@dataclass
class ClusterHistory:
    """Usage and metadata of a set of workload containers on one time grid."""

    start: float  # unix seconds of step 0
    step: float  # seconds between samples
    n_steps: int
    containers: dict[ContainerKey, ContainerHistory]
    workloads: dict[WorkloadKey, Workload] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    #: (namespace, pod) -> node name, where kube_pod_info says
    pod_nodes: dict[tuple[str, str], str] = field(default_factory=dict)
    source: str = ""
    #: namespaces or workloads that could not be read, with the reason (a partial result)
    missing: dict[str, str] = field(default_factory=dict)
    #: seconds between cAdvisor's scrapes: the resolution of ``cpu_scrape`` (None: not measured)
    scrape_interval: float | None = None

    @property
    def end(self) -> float:
        return self.start + (self.n_steps - 1) * self.step

    @property
    def times(self) -> pd.DatetimeIndex:
        """The time grid as UTC timestamps (end of each step)."""
        import pandas as pd
        return pd.to_datetime(self.start + self.step * np.arange(self.n_steps), unit="s", utc=True)

    def __iter__(self) -> Iterator[ContainerHistory]:
        return iter(self.containers[k] for k in sorted(self.containers))

    def __len__(self) -> int:
        return len(self.containers)

    def __getitem__(self, key: ContainerKey) -> ContainerHistory:
        return self.containers[key]

    def describe_window(self) -> str:
        fmt = "%Y-%m-%d %H:%M"
        start = datetime.fromtimestamp(self.start, UTC).strftime(fmt)
        end = datetime.fromtimestamp(self.end, UTC).strftime(fmt)
        scrape = f", cpu at {int(self.scrape_interval)}s" if self.scrape_interval else ""
        return f"{start} to {end} UTC, step {int(self.step)}s{scrape}"

    @classmethod
    def combine(cls, parts: Iterable[ClusterHistory]) -> ClusterHistory:
        """One history of parts read on the same grid (batches of a large cluster)."""
        parts = list(parts)
        if not parts:
            raise ValueError("no parts to combine")
        first = parts[0]
        out = cls(first.start, first.step, first.n_steps, {}, {}, {}, {}, first.source, {}, first.scrape_interval)
        for part in parts:
            if (part.start, part.step, part.n_steps) != (first.start, first.step, first.n_steps):
                raise ValueError("parts on different time grids")
            out.containers.update(part.containers)
            out.workloads.update(part.workloads)
            out.nodes.update(part.nodes)
            out.pod_nodes.update(part.pod_nodes)
            out.missing.update(part.missing)
        return out

    def filter(self, keep: Iterable[ContainerKey]) -> ClusterHistory:
        """A history holding only the given containers (and their workloads)."""
        wanted = set(keep)
        containers = {k: v for k, v in self.containers.items() if k in wanted}
        workload_keys = {k.workload_key for k in containers}
        return ClusterHistory(
            start=self.start,
            step=self.step,
            n_steps=self.n_steps,
            containers=containers,
            workloads={k: v for k, v in self.workloads.items() if k in workload_keys},
            nodes=self.nodes,
            pod_nodes=self.pod_nodes,
            source=self.source,
            missing=self.missing,
            scrape_interval=self.scrape_interval,
        )

    def window(self, first: int, stop: int) -> ClusterHistory:
        """The steps ``first`` (inclusive) to ``stop`` (exclusive), re-indexed from 0; pods without samples
        there are left out, and containers without any."""
        containers: dict[ContainerKey, ContainerHistory] = {}
        t0, t1 = self.start + first * self.step, self.start + (stop - 1) * self.step
        for key, ch in self.containers.items():
            keep = (ch.samples.step >= first) & (ch.samples.step < stop)
            if not keep.any():
                continue
            used = np.unique(ch.samples.pod[keep])
            remap = np.full(len(ch.pods), -1, dtype=np.int32)
            remap[used] = np.arange(len(used), dtype=np.int32)
            samples = Samples(remap[ch.samples.pod[keep]], ch.samples.step[keep] - first,
                              {k: v[keep] for k, v in ch.samples.values.items()})
            containers[key] = replace(
                ch, pods=[ch.pods[i] for i in used], samples=samples,
                events=[e for e in ch.events if t0 <= e.time <= t1],
            )
        return replace(self, start=t0, n_steps=stop - first, containers=containers,
                       workloads={k: v for k, v in self.workloads.items() if any(
                           c.workload_key == k for c in containers)})

    def to_frame(self) -> pd.DataFrame:
        """All samples as one long DataFrame (one row per container, pod and step), for notebooks."""
        import pandas as pd
        frames = []
        for ch in self:
            frame = pd.DataFrame({name: ch.samples[name] for name in SERIES})
            frame.insert(0, "time", pd.to_datetime(self.start + self.step * ch.samples.step, unit="s", utc=True))
            frame.insert(0, "pod", np.asarray(ch.pods, dtype=object)[ch.samples.pod])
            for i, (col, value) in enumerate(_key_columns(ch.key).items()):
                frame.insert(i, col, value)
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=[*_key_columns(None), "pod", "time", *SERIES])
        return pd.concat(frames, ignore_index=True)

    def containers_frame(self) -> pd.DataFrame:
        """One row per workload container with its current settings and event counts."""
        import pandas as pd
        rows = []
        for ch in self:
            wl = self.workloads.get(ch.key.workload_key)
            rows.append(
                {
                    **_key_columns(ch.key),
                    "pods": len(ch.pods),
                    "samples": len(ch.samples),
                    "cpu_request": ch.requests.cpu,
                    "cpu_limit": ch.limits.cpu,
                    "memory_request": ch.requests.memory,
                    "memory_limit": ch.limits.memory,
                    "image": ch.image,
                    "restarts": ch.restarts,
                    "oom_kills": len(ch.oom_kills),
                    "nodejs_version": ch.nodejs_version,
                    "init": ch.init,
                    "hpa": wl.hpa.name if wl and wl.hpa else None,
                }
            )
        return pd.DataFrame(rows)


def _key_columns(key: ContainerKey | None) -> dict[str, str]:
    if key is None:
        return dict.fromkeys(("cluster", "namespace", "kind", "workload", "container"), "")
    return {
        "cluster": key.cluster,
        "namespace": key.namespace,
        "kind": key.kind,
        "workload": key.workload,
        "container": key.container,
    }
