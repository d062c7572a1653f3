"""What a synthetic cluster is made of: nodes, workloads, containers and their demand models.

The curated scenarios come first (every behaviour the recommender must handle appears
at least once, with a name that says what it is); any further containers asked for are
seeded variations of them in ``team-NNN`` namespaces, so a 2,000-container benchmark
cluster looks like a large real one rather than 2,000 copies of one Deployment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from rightsizer.units import DAY, GiB, MiB


@dataclass(frozen=True)
class NodeJsSpec:
    """A Node.js process exporting prom-client's default metrics."""

    version: str = "20.11.1"
    nonheap: float = 90 * MiB  # code, stacks, Buffers: RSS minus V8 heap
    gc_period_minutes: float = 6.0  # the heap-used sawtooth of the old-space GC


@dataclass(frozen=True)
class ContainerSpec:
    """Demand model of one container of a workload's pods.

    CPU demand = ``cpu_mean`` x daily and weekly seasonality x slow log-normal noise x
    bursts x growth; memory demand = ``memory_base`` with its own seasonality and noise,
    plus ``memory_leak_per_hour`` since the container started (a leak that a limit turns
    into OOMKills and restarts).
    """

    name: str
    image: str
    cpu_mean: float  # cores
    memory_base: float  # bytes of working set
    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: float | None = None
    memory_limit: float | None = None
    cpu_daily: float = 0.35  # relative amplitude of the daily cycle (peak 14:00 UTC)
    cpu_weekend: float = 0.25  # relative drop on Saturdays and Sundays
    cpu_noise: float = 0.18  # sigma of the slow (30 min) log-normal noise
    cpu_pod_noise: float = 0.05  # sigma of each pod's own fast noise
    cpu_bursts_per_day: float = 0.0
    cpu_burst_factor: float = 1.8
    cpu_growth_per_day: float = 0.0  # relative
    memory_daily: float = 0.06
    memory_noise: float = 0.03
    memory_growth_per_day: float = 0.0  # relative
    memory_leak_per_hour: float = 0.0  # bytes
    nodejs: NodeJsSpec | None = None
    init_minutes: int | None = None  # an init container: runs this long at each pod start, then exits


@dataclass(frozen=True)
class HpaSpec:
    min_replicas: int
    max_replicas: int
    cpu_utilization: float  # target percent of the CPU request


@dataclass(frozen=True)
class WorkloadSpec:
    namespace: str
    kind: str  # Deployment, StatefulSet, DaemonSet or CronJob
    name: str
    containers: tuple[ContainerSpec, ...]
    replicas: int = 1  # for an HPA workload: the replica count its load is sized for
    rollout_every_hours: float | None = None  # Deployments: new ReplicaSet and pod names
    hpa: HpaSpec | None = None
    schedule_every_hours: float = 24.0  # CronJobs
    run_minutes: int = 20  # CronJobs


@dataclass(frozen=True)
class NodeSpec:
    name: str
    instance_type: str
    capacity_type: str  # "spot" or "on-demand"
    label_style: str = "karpenter"  # which label kube-state-metrics exports: karpenter or eks


@dataclass(frozen=True)
class ClusterSpec:
    workloads: tuple[WorkloadSpec, ...]
    nodes: tuple[NodeSpec, ...]
    end: float  # unix seconds of the last scrape
    days: float
    scrape_interval: int = 60
    seed: int = 0

    @property
    def start(self) -> float:
        return self.end - self.days * DAY

    @property
    def n_scrapes(self) -> int:
        return int(self.days * DAY // self.scrape_interval) + 1

    @property
    def n_containers(self) -> int:
        return sum(len(w.containers) for w in self.workloads)


NODES = (
    NodeSpec("ip-10-0-1-11.ec2.internal", "m5.xlarge", "on-demand"),
    NodeSpec("ip-10-0-1-12.ec2.internal", "m5.xlarge", "on-demand"),
    NodeSpec("ip-10-0-2-21.ec2.internal", "m5.2xlarge", "spot"),
    NodeSpec("ip-10-0-2-22.ec2.internal", "m6i.2xlarge", "spot", "eks"),
    NodeSpec("ip-10-0-3-31.ec2.internal", "c5.xlarge", "on-demand", "eks"),
    NodeSpec("ip-10-0-3-32.ec2.internal", "r5.large", "spot"),
)

_ENVOY = ContainerSpec(
    "envoy", "envoyproxy/envoy:v1.29.1", cpu_mean=0.02, memory_base=48 * MiB,
    cpu_request=0.1, memory_request=128 * MiB, memory_limit=256 * MiB, cpu_noise=0.1,
)


def scenarios() -> tuple[WorkloadSpec, ...]:
    """The curated workloads: each one is a case the recommender must get right."""
    node = NodeJsSpec
    return (
        # Node.js API scaled by an HPA on CPU, with a sidecar.
        WorkloadSpec("shop", "Deployment", "storefront", (
            ContainerSpec("app", "ghcr.io/acme/storefront:4.2.0", cpu_mean=0.30, memory_base=420 * MiB,
                          cpu_request=0.5, memory_request=1 * GiB, memory_limit=1 * GiB,
                          cpu_bursts_per_day=2, nodejs=node("20.11.1", 95 * MiB)),
            _ENVOY,
        ), replicas=3, rollout_every_hours=50, hpa=HpaSpec(2, 8, 70)),
        # Node.js service leaking memory under a tight limit: OOMKills and restarts.
        WorkloadSpec("shop", "Deployment", "cart", (
            ContainerSpec("app", "ghcr.io/acme/cart:2.7.3", cpu_mean=0.12, memory_base=300 * MiB,
                          cpu_request=0.25, memory_request=512 * MiB, memory_limit=512 * MiB,
                          memory_leak_per_hour=9 * MiB, nodejs=node("18.19.0", 80 * MiB)),
        ), replicas=2),
        # NestJS service with a CPU limit below its peaks: usage is capped and throttled.
        WorkloadSpec("shop", "Deployment", "checkout", (
            ContainerSpec("app", "ghcr.io/acme/checkout:1.14.0", cpu_mean=0.42, memory_base=350 * MiB,
                          cpu_request=0.3, cpu_limit=0.5, memory_request=768 * MiB, memory_limit=768 * MiB,
                          cpu_daily=0.5, cpu_bursts_per_day=3, nodejs=node("20.11.1", 110 * MiB)),
        ), replicas=3, rollout_every_hours=70),
        # Over-provisioned catalogue: requests far above use, the money case.
        WorkloadSpec("shop", "Deployment", "catalog", (
            ContainerSpec("app", "ghcr.io/acme/catalog:3.0.1", cpu_mean=0.08, memory_base=210 * MiB,
                          cpu_request=1.0, cpu_limit=2.0, memory_request=2 * GiB, memory_limit=2 * GiB),
        ), replicas=4),
        # Growing service: usage trends up over the window.
        WorkloadSpec("payments", "Deployment", "payments-api", (
            # init container: database migrations at every pod start
            ContainerSpec("migrate", "ghcr.io/acme/payments-api:5.1.0", cpu_mean=0.3, memory_base=150 * MiB,
                          cpu_request=0.1, memory_request=128 * MiB, memory_limit=256 * MiB, cpu_daily=0.0,
                          cpu_weekend=0.0, init_minutes=6),
            ContainerSpec("app", "ghcr.io/acme/payments-api:5.1.0", cpu_mean=0.22, memory_base=380 * MiB,
                          cpu_request=0.25, memory_request=512 * MiB, memory_limit=1 * GiB,
                          cpu_growth_per_day=0.03, memory_growth_per_day=0.02,
                          nodejs=node("22.12.0", 100 * MiB)),
            _ENVOY,
        ), replicas=2, rollout_every_hours=30),
        # JVM-like service: flat high memory, no requests at all (BestEffort).
        WorkloadSpec("payments", "Deployment", "fraud-scorer", (
            ContainerSpec("scorer", "ghcr.io/acme/fraud-scorer:0.9.4", cpu_mean=0.6, memory_base=1.4 * GiB,
                          cpu_noise=0.25, memory_noise=0.01),
        ), replicas=2),
        # Database: StatefulSet with stable pod names.
        WorkloadSpec("payments", "StatefulSet", "ledger-db", (
            ContainerSpec("postgres", "postgres:16.2", cpu_mean=0.35, memory_base=1.1 * GiB,
                          cpu_request=1.0, memory_request=2 * GiB, memory_limit=2 * GiB,
                          cpu_daily=0.2, memory_daily=0.02, memory_growth_per_day=0.01),
            ContainerSpec("exporter", "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
                          cpu_mean=0.005, memory_base=24 * MiB, cpu_request=0.05, memory_request=64 * MiB,
                          memory_limit=64 * MiB, cpu_daily=0.0),
        ), replicas=2),
        # Log agent on every node.
        WorkloadSpec("platform", "DaemonSet", "log-agent", (
            ContainerSpec("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.2", cpu_mean=0.04,
                          memory_base=60 * MiB, cpu_request=0.1, cpu_limit=0.2, memory_request=100 * MiB,
                          memory_limit=200 * MiB, cpu_bursts_per_day=4, cpu_burst_factor=2.5),
        )),
        # Hourly CronJob: short-lived pods owned by Jobs.
        WorkloadSpec("batch", "CronJob", "report-builder", (
            ContainerSpec("builder", "ghcr.io/acme/report-builder:1.3.0", cpu_mean=0.7, memory_base=600 * MiB,
                          cpu_request=0.5, memory_request=1 * GiB, memory_limit=1 * GiB, cpu_daily=0.0,
                          cpu_weekend=0.0, nodejs=node("20.11.1", 70 * MiB)),
        ), schedule_every_hours=1, run_minutes=14),
        # Nightly ETL: a big daily CronJob.
        WorkloadSpec("batch", "CronJob", "nightly-etl", (
            ContainerSpec("etl", "ghcr.io/acme/etl:2024.3", cpu_mean=1.2, memory_base=2.2 * GiB,
                          cpu_request=2.0, memory_request=4 * GiB, memory_limit=4 * GiB, cpu_daily=0.0,
                          cpu_weekend=0.0, memory_noise=0.05),
        ), schedule_every_hours=24, run_minutes=55),
        # Bursty internal gateway with a weekly rhythm.
        WorkloadSpec("platform", "Deployment", "api-gateway", (
            ContainerSpec("gateway", "ghcr.io/acme/gateway:7.0.2", cpu_mean=0.25, memory_base=160 * MiB,
                          cpu_request=0.2, memory_request=256 * MiB, memory_limit=256 * MiB,
                          cpu_weekend=0.5, cpu_bursts_per_day=6, cpu_burst_factor=2.2,
                          nodejs=node("20.11.1", 60 * MiB)),
        ), replicas=2, rollout_every_hours=30),
    )


def cluster_spec(
    *,
    containers: int | None = None,
    days: float = 14.0,
    end: float,
    scrape_interval: int = 60,
    seed: int = 0,
) -> ClusterSpec:
    """The curated scenarios, plus seeded variations until ``containers`` are reached.

    ``containers=None`` gives the scenarios alone.  ``end`` is the last scrape time;
    pass a fixed one for reproducible data.
    """
    workloads = list(scenarios())
    count = sum(len(w.containers) for w in workloads)
    if containers is not None and containers < count:
        raise ValueError(f"a synthetic cluster has at least {count} containers (the curated scenarios)")
    rng = random.Random(seed)
    templates = scenarios()
    team = 0
    while containers is not None and count < containers:
        namespace = f"team-{team:03d}"
        for _ in range(rng.randint(3, 12)):
            if count >= containers:
                break
            base = rng.choice(templates)
            wanted = min(len(base.containers), containers - count)
            workload = _vary(base, namespace, f"{base.name}-{rng.randint(0, 99_999):05d}", wanted, rng)
            workloads.append(workload)
            count += len(workload.containers)
        team += 1
    aligned_end = end - end % scrape_interval
    return ClusterSpec(tuple(workloads), NODES, aligned_end, days, scrape_interval, seed)


def _human(value: float, unit: float) -> float:
    """Round a setting the way people write them (50m, 64Mi steps), never to zero."""
    return max(unit, round(value / unit) * unit)


def _vary(base: WorkloadSpec, namespace: str, name: str, n_containers: int, rng: random.Random) -> WorkloadSpec:
    def scaled(c: ContainerSpec) -> ContainerSpec:
        cpu = rng.uniform(0.4, 2.5)
        mem = rng.uniform(0.5, 2.0)
        return replace(
            c,
            cpu_mean=c.cpu_mean * cpu,
            memory_base=c.memory_base * mem,
            cpu_daily=min(0.8, c.cpu_daily * rng.uniform(0.5, 1.5)),
            cpu_noise=c.cpu_noise * rng.uniform(0.6, 1.4),
            memory_leak_per_hour=c.memory_leak_per_hour * mem,
            **{f: _human(getattr(c, f) * s, unit) for f, s, unit in (
                ("cpu_request", cpu, 0.05), ("cpu_limit", cpu, 0.05),
                ("memory_request", mem, 64 * MiB), ("memory_limit", mem, 64 * MiB))
               if getattr(c, f) is not None},
        )

    extra: dict[str, object] = {}
    if base.kind in ("Deployment", "StatefulSet") and base.hpa is None:
        extra["replicas"] = rng.randint(1, 4)
    return replace(base, namespace=namespace, name=name,
                   containers=tuple(scaled(c) for c in base.containers[:n_containers]), **extra)


__all__ = [
    "DAY",
    "ClusterSpec",
    "ContainerSpec",
    "GiB",
    "HpaSpec",
    "MiB",
    "NodeJsSpec",
    "NodeSpec",
    "WorkloadSpec",
    "cluster_spec",
    "scenarios",
]
