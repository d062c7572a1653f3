"""Every workload a GitOps checkout renders, found as ``patch`` finds containers, with where each is written.

The repository is read by the patch locator (:class:`~rightsizer.patch.locate.Locator`): its
kustomizations, plain manifests, charts and deployers, and the namespaces Argo CD and Flux
give them.  Each root kustomization is rendered with ``kubectl kustomize``, so the audit sees
what the cluster gets (patches applied, the overlay's namespace); a plain manifest is read as
it is; a local Helm chart is read per values file (:mod:`.charts`).  A container's
``resources`` are placed where the locator would edit them, so a finding about them points
at the line a fix changes.

What cannot be read (an overlay that does not render, a file that is not YAML, a chart
too dynamic to resolve without Helm) is listed in ``unread`` and the walk goes on.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from rightsizer import kube
from rightsizer.audit.charts import chart_workloads
from rightsizer.audit.views import ContainerView, Lines, Place, WorkloadView
from rightsizer.errors import RightsizerError
from rightsizer.history import ContainerKey
from rightsizer.patch.locate import Locator
from rightsizer.patch.locate.repofiles import WorkloadObject, first_line
from rightsizer.patch.manifests import WORKLOAD_KINDS
from rightsizer.yamlsafety import safe_documents


class RepoWalk:
    """The workloads of one checkout, and what of it could not be read."""

    def __init__(self, repo: Path, environment: str | None = None):
        self.repo = Path(repo)
        if not self.repo.is_dir():
            raise RightsizerError(f"--repo {repo}: not a directory; give the root of a GitOps checkout")
        self.locator = Locator(self.repo, environment=environment)
        self.lines = Lines(self.locator.files)
        self.unread: dict[str, str] = {str(f): why for f, why in self.locator.files.skipped.items()}
        self._roots: dict[Path, list[tuple[Path, list[Path]]]] = {}

    def workloads(self) -> list[WorkloadView]:
        """Kustomize renderings, then plain manifests, then Helm charts, each in its namespace."""
        out: list[WorkloadView] = []
        roots = self._root_files()
        for root in sorted(roots):
            out += self._rendered(root, roots[root])
        plain = [o for o in self._workload_objects() if not self._roots_of(o.file)]
        pdbs, hpas = self._plain_companions()
        for obj in plain:
            doc = self.locator.files.data(obj.file)[obj.doc]
            namespace = self._namespace(obj.file.parent, obj.namespace)
            out.append(self._view(doc, namespace, obj, f"{obj.file}",
                                  [p for ns, p in pdbs if ns in (None, namespace)],
                                  [h for ns, h in hpas if ns in (None, namespace)]))
        charts, unread = chart_workloads(self.locator, self.lines)
        self.unread.update(unread)
        return out + charts

    # --- kustomize ---------------------------------------------------------------------------------

    def _workload_objects(self) -> list[WorkloadObject]:
        return [o for o in self.locator.files.objects if o.kind in WORKLOAD_KINDS]

    def _roots_of(self, file: Path) -> list[tuple[Path, list[Path]]]:
        """(root kustomization, chain down to the file) for each root that renders it."""
        if file not in self._roots:
            self._roots[file] = self.locator.kustomize.roots_rendering(file)
        return self._roots[file]

    def _root_files(self) -> dict[Path, list[WorkloadObject]]:
        """Root kustomizations that render a workload, with the workload objects of the repository they render."""
        out: dict[Path, list[WorkloadObject]] = {}
        for obj in self._workload_objects():
            for root, _ in self._roots_of(obj.file):
                out.setdefault(root, []).append(obj)
        return out

    def _rendered(self, root: Path, objects: list[WorkloadObject]) -> list[WorkloadView]:
        docs = self._kustomize(root)
        how = f"overlay {root}"
        if docs is None:
            return [self._unpatched(root, o) for o in objects]
        pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
        hpas = [d for d in docs if d.get("kind") == "HorizontalPodAutoscaler"]
        out = []
        for doc in docs:
            meta = doc.get("metadata") or {}
            if doc.get("kind") not in WORKLOAD_KINDS or not isinstance(meta.get("name"), str):
                continue
            source = next((o for o in objects if o.kind == doc["kind"] and o.name == meta["name"]), None)
            namespace = self._namespace(root, meta.get("namespace"))
            out.append(self._view(doc, namespace, source, how, pdbs, hpas, fallback=self._kustomization_place(root)))
        return out

    def _unpatched(self, root: Path, obj: WorkloadObject) -> WorkloadView:
        """A manifest of an overlay that does not render, as written, in the namespace the overlay gives it."""
        chain = next(chain for r, chain in self._roots_of(obj.file) if r == root)
        namespace = self._namespace(root, self.locator.kustomize.namespace(chain, obj))
        return self._view(self.locator.files.data(obj.file)[obj.doc], namespace, obj,
                          f"{obj.file} (unpatched: {root} does not render)", [], [])

    def _kustomize(self, root: Path) -> list[dict[str, Any]] | None:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.unread[str(root)] = "kubectl not found: the overlay was read unpatched (install kubectl)"
            return None
        try:
            run = subprocess.run([kubectl, "kustomize", str(self.repo / root)], capture_output=True, text=True,
                                 check=False, timeout=120)
        except subprocess.TimeoutExpired:
            self.unread[str(root)] = "kubectl kustomize took over 120 s: read unpatched"
            return None
        if run.returncode != 0:
            reason = (run.stderr.strip().splitlines() or ["failed"])[-1][:200]
            self.unread[str(root)] = f"kubectl kustomize fails ({reason}): its manifests were read unpatched"
            return None
        try:
            return [d for d in safe_documents(run.stdout, f"kubectl kustomize {root}") if isinstance(d, dict)]
        except Exception as exc:  # noqa: BLE001 - too large or deep: the limits say why
            self.unread[str(root)] = f"its rendering was not read ({first_line(exc)})"
            return None

    def _kustomization_place(self, root: Path) -> Place:
        return Place(self.locator.kustomization_file(root))

    # --- plain manifests -----------------------------------------------------------------------------

    def _plain_companions(self) -> tuple[list[tuple[str | None, dict[str, Any]]], list[tuple[str | None, Any]]]:
        """PodDisruptionBudgets and HPAs outside any kustomization, with the namespace each is applied in."""
        pdbs: list[tuple[str | None, dict[str, Any]]] = []
        hpas: list[tuple[str | None, Any]] = []
        files = self.locator.files
        for rel in {o.file for o in files.objects} | self._pdb_files():
            if self._roots_of(rel):
                continue
            for doc in files.data(rel):
                if isinstance(doc, dict) and doc.get("kind") in ("PodDisruptionBudget", "HorizontalPodAutoscaler"):
                    ns = self._namespace(rel.parent, (doc.get("metadata") or {}).get("namespace"))
                    (pdbs if doc["kind"] == "PodDisruptionBudget" else hpas).append((ns, doc))
        return pdbs, hpas

    def _pdb_files(self) -> set[Path]:
        """Files outside the charts that hold a PodDisruptionBudget (the locator keeps only workloads and HPAs)."""
        files = self.locator.files
        return {rel for rel in files.yaml_files() if rel not in files.skipped
                and not any(chart in rel.parents for chart in self.locator.helm.charts)
                and "PodDisruptionBudget" in files.text(rel)}

    def _namespace(self, directory: Path, own: Any) -> str | None:
        return self.locator.applied_namespace(directory, own if isinstance(own, str) else None) or None

    # --- one workload -------------------------------------------------------------------------------

    def _view(self, doc: dict[str, Any], namespace: str | None, source: WorkloadObject | None, how: str,
              pdbs: list[dict[str, Any]], hpas: list[dict[str, Any]], fallback: Place | None = None) -> WorkloadView:
        meta = doc.get("metadata") or {}
        place = Place(source.file, source.doc, ("metadata", "name")) if source else (fallback or Place(Path(".")))
        view = WorkloadView(namespace, doc["kind"], str(meta["name"]), doc, place, how,
                            hpas=[h for h in hpas if _scales(h, doc["kind"], meta["name"])],
                            pdbs=[p for p in pdbs if not namespace or (p.get("metadata") or {}).get("namespace")
                                  in (None, namespace)])
        spec = kube.pod_spec(doc) or {}
        for init, field_name in ((False, "containers"), (True, "initContainers")):
            for item in spec.get(field_name) or []:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    container = self._container_place(source, item["name"], init, place)
                    resources = self._resources_place(view, item["name"], init, container)
                    view.containers.append(ContainerView(item["name"], init, item, container, resources))
        return view

    def _container_place(self, source: WorkloadObject | None, name: str, init: bool, fallback: Place) -> Place:
        if source is None or not self.locator.files.has_container(source, name, init):
            return fallback
        return Place(source.file, source.doc, self.locator.files.container_path(source, name, init))

    def _resources_place(self, view: WorkloadView, name: str, init: bool, container: Place) -> Place:
        """Where ``patch`` would write the container's resources; the container itself when it would not."""
        key = ContainerKey(view.namespace or "", view.kind, view.name, name)
        try:
            target = self.locator.locate(key, init)
        except RightsizerError:
            return container.at("resources")
        place = Place(target.file, target.doc, target.path)
        return place.at("resources") if place.path and self.lines.resolves(place) else container.at("resources")


def _scales(hpa: dict[str, Any], kind: str, name: str) -> bool:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return isinstance(ref, dict) and ref.get("kind") == kind and ref.get("name") == name
