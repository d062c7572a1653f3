"""Find where a container's resources are set in a GitOps repository checkout.

One module per layout, and this facade that asks them in order:

* ``mapping.py``: an entry of the mapping file wins over everything;
* ``plain.py``: plain manifests (Deployment, StatefulSet, DaemonSet, CronJob, Job, Argo
  Rollout; multi-document files), matched by kind, name, namespace and container;
* ``kustomize.py``: manifests an overlay renders, edited in the patch that sets them;
* ``helm.py``: charts, through the values key a template renders into ``resources``.

What cannot be located is reported with the reason, never guessed; a container found in
two places is an error until a mapping entry says which one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rightsizer.history import ContainerKey
from rightsizer.patch.locate.helm import HelmLayout
from rightsizer.patch.locate.kustomize import KUSTOMIZATION_NAMES, KustomizeLayout
from rightsizer.patch.locate.mapping import MappingLayout
from rightsizer.patch.locate.plain import PlainLayout
from rightsizer.patch.locate.repofiles import RepoFiles
from rightsizer.patch.manifests import env_value, find_container, pod_spec
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError


class Locator:
    def __init__(self, repo: Path, mapping: Path | None = None):
        self.files = RepoFiles(repo)
        self.kustomize = KustomizeLayout(self.files)
        self.helm = HelmLayout(self.files)
        self.plain = PlainLayout(self.files)
        self._scan()
        self.mapping = MappingLayout(repo, mapping)

    def _scan(self) -> None:
        files = self.files.yaml_files()
        charts = {p.parent for p in files if p.name == "Chart.yaml"}
        for rel in files:
            if any(chart in rel.parents for chart in charts):
                continue  # charts are read below: templates are not YAML, values are not manifests
            if rel.name in KUSTOMIZATION_NAMES:
                self.kustomize.add(rel)
            else:
                self.files.add_objects(rel)
        for chart in sorted(charts):
            self.helm.add_chart(chart)
        patches = self.kustomize.patch_files()
        self.files.objects = [o for o in self.files.objects if o.file not in patches]  # a patch is not an object

    def text(self, rel: Path) -> str:
        return self.files.text(rel)

    def locate(self, key: ContainerKey, init: bool = False) -> Target:
        """The one place to edit, or a PatchError saying why there is none."""
        mapped = self.mapping.find(key)
        if mapped is not None:
            return mapped
        found: list[Target] = []
        for obj in self.files.objects:
            if obj.kind != key.kind or obj.name != key.workload:
                continue
            roots = self.kustomize.roots_rendering(obj.file)
            if not roots:  # a plain manifest, applied as it is
                plain = self.plain.find(obj, key, init)
                found += [plain] if plain is not None else []
                continue
            for root, chain in roots:
                if self.kustomize.namespace(chain, obj) == key.namespace:
                    found.append(self.kustomize.find(root, chain, obj, key, init, roots))
        found += self.helm.find(key.workload, key.container, init, key.namespace)
        unique = list(dict.fromkeys(found))
        if not unique:
            skipped = self.files.skipped
            note = f"; skipped as not YAML: {', '.join(map(str, skipped))}" if skipped else ""
            raise PatchError(f"{key}: not found in the repository (no {key.kind} {key.workload!r} with container "
                             f"{key.container!r} in namespace {key.namespace!r}){note}; add a mapping entry")
        if len(unique) > 1:
            where = "; ".join(f"{t.file} ({t.how})" for t in unique)
            raise PatchError(f"{key}: found in more than one place: {where}; add a mapping entry saying which")
        return unique[0]

    def workload(self, kind: str, name: str) -> dict[str, Any]:
        """The plain data of the (first) manifest of a workload: what a new patch copies its apiVersion from."""
        obj = next(o for o in self.files.objects if o.kind == kind and o.name == name)
        return self.files.data(obj.file)[obj.doc]  # type: ignore[no-any-return]

    def kustomization_file(self, kdir: Path) -> Path:
        file = self.kustomize.kustomizations[kdir].file
        assert file is not None
        return file

    def base_env(self, key: ContainerKey, init: bool, name: str) -> str | None:
        """An env var's value in the object a patch applies to (so a patch that overrides it can keep it)."""
        for obj in self.files.objects:
            if obj.kind == key.kind and obj.name == key.workload:
                spec = pod_spec(self.files.documents(obj.file)[obj.doc])
                container = find_container(spec, key.container, init) if spec is not None else None
                if container is not None:
                    return env_value(container, name)
        return None

    def hpas(self, namespace: str, kind: str, name: str) -> list[tuple[Path, int]]:
        """HPA objects scaling the workload in the namespace; refuses one shared with other namespaces."""
        out = []
        for obj in self.files.objects:
            if obj.kind != "HorizontalPodAutoscaler":
                continue
            doc = self.files.data(obj.file)[obj.doc]
            ref = (doc.get("spec") or {}).get("scaleTargetRef") or {}
            if ref.get("kind") != kind or ref.get("name") != name:
                continue
            roots = self.kustomize.roots_rendering(obj.file)
            namespaces = {self.kustomize.namespace(chain, obj) for _, chain in roots} if roots else {obj.namespace}
            if namespace not in namespaces and None not in namespaces:
                continue
            if len(namespaces - {None}) > 1:
                raise PatchError(f"the HPA {obj.name} in {obj.file} is rendered in several namespaces "
                                 f"({', '.join(sorted(n for n in namespaces if n))}): set its target in the "
                                 f"{namespace} overlay by hand")
            out.append((obj.file, obj.doc))
        return out

