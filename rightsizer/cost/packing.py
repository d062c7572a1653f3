"""A node plan: the recommended pods packed onto instance types, on-demand and with spot.

Each node's allocatable room is its capacity less the kubelet's reservation and the
DaemonSet pods that run on every node, times a target utilization (headroom for
rescheduling and bursts).  Pods are placed first-fit decreasing by their dominant share
(the larger of their CPU and memory fractions of a node): a classic two-dimensional bin
packing that lands within a node or two of optimal on realistic mixes.  Every instance
type whose node fits the largest pod is tried; the cheapest pool wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rightsizer.cost.catalog import InstanceType
from rightsizer.units import HOURS_PER_MONTH, GiB


@dataclass(frozen=True)
class Pod:
    name: str
    cpu: float  # cores
    memory: float  # bytes


@dataclass(frozen=True)
class Overhead:
    daemonset_cpu: float = 0.0
    daemonset_memory: float = 0.0


def reserved(instance: InstanceType) -> tuple[float, float]:
    """kube-reserved plus eviction threshold, an estimate in the spirit of the managed services' formulas:
    CPU 60m + 1% of the cores; memory 255Mi + 4% of the memory + 100Mi eviction threshold."""
    return 0.06 + 0.01 * instance.vcpu, (255 * 2**20 + 0.04 * instance.memory_gib * GiB + 100 * 2**20)


@dataclass
class PoolPlan:
    instance: InstanceType
    spot: bool
    nodes: int
    pods: int
    cpu_used: float
    memory_used: float
    assignment: list[list[str]] = field(default_factory=list)

    @property
    def hourly(self) -> float:
        price = self.instance.spot_hourly if self.spot and self.instance.spot_hourly else self.instance.on_demand_hourly
        return self.nodes * price

    @property
    def monthly(self) -> float:
        return self.hourly * HOURS_PER_MONTH

    @property
    def interruptions_per_month(self) -> float:
        return self.nodes * self.instance.interruptions_per_month if self.spot else 0.0


def allocatable(instance: InstanceType, overhead: Overhead, utilization: float) -> tuple[float, float]:
    cpu_reserved, mem_reserved = reserved(instance)
    cpu = (instance.vcpu - cpu_reserved - overhead.daemonset_cpu) * utilization
    mem = (instance.memory_gib * GiB - mem_reserved - overhead.daemonset_memory) * utilization
    return cpu, mem


def pack(pods: list[Pod], instance: InstanceType, overhead: Overhead, utilization: float,
         spot: bool = False) -> PoolPlan | None:
    """First-fit decreasing onto nodes of one type; None when the largest pod fits no node."""
    cap_cpu, cap_mem = allocatable(instance, overhead, utilization)
    if cap_cpu <= 0 or cap_mem <= 0:
        return None
    order = sorted(pods, key=lambda p: max(p.cpu / cap_cpu, p.memory / cap_mem), reverse=True)
    free: list[list[float]] = []
    assignment: list[list[str]] = []
    for pod in order:
        if pod.cpu > cap_cpu + 1e-9 or pod.memory > cap_mem + 1e-6:
            return None
        for i, room in enumerate(free):
            if pod.cpu <= room[0] + 1e-9 and pod.memory <= room[1] + 1e-6:
                room[0] -= pod.cpu
                room[1] -= pod.memory
                assignment[i].append(pod.name)
                break
        else:
            free.append([cap_cpu - pod.cpu, cap_mem - pod.memory])
            assignment.append([pod.name])
    return PoolPlan(instance, spot, len(free), len(pods), sum(p.cpu for p in pods), sum(p.memory for p in pods),
                    assignment)


def cheapest(pods: list[Pod], candidates: list[InstanceType], overhead: Overhead, utilization: float,
             spot: bool = False) -> PoolPlan | None:
    if not pods:
        return None
    plans = [p for p in (pack(pods, c, overhead, utilization, spot) for c in candidates
                         if not spot or c.spot_hourly is not None) if p is not None]
    return min(plans, key=lambda p: (p.monthly, p.nodes, p.instance.name), default=None)


def lower_bound_nodes(pods: list[Pod], instance: InstanceType, overhead: Overhead, utilization: float) -> int:
    cpu, mem = allocatable(instance, overhead, utilization)
    return max(math.ceil(sum(p.cpu for p in pods) / cpu), math.ceil(sum(p.memory for p in pods) / mem), 1)
