"""What the cluster costs now, what it would cost right-sized, and with spot: the numbers ``rightsizer cost`` shows.

Workload cost = (CPU request x $/vCPU-hour + memory request x $/GiB-hour) x the pods it ran
on average x 730 hours.  Node plans pack the pods (requests now, or recommended) onto the
cheapest pool of one instance type, on-demand, and with the spot-ready workloads on a spot
pool of their own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsizer.cost.allocation import Rates, cluster_rates
from rightsizer.cost.catalog import Catalog, load_catalog
from rightsizer.cost.packing import Overhead, Pod, PoolPlan, cheapest
from rightsizer.cost.spot import SpotReadiness, assess
from rightsizer.history import ClusterHistory, ContainerKey, Resources, WorkloadKey
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.units import HOURS_PER_MONTH, GiB
from rightsizer.yamlsafety import safe_documents

log = logging.getLogger(__name__)
UTILIZATION = {"savings": 0.9, "balanced": 0.8, "reliability": 0.7}


@dataclass
class WorkloadCost:
    key: WorkloadKey
    replicas: float  # pods running on average over the window
    current_monthly: float
    recommended_monthly: float
    spot: SpotReadiness

    @property
    def savings_monthly(self) -> float:
        return self.current_monthly - self.recommended_monthly


@dataclass
class Plan:
    name: str
    pools: list[PoolPlan]

    @property
    def monthly(self) -> float:
        return sum(p.monthly for p in self.pools)

    @property
    def nodes(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for p in self.pools:
            out[f"{p.instance.name}{' (spot)' if p.spot else ''}"] += p.nodes
        return dict(out)

    @property
    def interruptions_per_month(self) -> float:
        return sum(p.interruptions_per_month for p in self.pools)


@dataclass
class CostReport:
    catalog: str
    region: str
    rates: Rates
    utilization: float
    workloads: list[WorkloadCost]
    plans: dict[str, Plan]
    notes: list[str] = field(default_factory=list)

    @property
    def current_monthly(self) -> float:
        return sum(w.current_monthly for w in self.workloads)

    @property
    def recommended_monthly(self) -> float:
        return sum(w.recommended_monthly for w in self.workloads)

    def namespaces(self) -> dict[str, tuple[float, float]]:
        out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for w in self.workloads:
            out[w.key.namespace][0] += w.current_monthly
            out[w.key.namespace][1] += w.recommended_monthly
        return {ns: (v[0], v[1]) for ns, v in sorted(out.items())}


def container_monthly(requests: Resources | None, replicas: float, rates: Rates) -> float:
    if requests is None:
        return 0.0
    hourly = (requests.cpu or 0.0) * rates.cpu_hourly + (requests.memory or 0.0) / GiB * rates.memory_hourly
    return hourly * replicas * HOURS_PER_MONTH


def workload_replicas(history: ClusterHistory) -> dict[WorkloadKey, tuple[float, int]]:
    """Per workload, in one pass: (mean pods running over the window, the most running at once)."""
    out: dict[WorkloadKey, tuple[float, int]] = {}
    for ch in history:
        if not ch.init:
            counts = ch.pods_per_step(history.n_steps)
            key = ch.key.workload_key
            out[key] = max(out.get(key, (0.0, 0)), (float(counts.mean()), int(counts.max())))
    return out


def billed(members: list[Recommendation], recommended: bool) -> dict[ContainerKey, Resources]:
    """What each container of one workload adds to its pod's effective request.

    The scheduler reserves, per resource, the larger of the largest init container and
    the sum of the app containers, for the pod's whole life.  App containers are billed
    their own requests; the largest init container the part of its request above the
    app containers' sum (nothing when it is below); other init containers nothing.
    """
    sizes = {r.key: _size(r, recommended) for r in members}
    out = {r.key: sizes[r.key] if not r.init else Resources(0.0, 0.0) for r in members}
    inits = [r.key for r in members if r.init]
    if not inits:
        return out
    excess: dict[ContainerKey, dict[str, float]] = {k: {"cpu": 0.0, "memory": 0.0} for k in inits}
    for resource in ("cpu", "memory"):
        app = sum(getattr(sizes[r.key], resource) or 0.0 for r in members if not r.init)
        largest = max(inits, key=lambda k: getattr(sizes[k], resource) or 0.0)
        excess[largest][resource] = max(0.0, (getattr(sizes[largest], resource) or 0.0) - app)
    for key, extra in excess.items():
        out[key] = Resources(extra["cpu"], extra["memory"])
    return out


def attach_costs(recs: RecommendationSet, history: ClusterHistory, rates: Rates) -> None:
    """Monthly cost now and recommended, per container, for every report format.

    An init container is billed what it adds to its pod's effective request (:func:`billed`),
    so the containers of a workload add up to what the scheduler reserves for its pods.
    """
    replicas = workload_replicas(history)
    for members in _by_workload(recs).values():
        now, new = billed(members, recommended=False), billed(members, recommended=True)
        n = replicas.get(members[0].key.workload_key, (0.0, 0))[0]
        for rec in members:
            rec.cost = (container_monthly(now[rec.key], n, rates), container_monthly(new[rec.key], n, rates))


def _manifests(repo: Path | None) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], list[dict[str, Any]]]:
    if repo is None:
        return {}, []
    objects: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    pdbs = []
    for path in sorted(Path(repo).rglob("*.y*ml")):
        if ".git" in path.parts or "templates" in path.parts:
            continue
        try:
            docs = safe_documents(path.read_text(encoding="utf-8"), str(path))
        except Exception as exc:  # noqa: BLE001 - a file that is not YAML says nothing about spot readiness
            log.info("spot checks skip %s: %s", path, str(exc).splitlines()[0])
            continue
        for doc in docs:
            if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
                continue
            if doc.get("kind") == "PodDisruptionBudget":
                pdbs.append(doc)
            elif isinstance(doc.get("kind"), str) and doc["metadata"].get("name"):
                objects[(doc["kind"], doc["metadata"]["name"])].append(doc)
    return objects, pdbs


def _by_workload(recs: RecommendationSet) -> dict[WorkloadKey, list[Recommendation]]:
    out: dict[WorkloadKey, list[Recommendation]] = defaultdict(list)
    for r in recs:
        out[r.key.workload_key].append(r)
    return dict(sorted(out.items()))


def _size(r: Recommendation, recommended: bool) -> Resources:
    return r.requests if recommended and r.requests is not None else r.current_requests


def _pods(by_workload: dict[WorkloadKey, list[Recommendation]], replicas: dict[WorkloadKey, tuple[float, int]],
          recommended: bool) -> tuple[dict[WorkloadKey, list[Pod]], Overhead]:
    pods: dict[WorkloadKey, list[Pod]] = {}
    ds_cpu = ds_mem = 0.0
    for key, members in by_workload.items():
        main = [_size(r, recommended) for r in members if not r.init]
        init = [_size(r, recommended) for r in members if r.init]
        cpu = max([sum(s.cpu or 0 for s in main)] + [s.cpu or 0 for s in init])
        mem = max([sum(s.memory or 0 for s in main)] + [s.memory or 0 for s in init])
        if key.kind == "DaemonSet":
            ds_cpu += cpu
            ds_mem += mem
            continue
        mean, peak = replicas.get(key, (0.0, 0))
        count = peak if key.kind in ("CronJob", "Job") else max(1, round(mean))
        pods[key] = [Pod(f"{key}#{i}", cpu, mem) for i in range(count)]
    return pods, Overhead(ds_cpu, ds_mem)


def estimate_cost(history: ClusterHistory, recs: RecommendationSet, catalog: Catalog | None = None,
                  region: str = "us-east-1", instance_type: str | None = None, repo: Path | None = None,
                  utilization: float = UTILIZATION["balanced"]) -> CostReport:
    catalog = catalog or load_catalog()
    # a pool of another architecture is no option: images may not be built for it
    archs = {i.arch for n in history.nodes.values() if n.instance_type
             for i in [catalog.get(region, n.instance_type)] if i is not None} or {"x86_64"}
    running = {n.instance_type for n in history.nodes.values() if n.instance_type}
    # burstable types (t3...) bill CPU credits under sustained load: only where the cluster already runs them
    candidates = [c for c in catalog.in_region(region) if c.arch in archs
                  and (not c.name.startswith("t") or any(r.startswith("t") for r in running))]
    rates = cluster_rates(catalog, region, list(history.nodes.values()), instance_type)
    objects, pdbs = _manifests(repo)
    notes = []
    workloads = []
    by_workload = _by_workload(recs)
    replicas = workload_replicas(history)
    for key, members in by_workload.items():
        mean = replicas.get(key, (0.0, 0))[0]
        current = sum(container_monthly(size, mean, rates) for size in billed(members, False).values())
        recommended = sum(container_monthly(size, mean, rates) for size in billed(members, True).values())
        manifest = next((d for d in objects.get((key.kind, key.name), [])
                         if (d["metadata"].get("namespace") in (None, key.namespace))), None)
        workload = history.workloads.get(key)
        workloads.append(WorkloadCost(key, mean, current, recommended,
                                      assess(key, mean, workload.hpa if workload else None, manifest, pdbs)))
    unset = [str(r.key) for r in recs if r.current_requests.cpu is None and r.current_requests.memory is None]
    if unset:
        notes.append(f"{len(unset)} containers request nothing today (BestEffort): they cost nothing in the current "
                     "figures, their recommended requests add cost")
    current_pods, current_overhead = _pods(by_workload, replicas, recommended=False)
    new_pods, new_overhead = _pods(by_workload, replicas, recommended=True)
    ready = {w.key for w in workloads if w.spot.ready}

    def flat(pods: dict[WorkloadKey, list[Pod]], keep: set[WorkloadKey] | None = None, drop: bool = False
             ) -> list[Pod]:
        return [p for k, ps in pods.items() if keep is None or ((k in keep) != drop) for p in ps]

    plans: dict[str, Plan] = {}
    for name, pods, overhead in (("current_on_demand", flat(current_pods), current_overhead),
                                 ("recommended_on_demand", flat(new_pods), new_overhead)):
        pool = cheapest(pods, candidates, overhead, utilization)
        plans[name] = Plan(name, [pool] if pool else [])
    spot_pool = cheapest(flat(new_pods, ready), candidates, new_overhead, utilization, spot=True)
    od_pool = cheapest(flat(new_pods, ready, drop=True), candidates, new_overhead, utilization)
    plans["recommended_spot_mix"] = Plan("recommended_spot_mix", [p for p in (od_pool, spot_pool) if p])
    return CostReport(catalog.describe(), region, rates, utilization, workloads, plans, notes)


def cost_document(report: CostReport) -> dict[str, Any]:
    """The estimate as one JSON-ready document (rounded): what ``-o json`` prints and the other formats show."""
    def plan_doc(plan: Plan) -> dict[str, Any]:
        return {
            "monthly": round(plan.monthly, 2),
            "nodes": plan.nodes,
            "pools": [{"instance_type": p.instance.name, "capacity": "spot" if p.spot else "on-demand",
                       "nodes": p.nodes, "pods": p.pods, "monthly": round(p.monthly, 2),
                       "interruptions_per_month": round(p.interruptions_per_month, 2)} for p in plan.pools],
            "interruptions_per_month": round(plan.interruptions_per_month, 2),
        }

    base = report.plans["current_on_demand"].monthly
    return {
        "currency": "USD",
        "catalog": report.catalog,
        "region": report.region,
        "rates": {"cpu_hourly": round(report.rates.cpu_hourly, 6), "memory_gib_hourly": round(
            report.rates.memory_hourly, 6), "basis": report.rates.basis},
        "target_utilization": report.utilization,
        "totals": {
            "current_monthly": round(report.current_monthly, 2),
            "recommended_monthly": round(report.recommended_monthly, 2),
            "savings_monthly": round(report.current_monthly - report.recommended_monthly, 2),
            "savings_pct": round(100 * (1 - report.recommended_monthly / report.current_monthly), 1)
            if report.current_monthly else None,
        },
        "namespaces": [{"namespace": ns, "current_monthly": round(c, 2), "recommended_monthly": round(r, 2),
                        "savings_monthly": round(c - r, 2)} for ns, (c, r) in report.namespaces().items()],
        "plans": {name: {**plan_doc(plan), "vs_current_pct": round(100 * (plan.monthly / base - 1), 1) if base
                         else None} for name, plan in report.plans.items()},
        "workloads": [{
            "namespace": w.key.namespace, "kind": w.key.kind, "workload": w.key.name,
            "replicas": round(w.replicas, 2), "current_monthly": round(w.current_monthly, 2),
            "recommended_monthly": round(w.recommended_monthly, 2), "savings_monthly": round(w.savings_monthly, 2),
            "spot": {"ready": w.spot.ready, "override": w.spot.override,
                     "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in w.spot.checks]},
        } for w in report.workloads],
        "notes": report.notes,
    }


__all__ = ["CostReport", "attach_costs", "cost_document", "estimate_cost"]
