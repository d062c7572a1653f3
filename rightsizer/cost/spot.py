"""Spot readiness per workload: can its pods be interrupted with two minutes' notice?

Each check is listed with pass, fail or unknown (unknown when only the manifests could
tell and no repository was given); a workload is spot-ready when nothing fails.  An
annotation on the workload, ``rightsizer.io/spot-ready: "true"`` or ``"false"``, overrides
the verdict when the team knows better.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rightsizer import kube
from rightsizer.history import Hpa, WorkloadKey

OVERRIDE = "rightsizer.io/spot-ready"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass, fail, unknown, n/a
    detail: str


@dataclass
class SpotReadiness:
    workload: WorkloadKey
    ready: bool
    checks: list[Check] = field(default_factory=list)
    override: str | None = None

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


def assess(key: WorkloadKey, replicas: float, hpa: Hpa | None, manifest: dict[str, Any] | None,
           pdbs: list[dict[str, Any]]) -> SpotReadiness:
    checks = [_controller(key), _replicas(key, replicas), _storage(manifest), _budget(manifest, pdbs, replicas),
              _hpa(hpa)]
    override = None
    if manifest is not None:
        value = ((manifest.get("metadata") or {}).get("annotations") or {}).get(OVERRIDE)
        if value is not None:
            override = str(value).lower()
    ready = override == "true" if override in ("true", "false") else not any(c.status == "fail" for c in checks)
    if key.kind == "DaemonSet":
        ready = False  # it runs on every node: it follows the pools, it does not choose one
    return SpotReadiness(key, ready, checks, override)


def _controller(key: WorkloadKey) -> Check:
    if key.kind in ("Deployment", "Rollout", "ReplicaSet"):
        return Check("controller", "pass", f"{key.kind}: a replaced pod starts anywhere")
    if key.kind in ("CronJob", "Job"):
        return Check("controller", "pass", f"{key.kind}: an interrupted run is retried (keep it idempotent)")
    if key.kind == "StatefulSet":
        return Check("controller", "fail", "StatefulSet: stable identity and volumes, not by default")
    if key.kind == "DaemonSet":
        return Check("controller", "n/a", "DaemonSet: runs on every node, spot or not")
    return Check("controller", "fail", f"{key.kind}: nothing recreates the pod")


def _replicas(key: WorkloadKey, replicas: float) -> Check:
    if key.kind in ("CronJob", "Job", "DaemonSet"):
        return Check("replicas", "n/a", "not a replicated service")
    if replicas >= 2 - 1e-9:
        return Check("replicas", "pass", f"{replicas:.1f} pods on average: one interruption leaves others serving")
    return Check("replicas", "fail", f"{replicas:.1f} pods on average: an interruption is an outage")


def _pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    return kube.pod_spec(manifest) or {}


def _storage(manifest: dict[str, Any] | None) -> Check:
    if manifest is None:
        return Check("local storage", "unknown", "manifest not given (--repo)")
    local = [v.get("name", "?") for v in _pod_spec(manifest).get("volumes") or []
             if isinstance(v, dict) and ("hostPath" in v or ("emptyDir" in v and (v.get("emptyDir") or {}).get(
                 "medium") != "Memory"))]
    if local:
        return Check("local storage", "fail", f"node-local volumes lost with the node: {', '.join(local)}")
    return Check("local storage", "pass", "no emptyDir or hostPath volumes")


def _labels(manifest: dict[str, Any]) -> dict[str, str]:
    return ((kube.pod_template(manifest) or {}).get("metadata") or {}).get("labels") or {}


def _budget(manifest: dict[str, Any] | None, pdbs: list[dict[str, Any]], replicas: float) -> Check:
    if manifest is None:
        return Check("disruption budget", "unknown", "manifest not given (--repo)")
    labels = _labels(manifest)
    for pdb in pdbs:
        selector = ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        spec = pdb.get("spec") or {}
        name = (pdb.get("metadata") or {}).get("name", "?")
        if "maxUnavailable" in spec:
            blocked = str(spec["maxUnavailable"]) in ("0", "0%")
        else:
            minimum = spec.get("minAvailable", 0)
            blocked = str(minimum).endswith("%") and minimum == "100%" or \
                (not str(minimum).endswith("%") and float(minimum) >= replicas)
        if blocked:
            return Check("disruption budget", "fail", f"PodDisruptionBudget {name} lets no pod go: a node never drains")
        return Check("disruption budget", "pass", f"PodDisruptionBudget {name} lets a node drain")
    return Check("disruption budget", "pass", "no PodDisruptionBudget: a drain evicts freely")


def _hpa(hpa: Hpa | None) -> Check:
    if hpa is None:
        return Check("HPA minimum", "n/a", "no HPA")
    if (hpa.min_replicas or 1) <= 1:
        return Check("HPA minimum", "fail", f"HPA {hpa.name} may scale to one pod")
    return Check("HPA minimum", "pass", f"HPA {hpa.name} keeps at least {hpa.min_replicas} pods")
