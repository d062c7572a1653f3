"""Where things live in Kubernetes workload objects, written once for patch, cost and audit.

A CronJob nests its pod template one level deeper (``spec.jobTemplate.spec.template``) than a
Deployment, StatefulSet, DaemonSet or Job (``spec.template``); every reader and writer of pod
templates goes through these helpers so that the difference is spelled in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def template_parent(kind: str) -> tuple[str, ...]:
    """The keys from the object to the mapping that holds ``template`` (the pod template)."""
    return ("spec", "jobTemplate", "spec") if kind == "CronJob" else ("spec",)


def pod_template(obj: Any) -> Any:
    """The pod template (``metadata`` and ``spec``) of a workload object, or None where it has none."""
    node = obj
    for key in (*template_parent(obj.get("kind", "") if isinstance(obj, Mapping) else ""), "template"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def pod_spec(obj: Any) -> Any:
    """The pod spec of a workload object's template, or None."""
    template = pod_template(obj)
    spec = template.get("spec") if template is not None else None
    return spec if isinstance(spec, Mapping) else None


def wrap_template(kind: str, template: dict[str, Any]) -> dict[str, Any]:
    """``{"spec": ...}`` holding ``template`` (``{"template": {...}}``) where ``kind`` keeps it: the body of a
    strategic-merge patch."""
    body: dict[str, Any] = template
    for key in reversed(template_parent(kind)):
        body = {key: body}
    return body
