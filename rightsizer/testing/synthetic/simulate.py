"""Simulate one workload at scrape resolution: its pods' lives and every container's usage.

Everything here is per workload and seeded from (cluster seed, workload index), so a
cluster can be streamed workload by workload (a 2,000-container cluster never sits in
memory whole) and still come out the same whatever is asked of it.

CPU under a limit follows the CFS quota model: within a minute the demand of each
100 ms period is log-normal around the minute's demand; a period whose demand exceeds
the quota is throttled and runs at the quota.  So the usage cAdvisor reports is
E[min(X, limit)] and the throttled-period ratio is P(X > limit), consistent with each
other and with the true (uncensored) demand the recommender has to infer.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter
from scipy.special import ndtr

from rightsizer.testing.synthetic.spec import ClusterSpec, ContainerSpec, WorkloadSpec
from rightsizer.units import DAY

#: log-normal sigma of per-100ms-period CPU demand around the minute's mean
PERIOD_SIGMA = 0.5
CFS_PERIODS_PER_SECOND = 10
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass
class PodRun:
    name: str
    start: int  # first scrape index (inclusive)
    end: int  # last scrape index (exclusive)
    node: str
    owner_kind: str  # ReplicaSet, StatefulSet, DaemonSet or Job
    owner_name: str
    uid: str


@dataclass
class ContainerRun:
    """One container of one pod, arrays over the pod's scrapes [start, end)."""

    pod: int
    spec: ContainerSpec
    start: int  # first scrape index: the pod's, and an init container ends early
    cpu_demand: np.ndarray
    cpu_usage: np.ndarray
    throttled_ratio: np.ndarray | None  # None without a CPU limit
    memory_demand: np.ndarray  # what the container wanted (exceeds the limit where it was OOMKilled)
    working_set: np.ndarray  # what cAdvisor saw
    restarts: np.ndarray  # int, cumulative restart count
    oom_kills: list[int] = field(default_factory=list)  # scrape indices
    heap_used: np.ndarray | None = None
    heap_total: np.ndarray | None = None
    rss: np.ndarray | None = None


@dataclass
class WorkloadRun:
    spec: WorkloadSpec
    pods: list[PodRun]
    containers: list[ContainerRun]
    owners: dict[str, tuple[str, str]]  # ReplicaSet or Job name -> (owner kind, owner name)


def _rng(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _suffix(rng: np.random.Generator, n: int) -> str:
    return "".join(_ALPHABET[i] for i in rng.integers(0, len(_ALPHABET), n))


def _ar1(rng: np.random.Generator, n: int, tau: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) noise with correlation time ``tau`` samples and std ``sigma``."""
    if sigma <= 0 or n == 0:
        return np.zeros(n)
    phi = math.exp(-1.0 / tau)
    burn = int(5 * tau)
    white = rng.standard_normal(n + burn) * math.sqrt(1 - phi * phi)
    return lfilter([1.0], [1.0, -phi], white)[burn:] * sigma


def _seasonal(times: np.ndarray, daily: float, weekend: float) -> np.ndarray:
    hours = (times % DAY) / 3600.0
    shape = 1.0 + daily * np.sin(2 * np.pi * (hours - 8.0) / 24.0)
    day_of_week = ((times // DAY).astype(np.int64) + 3) % 7  # 0 = Monday; 1970-01-01 was a Thursday
    return shape * np.where(day_of_week >= 5, 1.0 - weekend, 1.0)


def cpu_profile(spec: ClusterSpec, c: ContainerSpec, rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """Relative CPU load (mean about 1) shared by all pods of a workload."""
    n = len(times)
    noise = _ar1(rng, n, tau=30 * 60 / spec.scrape_interval, sigma=c.cpu_noise)
    profile = _seasonal(times, c.cpu_daily, c.cpu_weekend) * np.exp(noise - c.cpu_noise**2 / 2)
    bursts = rng.poisson(c.cpu_bursts_per_day * spec.days)
    for start in rng.integers(0, max(n, 1), bursts):
        length = int(rng.uniform(5, 30) * 60 / spec.scrape_interval)
        profile[start : start + length] *= c.cpu_burst_factor
    return profile * (1.0 + c.cpu_growth_per_day * (times - spec.start) / DAY)


def memory_profile(spec: ClusterSpec, c: ContainerSpec, rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """Working-set bytes without the leak: base, a gentle daily cycle, slow noise, growth."""
    noise = _ar1(rng, len(times), tau=60 * 60 / spec.scrape_interval, sigma=c.memory_noise)
    shape = 1.0 + c.memory_daily * np.sin(2 * np.pi * ((times % DAY) / 3600.0 - 9.0) / 24.0)
    return c.memory_base * shape * np.exp(noise) * (1.0 + c.memory_growth_per_day * (times - spec.start) / DAY)


def throttle(demand: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """(usage, throttled-period ratio) of a demand under a CFS quota of ``limit`` cores."""
    d = np.maximum(demand, 1e-9)
    mu = np.log(d) - PERIOD_SIGMA**2 / 2
    z = (math.log(limit) - mu) / PERIOD_SIGMA
    ratio = 1.0 - ndtr(z)
    usage = d * ndtr(z - PERIOD_SIGMA) + limit * ratio
    return usage, ratio


def replica_counts(spec: ClusterSpec, w: WorkloadSpec, load: np.ndarray) -> np.ndarray:
    """Replicas over time: fixed, or what the HPA's formula gives for the load."""
    if w.hpa is None:
        return np.full(len(load), w.replicas, dtype=np.int64)
    c = w.containers[0]
    assert c.cpu_request, "an HPA on CPU needs a CPU request"
    total = c.cpu_mean * w.replicas * load
    per_scrape = max(1, int(300 / spec.scrape_interval))  # the HPA acts on 5-minute averages
    window = np.convolve(total, np.ones(per_scrape) / per_scrape, mode="same")
    desired = np.ceil(window / (c.cpu_request * w.hpa.cpu_utilization / 100.0))
    desired = np.clip(desired, w.hpa.min_replicas, w.hpa.max_replicas)
    # scale-down stabilisation: keep the highest recommendation of the last 15 minutes
    keep = 3 * per_scrape
    padded = np.concatenate([np.full(keep, desired[0]), desired])
    return sliding_window_view(padded, keep + 1).max(axis=1).astype(np.int64)


def pod_runs(spec: ClusterSpec, w: WorkloadSpec, replicas: np.ndarray, rng: np.random.Generator
             ) -> tuple[list[PodRun], dict[str, tuple[str, str]]]:
    n = spec.n_scrapes
    nodes = [node.name for node in spec.nodes]
    pods: list[PodRun] = []
    owners: dict[str, tuple[str, str]] = {}

    def new_pod(name: str, start: int, owner_kind: str, owner_name: str) -> PodRun:
        pod = PodRun(name, start, n, nodes[int(rng.integers(0, len(nodes)))], owner_kind, owner_name,
                     f"{_suffix(rng, 8)}-{_suffix(rng, 4)}")
        pods.append(pod)
        return pod

    if w.kind == "StatefulSet":
        for i in range(w.replicas):
            new_pod(f"{w.name}-{i}", 0, "StatefulSet", w.name)
    elif w.kind == "DaemonSet":
        for node in nodes:
            pod = new_pod(f"{w.name}-{_suffix(rng, 5)}", 0, "DaemonSet", w.name)
            pod.node = node
    elif w.kind == "CronJob":
        every = int(w.schedule_every_hours * 3600 / spec.scrape_interval)
        length = max(2, int(w.run_minutes * 60 / spec.scrape_interval))
        offset = int(rng.integers(0, every))
        for start in range(offset, n - length, every):
            minute = int((spec.start + start * spec.scrape_interval) // 60)
            job = f"{w.name}-{minute}"
            owners[job] = ("CronJob", w.name)
            pod = new_pod(f"{job}-{_suffix(rng, 5)}", start, "Job", job)
            pod.end = start + length
    elif w.kind == "Deployment":
        rollouts: set[int] = set()
        if w.rollout_every_hours:
            every = int(w.rollout_every_hours * 3600 / spec.scrape_interval)
            rollouts = set(range(int(rng.integers(1, every)), n, every))
        changes = sorted(rollouts | {0} | set((np.flatnonzero(np.diff(replicas)) + 1).tolist()))
        active: list[PodRun] = []
        replicaset = ""
        for at in changes:
            if at == 0 or at in rollouts:
                for pod in active:
                    pod.end = at
                active = []
                replicaset = f"{w.name}-{_suffix(rng, 10)}"
                owners[replicaset] = ("Deployment", w.name)
            while len(active) < replicas[at]:
                active.append(new_pod(f"{replicaset}-{_suffix(rng, 5)}", at, "ReplicaSet", replicaset))
            while len(active) > replicas[at]:
                active.pop().end = at
    else:
        raise ValueError(f"the generator does not simulate {w.kind}")
    return [p for p in pods if p.end - p.start >= 2], owners


def _memory_with_restarts(demand_base: np.ndarray, leak_per_scrape: float, limit: float | None
                          ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Add the leak since each (re)start; a demand over the limit is an OOMKill and a restart."""
    n = len(demand_base)
    since_start = np.arange(n, dtype=np.float64)
    kills: list[int] = []
    wanted: list[float] = []  # the demand that crossed the limit, before the restart reset it
    while True:
        demand = demand_base + leak_per_scrape * since_start
        if limit is None:
            break
        over = np.flatnonzero(demand[kills[-1] + 1 if kills else 0 :] > limit)
        if len(over) == 0 or len(kills) >= 200:
            break
        at = int(over[0]) + (kills[-1] + 1 if kills else 0)
        kills.append(at)
        wanted.append(float(demand[at]))
        since_start[at:] = np.arange(n - at, dtype=np.float64)
    demand[kills] = wanted
    restarts = np.zeros(n, dtype=np.int64)
    for at in kills:
        restarts[at:] += 1
    return demand, restarts, kills


def simulate_workload(spec: ClusterSpec, index: int) -> WorkloadRun:
    """Simulate workload ``index`` of the cluster."""
    w = spec.workloads[index]
    rng = _rng(spec.seed, index, w.namespace, w.name)
    times = spec.start + spec.scrape_interval * np.arange(spec.n_scrapes, dtype=np.float64)
    cpu_profiles = [cpu_profile(spec, c, rng, times) for c in w.containers]
    mem_profiles = [memory_profile(spec, c, rng, times) for c in w.containers]
    replicas = replica_counts(spec, w, cpu_profiles[0])
    pods, owners = pod_runs(spec, w, replicas, rng)
    runs: list[ContainerRun] = []
    for p_index, pod in enumerate(pods):
        for c, cpu_prof, mem_prof in zip(w.containers, cpu_profiles, mem_profiles, strict=True):
            if c.init_minutes is not None:
                length = min(pod.end - pod.start, max(2, int(c.init_minutes * 60 / spec.scrape_interval)))
            else:
                length = pod.end - pod.start
            sl = slice(pod.start, pod.start + length)
            share = (w.replicas / replicas[sl]) if w.hpa is not None else 1.0
            pod_noise = np.exp(_ar1(rng, length, tau=3, sigma=c.cpu_pod_noise) - c.cpu_pod_noise**2 / 2)
            demand = c.cpu_mean * cpu_prof[sl] * share * pod_noise
            if w.kind == "CronJob" or c.init_minutes is not None:  # a batch job loads its data as it goes
                demand = c.cpu_mean * pod_noise * np.exp(_ar1(rng, length, 3, c.cpu_noise))
                mem_base = mem_prof[sl] * np.linspace(0.35, 1.0, length)
            else:
                mem_base = mem_prof[sl] * np.exp(_ar1(rng, length, tau=5, sigma=0.01))
            if c.cpu_limit is not None:
                usage, ratio = throttle(demand, c.cpu_limit)
            else:
                usage, ratio = demand, None
            leak = c.memory_leak_per_hour * spec.scrape_interval / 3600.0
            mem_demand, restarts, kills = _memory_with_restarts(mem_base, leak, c.memory_limit)
            working_set = mem_demand.copy()
            for at in kills:  # the scrape after a kill sees the restarted container
                working_set[at] = mem_base[at] * 0.5
            run = ContainerRun(p_index, c, pod.start, demand, usage, ratio, mem_demand, working_set, restarts, kills)
            if c.nodejs is not None:
                _nodejs_memory(run, c, rng, spec.scrape_interval)
            runs.append(run)
    return WorkloadRun(w, pods, runs, owners)


def _nodejs_memory(run: ContainerRun, c: ContainerSpec, rng: np.random.Generator, scrape_interval: int) -> None:
    """Split the working set into V8 heap (with its GC sawtooth) and the rest."""
    assert c.nodejs is not None
    cache = 4 * 2**20
    rss = run.working_set - cache
    heap_total = np.maximum(rss - c.nodejs.nonheap, 8 * 2**20)
    period = max(2.0, c.nodejs.gc_period_minutes * 60 / scrape_interval)
    phase = (np.arange(len(rss)) + rng.uniform(0, period)) % period / period
    run.heap_total = heap_total
    run.heap_used = heap_total * (0.62 + 0.33 * phase)
    run.rss = rss
