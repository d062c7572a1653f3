"""A seeded synthetic cluster that knows its ground truth.

Used three ways: the demo snapshot (``SyntheticCluster.history()``), the tests and
benchmarks against a real Prometheus (``write_openmetrics()`` then promtool), and
accuracy checks (``truth()``: the demand each container really had, before the
CPU limit capped it and before the OOM killer cut it off).

>>> cluster = SyntheticCluster.generate(days=2, end=1_790_000_000, seed=7)
>>> history = cluster.history(step=300)
>>> len(history) == cluster.spec.n_containers
True
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rightsizer.history import (
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
from rightsizer.testing.synthetic import openmetrics
from rightsizer.testing.synthetic.simulate import ContainerRun, WorkloadRun, simulate_workload
from rightsizer.testing.synthetic.spec import ClusterSpec, cluster_spec

#: Bump when the generated data changes, so cached Prometheus data is rebuilt.
GENERATOR_VERSION = 6


@dataclass
class ContainerTruth:
    """What the generator made one workload container do, pooled over its pods, per scrape."""

    key: ContainerKey
    cpu_demand: np.ndarray  # cores wanted
    cpu_usage: np.ndarray  # cores used (demand capped by a CPU limit)
    memory_demand_peak: float  # bytes; above the limit where the container was OOMKilled
    working_set_peak: float  # bytes seen by cAdvisor
    max_throttled_ratio: float
    oom_kills: int
    heap_used_peak: float | None

    def cpu_quantile(self, q: float, *, observed: bool = False) -> float:
        return float(np.quantile(self.cpu_usage if observed else self.cpu_demand, q))


class SyntheticCluster:
    def __init__(self, spec: ClusterSpec):
        self.spec = spec

    @classmethod
    def generate(
        cls,
        *,
        containers: int | None = None,
        days: float = 14.0,
        end: float | None = None,
        scrape_interval: int = 60,
        seed: int = 0,
    ) -> SyntheticCluster:
        """The curated scenarios plus seeded variations up to ``containers``; ``end`` defaults to now."""
        spec = cluster_spec(containers=containers, days=days, end=time.time() if end is None else end,
                            scrape_interval=scrape_interval, seed=seed)
        return cls(spec)

    def runs(self, first: int = 0) -> Iterator[WorkloadRun]:
        """Simulate the workloads from index ``first`` on, one at a time (each is seeded on its own)."""
        for index in range(first, len(self.spec.workloads)):
            yield simulate_workload(self.spec, index)

    def write_openmetrics(self, path: str | Path, exclude: frozenset[str] = frozenset(),
                          scrapes: tuple[int, int] | None = None, external: tuple[str, str] | None = None,
                          first_workload: int = 0) -> int:
        """Write the cluster for promtool; returns the number of samples written.

        ``exclude`` leaves out metric families (family names, without ``_total``);
        ``scrapes`` (first, stop) writes one time slice, by scrape index; ``external``
        (name, value) labels every series, as a store holding several clusters does;
        ``first_workload`` leaves out the workloads before it (already backfilled).
        """
        return openmetrics.write(self.spec, self.runs(first_workload), Path(path), exclude, scrapes, external)

    def time_slices(self, seconds: float) -> list[tuple[int, int]]:
        """Scrape-index ranges of the ``seconds``-long windows (aligned to the epoch) the history spans,
        for writing a large cluster in parts."""
        step = self.spec.scrape_interval
        t0 = self.spec.start
        bounds = [0]
        edge = (t0 // seconds + 1) * seconds
        while edge < self.spec.end:
            bounds.append(int(np.ceil((edge - t0) / step)))
            edge += seconds
        bounds.append(self.spec.n_scrapes)
        return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]

    def grid(self, step: int) -> tuple[float, int]:
        """(first step time, number of steps) of the step grid inside the simulated span."""
        if step % self.spec.scrape_interval:
            raise ValueError(f"step {step}s must be a multiple of the scrape interval {self.spec.scrape_interval}s")
        first = float(np.ceil((self.spec.start + step) / step) * step)
        last = float(np.floor(self.spec.end / step) * step)
        return first, int((last - first) // step) + 1

    def history(self, step: int = 300, *, observed: bool = True) -> ClusterHistory:
        """The history a Prometheus source would return at ``step`` (cpu: mean rate and the rate of the last
        scrape interval, memory: peak).

        Prometheus extrapolates a rate at the first and last step of each pod; here the
        partial steps are plain averages, so the two differ slightly at pod boundaries.

        ``observed=False`` gives the demand instead: CPU before any limit capped it and
        memory before the OOM killer cut it off (no throttling), the ground truth a
        backtest should replay.
        """
        start, n_steps = self.grid(step)
        containers: dict[ContainerKey, ContainerHistory] = {}
        workloads: dict[WorkloadKey, Workload] = {}
        pod_nodes: dict[tuple[str, str], str] = {}
        for run in self.runs():
            w = run.spec
            wkey = WorkloadKey(w.namespace, w.kind, w.name)
            hpa = None
            if w.hpa is not None:
                hpa = Hpa(w.name, w.hpa.min_replicas, w.hpa.max_replicas, {"cpu": float(w.hpa.cpu_utilization)})
            workloads[wkey] = Workload(wkey, hpa)
            for pod in run.pods:
                pod_nodes[(w.namespace, pod.name)] = pod.node
            for cspec in w.containers:
                crs = [c for c in run.containers if c.spec is cspec]
                if crs:
                    ch = self._container_history(run, cspec.name, crs, start, step, n_steps, observed)
                    if len(ch.samples):
                        containers[ch.key] = ch
        nodes = {n.name: Node(n.name, n.instance_type, n.capacity_type) for n in self.spec.nodes}
        return ClusterHistory(start, float(step), n_steps, containers, workloads, nodes, pod_nodes,
                              source=f"synthetic cluster (seed {self.spec.seed})",
                              scrape_interval=float(self.spec.scrape_interval))

    def _container_history(self, run: WorkloadRun, name: str, crs: list[ContainerRun],
                           start: float, step: int, n_steps: int, observed: bool) -> ContainerHistory:
        spec = self.spec
        w = run.spec
        key = ContainerKey(w.namespace, w.kind, w.name, name)
        pods: list[str] = []
        rows: dict[str, list[np.ndarray]] = {k: [] for k in ("pod", "step", "cpu", "cpu_scrape", "memory", "throttled",
                                                              "heap_used", "heap_total", "rss")}
        events: list[ContainerEvent] = []
        for c in crs:
            pod = run.pods[c.pod]
            t = spec.start + spec.scrape_interval * np.arange(c.start, c.start + len(c.cpu_usage), dtype=np.float64)
            b = np.ceil((t - start) / step).astype(np.int64)  # sample at t belongs to the step ending at or after t
            inside = (b >= 0) & (b < n_steps)
            if not inside[1:].any():
                continue
            bins = np.unique(b[1:][inside[1:]])
            pods.append(pod.name)
            rows["pod"].append(np.full(len(bins), len(pods) - 1))
            rows["step"].append(bins)
            # rates: each sample after the first carries the usage since the previous scrape
            cpu = c.cpu_usage if observed else c.cpu_demand
            rows["cpu"].append(_bin_mean(b[1:], cpu[1:], bins))
            rows["cpu_scrape"].append(_bin_last(b[1:], cpu[1:], bins))
            rows["throttled"].append(_bin_mean(b[1:], c.throttled_ratio[1:], bins)
                                     if c.throttled_ratio is not None and observed else np.full(len(bins), np.nan))
            # peaks: a range [t-step, t] also holds the sample exactly at its left edge
            on_edge = (t - start) % step == 0
            for series, values in (("memory", c.working_set if observed else c.memory_demand),
                                   ("heap_used", c.heap_used),
                                   ("heap_total", c.heap_total), ("rss", c.rss)):
                rows[series].append(np.full(len(bins), np.nan) if values is None
                                    else _bin_max(b, values, on_edge, bins))
            for at in c.oom_kills:
                if 0 < b[at] < n_steps:
                    events.append(ContainerEvent(start + step * float(b[at]), pod.name, "OOMKilled"))
        samples = Samples.from_rows(
            np.concatenate(rows["pod"]) if pods else np.zeros(0),
            np.concatenate(rows["step"]) if pods else np.zeros(0),
            {k: (np.concatenate(v) if pods else np.zeros(0)) for k, v in rows.items() if k not in ("pod", "step")},
        )
        cs = crs[0].spec
        return ContainerHistory(
            key=key,
            pods=pods,
            samples=samples,
            requests=Resources(cs.cpu_request, cs.memory_request),
            limits=Resources(cs.cpu_limit, cs.memory_limit),
            image=cs.image,
            events=sorted(events, key=lambda e: (e.time, e.pod)),
            nodejs_version=f"v{cs.nodejs.version}" if cs.nodejs else None,
            init=cs.init_minutes is not None,
        )

    def truth(self) -> dict[ContainerKey, ContainerTruth]:
        """Ground truth per workload container, pooled over its pods at scrape resolution."""
        out: dict[ContainerKey, ContainerTruth] = {}
        for run in self.runs():
            w = run.spec
            for cspec in w.containers:
                crs = [c for c in run.containers if c.spec is cspec]
                if not crs:
                    continue
                key = ContainerKey(w.namespace, w.kind, w.name, cspec.name)
                heap = [c.heap_used.max() for c in crs if c.heap_used is not None]
                out[key] = ContainerTruth(
                    key=key,
                    cpu_demand=np.concatenate([c.cpu_demand for c in crs]),
                    cpu_usage=np.concatenate([c.cpu_usage for c in crs]),
                    memory_demand_peak=float(max(c.memory_demand.max() for c in crs)),
                    working_set_peak=float(max(c.working_set.max() for c in crs)),
                    max_throttled_ratio=float(max((c.throttled_ratio.max() for c in crs
                                                   if c.throttled_ratio is not None), default=0.0)),
                    oom_kills=sum(len(c.oom_kills) for c in crs),
                    heap_used_peak=float(max(heap)) if heap else None,
                )
        return out


def _bin_mean(b: np.ndarray, values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    ok = (b >= bins[0]) & (b <= bins[-1])
    sums = np.bincount(b[ok] - bins[0], weights=values[ok])
    counts = np.bincount(b[ok] - bins[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts)[bins - bins[0]]


def _bin_last(b: np.ndarray, values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """The last of each bin's values (``b`` ascending): the rate over a step's last scrape interval."""
    ok = (b >= bins[0]) & (b <= bins[-1])
    b, values = b[ok], values[ok]
    last = np.flatnonzero(np.r_[b[1:] != b[:-1], True])
    out = np.full(bins[-1] - bins[0] + 1, np.nan)
    out[b[last] - bins[0]] = values[last]
    return out[bins - bins[0]]


def _bin_max(b: np.ndarray, values: np.ndarray, on_edge: np.ndarray, bins: np.ndarray) -> np.ndarray:
    out = np.full(bins[-1] - bins[0] + 1, -np.inf)
    for target in (b, b + on_edge.astype(np.int64)):
        ok = (target >= bins[0]) & (target <= bins[-1])
        np.maximum.at(out, target[ok] - bins[0], values[ok].astype(np.float64))
    return out[bins - bins[0]]


__all__ = ["GENERATOR_VERSION", "ContainerTruth", "SyntheticCluster"]
