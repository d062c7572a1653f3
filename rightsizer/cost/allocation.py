"""$/vCPU-hour and $/GiB-hour from node prices, the way OpenCost splits a node.

A node's price is split between its CPU and its memory in proportion to OpenCost's default
unit prices (0.031611 $/core-hour, 0.004237 $/GB-hour): for a node with ``c`` vCPUs and
``m`` GiB, the CPU share is ``c x 0.031611 / (c x 0.031611 + m x 0.004237)``.  The cluster's
rate is the node-hour-weighted average over the nodes it runs (their instance and capacity
types from kube-state-metrics), or over the instance type the user names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rightsizer.cost.catalog import Catalog, InstanceType
from rightsizer.errors import RightsizerError
from rightsizer.history import Node

CPU_UNIT = 0.031611  # OpenCost default $/core-hour
RAM_UNIT = 0.004237  # OpenCost default $/GB-hour
GB_PER_GIB = 2**30 / 1e9


@dataclass(frozen=True)
class Rates:
    cpu_hourly: float  # $ per vCPU-hour
    memory_hourly: float  # $ per GiB-hour
    basis: str  # what they were derived from


def cpu_share(instance: InstanceType) -> float:
    cpu = instance.vcpu * CPU_UNIT
    ram = instance.memory_gib * GB_PER_GIB * RAM_UNIT
    return cpu / (cpu + ram)


def node_rates(instance: InstanceType, spot: bool = False) -> Rates:
    price = instance.spot_hourly if spot and instance.spot_hourly is not None else instance.on_demand_hourly
    share = cpu_share(instance)
    return Rates(price * share / instance.vcpu, price * (1 - share) / instance.memory_gib,
                 f"{instance.name} {'spot' if spot else 'on-demand'}")


def cluster_rates(catalog: Catalog, region: str, nodes: list[Node], fallback: str | None = None) -> Rates:
    """Blended rates over the cluster's nodes; ``fallback`` names an instance type when nodes are unknown."""
    counted: Counter[tuple[str, bool]] = Counter()
    for node in nodes:
        if node.instance_type and catalog.get(region, node.instance_type):
            counted[(node.instance_type, node.capacity_type == "spot")] += 1
    if not counted:
        name = fallback or "m5.xlarge"
        instance = catalog.get(region, name)
        if instance is None:
            raise RightsizerError(f"instance type {name!r} is not in the catalog for {region}: pass --instance-type")
        rates = node_rates(instance)
        return Rates(rates.cpu_hourly, rates.memory_hourly, f"{name} on-demand (node types unknown)")
    total = sum(counted.values())
    cpu = mem = 0.0
    for (name, spot), count in counted.items():
        r = node_rates(catalog.get(region, name), spot)  # type: ignore[arg-type]
        cpu += r.cpu_hourly * count / total
        mem += r.memory_hourly * count / total
    mix = ", ".join(f"{n}x {name}{' spot' if spot else ''}" for (name, spot), n in sorted(counted.items()))
    return Rates(cpu, mem, f"the cluster's nodes ({mix})")
