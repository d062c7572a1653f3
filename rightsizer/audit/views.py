"""What the rules look at: a workload as the repository renders it, its containers, and where each is written.

A :class:`Place` is a document of a file and a key path in it; :class:`Lines` turns it into the
line a finding points at (the deepest key that exists, so a missing ``limits`` points at the
``resources`` that should hold it).  Templates are not YAML: a Helm container's place carries
its line, found in the template's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rightsizer import kube
from rightsizer.patch.locate.repofiles import RepoFiles

if TYPE_CHECKING:
    from rightsizer.audit.evidence import Evidence


@dataclass(frozen=True)
class Place:
    """A node of a YAML file (``path`` from document ``doc``), or a fixed ``line`` of a text (a template)."""

    file: Path
    doc: int = 0
    path: tuple[str | int, ...] = ()
    line: int | None = None

    def at(self, *more: str | int) -> Place:
        return Place(self.file, self.doc, (*self.path, *more), self.line)


@dataclass
class ContainerView:
    """One container of a rendered workload."""

    name: str
    init: bool
    spec: dict[str, Any]  # the container as rendered (of a Helm chart: its name, image and resources only)
    place: Place  # the container in its manifest or template
    resources: Place  # the ``resources`` mapping where a change to them is written (the patch's target)
    evidence: Evidence | None = None  # measured usage, when a source was given and it ran there

    @property
    def env(self) -> dict[str, str]:
        """Literal env values (``valueFrom`` entries are not known from the repository)."""
        return {str(e["name"]): str(e["value"]) for e in self.spec.get("env") or []
                if isinstance(e, dict) and "name" in e and isinstance(e.get("value"), str | int | float)}

    def quantity(self, section: str, resource: str) -> Any:
        resources = self.spec.get("resources")
        values = resources.get(section) if isinstance(resources, dict) else None
        return values.get(resource) if isinstance(values, dict) else None


@dataclass
class WorkloadView:
    """A workload in one namespace, as a kustomize overlay, a plain file or a Helm values file renders it."""

    namespace: str | None
    kind: str
    name: str
    manifest: dict[str, Any] | None  # None: a Helm chart's workload, of which only container resources are known
    place: Place
    rendered_by: str
    containers: list[ContainerView] = field(default_factory=list)
    hpas: list[dict[str, Any]] = field(default_factory=list)  # HPAs scaling it, as rendered beside it
    pdbs: list[dict[str, Any]] = field(default_factory=list)  # PodDisruptionBudgets rendered in its namespace
    #: a Helm template's name for any release: what names it in the cluster when no release says
    name_pattern: re.Pattern[str] | None = None

    @property
    def pod_spec(self) -> dict[str, Any]:
        return (kube.pod_spec(self.manifest) or {}) if self.manifest is not None else {}

    @property
    def pod_labels(self) -> dict[str, Any]:
        template = kube.pod_template(self.manifest) if self.manifest is not None else None
        labels = ((template or {}).get("metadata") or {}).get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def replicas(self) -> int | None:
        """``spec.replicas`` (1 when a Deployment leaves it out, as the API server defaults it)."""
        if self.manifest is None:
            return None
        value = (self.manifest.get("spec") or {}).get("replicas")
        if value is None:
            return 1 if self.kind in ("Deployment", "StatefulSet", "ReplicaSet", "Rollout") else None
        return value if isinstance(value, int) else None


class Lines:
    """Line numbers of places, from the parsed files (with positions) the locator already holds."""

    def __init__(self, files: RepoFiles):
        self.files = files

    def __call__(self, place: Place) -> int:
        if place.line is not None:
            return place.line
        try:
            node: Any = self.files.documents(place.file)[place.doc]
        except Exception:  # noqa: BLE001 - a file the patch would create, or one that does not parse
            return 1
        line = getattr(getattr(node, "lc", None), "line", 0)
        for part in place.path:
            if isinstance(node, dict) and part in node and hasattr(node, "lc"):
                line = node.lc.key(part)[0]
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) and hasattr(node, "lc"):
                line = node.lc.item(part)[0]
                node = node[part]
            else:
                break
        return int(line) + 1

    def resolves(self, place: Place) -> bool:
        """Whether every key of the place's path exists and leads to a mapping."""
        try:
            node: Any = self.files.documents(place.file)[place.doc]
        except Exception:  # noqa: BLE001
            return False
        for part in place.path:
            if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return False
        return isinstance(node, dict)
