"""Spot readiness: what keeps a workload off interruptible capacity (the checks of ``rightsizer cost``).

A workload pinned to on-demand capacity (``karpenter.sh/capacity-type: on-demand``, or the
EKS node-group label) is the team's choice and is honoured: nothing is reported.  Pinned to
spot with a blocker, it is interrupted as it is: a warning; otherwise the blockers are what a
move to spot would need fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rightsizer.audit.model import Finding
from rightsizer.audit.registry import Context, Rule
from rightsizer.audit.rules.resilience import REPLICATED, fewest_pods, hpa_of, pod_place, selects
from rightsizer.audit.views import WorkloadView
from rightsizer.cost.spot import assess
from rightsizer.history import WorkloadKey

CAPACITY_LABELS = {"karpenter.sh/capacity-type": {"spot": "spot", "on-demand": "on-demand"},
                   "eks.amazonaws.com/capacityType": {"SPOT": "spot", "ON_DEMAND": "on-demand"},
                   "cloud.google.com/gke-spot": {"true": "spot"}}


def capacity(pod_spec: dict[str, Any]) -> tuple[str, str] | None:
    """(``spot`` or ``on-demand``, what says so) when a nodeSelector or required node affinity pins it."""
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        pinned = CAPACITY_LABELS.get(key, {}).get(str(value))
        if pinned:
            return pinned, f"nodeSelector {key}: {value}"
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for expression in (term or {}).get("matchExpressions") or []:
            values = expression.get("values") or [] if isinstance(expression, dict) else []
            kinds = {CAPACITY_LABELS.get(expression.get("key"), {}).get(str(v)) for v in values} - {None}
            if expression.get("operator") == "In" and len(kinds) == 1:
                return kinds.pop() or "", f"required node affinity {expression.get('key')} In {values}"
    return None


class SpotBlockers(Rule):
    name = "spot-blockers"
    severity = "info"
    summary = "What keeps a workload from running on spot capacity"
    why = ("Spot capacity costs a fraction of on-demand but a node can go with two minutes' notice: node-local "
           "storage is lost, a single pod is an outage, a budget that lets no pod go blocks the drain.")

    def check(self, workload: WorkloadView, ctx: Context) -> Iterator[Finding]:
        if workload.kind == "DaemonSet" or workload.manifest is None:
            return
        pinned = capacity(workload.pod_spec)
        if pinned is not None and pinned[0] == "on-demand":
            return
        pods, _ = fewest_pods(workload)
        replicas = float(pods) if pods is not None and workload.kind in REPLICATED else 0.0
        readiness = assess(WorkloadKey(workload.namespace or "", workload.kind, workload.name), replicas,
                           hpa_of(workload.hpas[0]) if workload.hpas else None, workload.manifest,
                           workload.pdbs)
        failed = [(c.name, c.detail) for c in readiness.failed()]
        if workload.kind in REPLICATED and not any(selects(p, workload.pod_labels) for p in workload.pdbs):
            failed.append(("no disruption budget", "one reclaim of several nodes may take every replica at once"))
        if readiness.override == "true" or not failed:
            return
        on_spot = pinned is not None
        evidence = [f"{name}: {detail}" for name, detail in failed] + ([f"runs on spot: {pinned[1]}"] if pinned else [])
        yield ctx.finding(self, workload, pod_place(workload),
                          ("on spot capacity with " if on_spot else "not spot-ready: ")
                          + ", ".join(name for name, _ in failed), evidence=evidence,
                          severity="warning" if on_spot else None,
                          fix="; ".join(_FIXES.get(name, detail) for name, detail in failed))


_FIXES = {"controller": "keep stateful sets on on-demand capacity (pin with karpenter.sh/capacity-type: on-demand)",
          "replicas": "run at least 2 replicas", "local storage": "move node-local data to a persistent volume",
          "disruption budget": "let the PodDisruptionBudget allow one pod to go",
          "HPA minimum": "raise the HPA's minReplicas to 2",
          "no disruption budget": "add a PodDisruptionBudget (maxUnavailable: 1)"}
