"""Resilience: no single pod without a disruption budget, replicas spread, an HPA on CPU with a CPU request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rightsizer import kube
from rightsizer.audit.model import Finding
from rightsizer.audit.registry import ContainerRule, Context, Rule
from rightsizer.audit.views import ContainerView, Place, WorkloadView
from rightsizer.history import Hpa

#: kinds that keep a number of identical pods running
REPLICATED = ("Deployment", "StatefulSet", "ReplicaSet", "Rollout")


def hpa_of(hpa: dict[str, Any]) -> Hpa:
    """A rendered HorizontalPodAutoscaler (autoscaling/v1, v2beta1 or v2) as the history models one."""
    spec = hpa.get("spec") or {}
    targets: dict[str, float] = {}
    if isinstance(spec.get("targetCPUUtilizationPercentage"), int | float):
        targets["cpu"] = float(spec["targetCPUUtilizationPercentage"])
    for metric in spec.get("metrics") or []:
        resource = (metric or {}).get("resource") if isinstance(metric, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
            continue
        target = resource.get("target") or {}
        value = target.get("averageUtilization") if isinstance(target, dict) else None
        value = resource.get("targetAverageUtilization") if value is None else value
        if isinstance(value, int | float):
            targets[resource["name"]] = float(value)
    name = str((hpa.get("metadata") or {}).get("name") or "?")
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    return Hpa(name, low if isinstance(low, int) else None, high if isinstance(high, int) else None, targets)


def selects(pdb: dict[str, Any], labels: dict[str, Any]) -> bool:
    """Whether a PodDisruptionBudget's selector picks pods with these labels (matchLabels and ``In``)."""
    selector = (pdb.get("spec") or {}).get("selector") or {}
    match = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    return all(isinstance(e, dict) and e.get("operator") == "In" and labels.get(e.get("key")) in (e.get("values") or [])
               for e in expressions)


def pod_place(workload: WorkloadView) -> Place:
    """The pod template's spec in the workload's manifest (its name when the manifest was not found)."""
    if not workload.place.path:
        return workload.place
    return Place(workload.place.file, workload.place.doc, (*kube.template_parent(workload.kind), "template", "spec"))


def fewest_pods(workload: WorkloadView) -> tuple[int | None, str]:
    """The fewest pods the workload runs (an HPA's minimum, else its replicas), and what says so."""
    for hpa in workload.hpas:
        low = hpa_of(hpa).min_replicas or 1
        return low, f"HPA {hpa_of(hpa).name} minReplicas: {low}"
    replicas = workload.replicas
    spec = (workload.manifest or {}).get("spec")
    written = spec.get("replicas", "(not set: 1)") if isinstance(spec, dict) else "(not set: 1)"
    return replicas, f"spec.replicas: {written}"


class SingleReplicaNoBudget(Rule):
    name = "single-replica-no-pdb"
    severity = "warning"
    summary = "One replica and no PodDisruptionBudget"
    why = ("A node drain, an upgrade or a spot interruption takes the only pod down with nothing to say it "
           "should wait: an outage until the replacement is ready.")

    def check(self, workload: WorkloadView, ctx: Context) -> Iterator[Finding]:
        if workload.kind not in REPLICATED:
            return
        pods, why = fewest_pods(workload)
        if pods != 1 or any(selects(p, workload.pod_labels) for p in workload.pdbs):
            return
        evidence = [why, "no PodDisruptionBudget selects its pods"]
        e = next((c.evidence for c in workload.containers if c.evidence is not None), None)
        if e is not None:
            evidence.append(f"{e.pods} pods seen over the window")
        place = Place(workload.place.file, workload.place.doc, ("spec", "replicas")) if workload.place.path \
            else workload.place
        yield ctx.finding(self, workload, place, "a single replica and no PodDisruptionBudget", evidence=evidence,
                          fix="run 2 replicas with a PodDisruptionBudget (maxUnavailable: 1), or accept the "
                              "downtime knowingly")


class NoSpread(Rule):
    name = "no-spread"
    severity = "warning"
    summary = "Several replicas without pod anti-affinity or topology spread"
    why = ("The scheduler may put every replica on one node or zone: replicas that fail together are no "
           "redundancy.")

    def check(self, workload: WorkloadView, ctx: Context) -> Iterator[Finding]:
        if workload.kind not in REPLICATED:
            return
        most = max([workload.replicas or 0] + [hpa_of(h).max_replicas or 0 for h in workload.hpas])
        spec = workload.pod_spec
        anti = (spec.get("affinity") or {}).get("podAntiAffinity") or {}
        spread = spec.get("topologySpreadConstraints") or any(terms for terms in anti.values()) if isinstance(
            anti, dict) else spec.get("topologySpreadConstraints")
        if most < 2 or spread:
            return
        yield ctx.finding(self, workload, pod_place(workload), f"up to {most} replicas, nothing spreads them",
                          evidence=[f"up to {most} replicas", "no topologySpreadConstraints, no podAntiAffinity"],
                          fix="add topologySpreadConstraints over kubernetes.io/hostname (and the zone) with "
                              "whenUnsatisfiable: ScheduleAnyway, or a preferred podAntiAffinity")


class HpaCpuWithoutRequest(ContainerRule):
    name = "hpa-cpu-without-request"
    severity = "error"
    summary = "An HPA on CPU utilization over a container with no CPU request"
    why = ("Utilization is usage over the request: with a container that requests no CPU the HPA cannot compute "
           "it and does not scale on CPU at all.")
    init = False

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        if container.quantity("requests", "cpu") is not None:
            return
        for hpa in workload.hpas:
            model = hpa_of(hpa)
            if "cpu" in model.utilization_targets:
                yield ctx.finding(
                    self, workload, container.resources.at("requests"),
                    f"HPA {model.name} scales on CPU utilization but requests.cpu is not set", container=container,
                    evidence=[f"HPA {model.name}: target {model.utilization_targets['cpu']:g}% CPU utilization",
                              "resources.requests.cpu is not set"],
                    fix="set requests.cpu (the HPA's utilization is usage over it)")
                return
