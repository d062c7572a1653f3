"""Find where a container's resources are set in a GitOps repository checkout.

One module per layout, and this facade that asks them in order:

* ``mapping.py``: an entry of the mapping file wins over everything;
* ``plain.py``: plain manifests (Deployment, StatefulSet, DaemonSet, CronJob, Job, Argo
  Rollout; multi-document files), matched by kind, name, namespace and container;
* ``kustomize.py``: manifests an overlay renders, edited in the patch that sets them;
* ``helm.py``: charts, through the values key a template renders into ``resources``;
* ``deployers.py``: Argo CD Applications and Flux objects, which give namespaces, release
  names and values to what they deploy.

The namespace of a manifest is resolved as its deployers resolve it, outermost first: a
Flux ``targetNamespace``, the kustomization chain's ``namespace:``, the manifest's own, an
Argo CD Application's destination.  A manifest with none matches the recommendation's
namespace only when its kind, name and container are unique in the repository.  With
several environments (overlays, values files, HelmRelease patches) ``environment`` (or
the recommendation's cluster) picks the one whose path names it.

What cannot be located is reported with the reason, never guessed; a container found in
two places is an error until a mapping entry (or the environment) says which one.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from rightsizer import kube
from rightsizer.history import ContainerKey
from rightsizer.patch.locate.deployers import PathNamespace, read_deployer
from rightsizer.patch.locate.helm import HelmLayout
from rightsizer.patch.locate.kustomize import KUSTOMIZATION_NAMES, KustomizeLayout
from rightsizer.patch.locate.mapping import MappingLayout
from rightsizer.patch.locate.plain import PlainLayout
from rightsizer.patch.locate.repofiles import RepoFiles
from rightsizer.patch.styles.postrender import PostRenderStyle
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError

IGNORE_ANNOTATION = "rightsizer.io/ignore"


class Locator:
    def __init__(self, repo: Path, mapping: Path | None = None, environment: str | None = None,
                 allow_remote: bool = False):
        self.files = RepoFiles(repo)
        self.allow_remote = allow_remote
        self.kustomize = KustomizeLayout(self.files)
        self.helm = HelmLayout(self.files, self.kustomize)
        self.plain = PlainLayout(self.files)
        self.environment = environment
        self.paths: list[PathNamespace] = []
        self.unexpanded: list[tuple[str, str]] = []  # (path pattern, why) an ApplicationSet could not be expanded
        self._scan()
        self.mapping = MappingLayout(self.files, mapping)
        self.helm.releases += self.mapping.releases
        self.refused = self.mapping.refused  # mapping entries set aside -> why

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
        for rel in self.kustomize.json_resources():  # kustomize reads JSON manifests too
            self.files.add_objects(rel)
        for chart in sorted(charts):
            try:
                self.helm.add_chart(chart)
            except PatchError as exc:  # a chart file not read (too large, not UTF-8): that chart alone
                self.files.note_skipped(chart / "Chart.yaml", exc)
        patches = self.kustomize.patch_files()
        self.files.objects = [o for o in self.files.objects if o.file not in patches]  # a patch is not an object
        for file, index, doc in self.files.deployers:
            if file not in patches:
                paths, releases, unresolved = read_deployer(doc, file, index, self.files.repo)
                self.paths += paths
                self.helm.releases += releases
                self.unexpanded += [(pattern, f"{why} ({file})") for pattern, why in unresolved]

    def text(self, rel: Path) -> str:
        return self.files.text(rel)

    def locate(self, key: ContainerKey, init: bool = False) -> Target:
        """The one place to edit, or a PatchError saying why there is none (or why it cannot be checked)."""
        target = self._locate(key, init)
        if target.file.suffix == ".json":
            raise PatchError(f"{key}: {target.file} is a JSON manifest: rightsizer edits YAML text only; set the "
                             "values there by hand, or convert the file to YAML")
        if target.kustomization is not None:
            refused = self.kustomize.refusal(target.kustomization, self.allow_remote)
            if refused is not None:
                raise PatchError(f"{key}: {refused}")
        return target

    def _locate(self, key: ContainerKey, init: bool) -> Target:
        mapped = self.mapping.find(key)
        if mapped is not None:
            return mapped
        environment = self.environment or key.cluster or None
        matched: list[Target] = []  # rendered in the key's namespace
        unresolved: list[Target] = []  # rendered under no namespace at all
        elsewhere = 0  # the same kind, name and container in another namespace
        shared: list[str] = []  # applied to several namespaces at once: why it cannot be edited for one
        for obj in self.files.objects:
            if obj.kind != key.kind or obj.name != key.workload:
                continue
            roots = self.kustomize.roots_rendering(obj.file)
            if not roots:  # a plain manifest, applied as it is
                plain = self.plain.find(obj, key, init)
                namespace = self._namespace(obj.file.parent, obj.namespace, key.namespace, shared)
                if plain is not None:
                    matched += [plain] if namespace == key.namespace else []
                    unresolved += [plain] if namespace is None else []
                    elsewhere += namespace not in (None, key.namespace)
                continue
            rendered_in = {root: self._namespace(root, self.kustomize.namespace(chain, obj), key.namespace, shared)
                           for root, chain in roots}
            rendered = set(rendered_in.values())
            for root, chain in roots:
                namespace = rendered_in[root]
                if namespace == key.namespace:
                    matched.append(self.kustomize.find(root, chain, obj, key, init, roots, rendered))
                elif self.files.has_container(obj, key.container, init):
                    if namespace is None:
                        unresolved.append(self.kustomize.find(root, chain, obj, key, init, roots, rendered))
                    else:
                        elsewhere += 1
        helm = self.helm.find(key, init, environment)
        in_manifests = bool(matched or unresolved or elsewhere)
        for target, namespace in helm.targets:
            if in_manifests and isinstance(target.style, PostRenderStyle):
                continue  # a post-renderer guesses the chart's workload: one in the repository's manifests wins
            if namespace == key.namespace:
                matched.append(target)
            elif namespace is None:
                unresolved.append(target)
            else:
                elsewhere += 1
        unique = _in_environment(list(dict.fromkeys(matched)), environment)
        if len(unique) == 1:
            return unique[0]
        if len(unique) > 1:
            where = "; ".join(f"{t.file} ({t.how})" for t in unique)
            raise PatchError(f"{key}: found in more than one place: {where}; add a mapping entry saying which"
                             + ("" if environment else " (or pass --environment NAME)"))
        unknown = self._unexpanded(key)
        candidates = _in_environment(list(dict.fromkeys(unresolved)), environment)
        if len(candidates) == 1 and not elsewhere:
            only = candidates[0]
            return replace(only, how=f"{only.how}; no namespace is set for it in the repository, and it is the only "
                                     f"{key.kind} {key.workload!r} with a container {key.container!r}")
        if candidates:
            where = "; ".join(f"{t.file} ({t.how})" for t in candidates)
            raise PatchError(f"{key}: ambiguous: no namespace is set for it in the repository and it is not unique "
                             f"there ({where}{f'; and {elsewhere} in other namespaces' if elsewhere else ''}): add "
                             f"a mapping entry saying which file{unknown}")
        reasons = [*shared, *helm.reasons]
        if reasons:
            raise PatchError(f"{key}: {'; '.join(dict.fromkeys(reasons))}{unknown}")
        skipped = self.files.skipped
        note = f"; files not read: {', '.join(map(str, skipped))}" if skipped else ""
        raise PatchError(f"{key}: not found in the repository (no {key.kind} {key.workload!r} with container "
                         f"{key.container!r} in namespace {key.namespace!r}){note}; add a mapping entry{unknown}")

    def _namespace(self, directory: Path, own: str | None, wanted: str, shared: list[str]) -> str | None:
        """The namespace a directory's manifests are applied in: a Flux targetNamespace over it wins; then the
        manifest's (or overlay's) own; then the Argo CD Applications' destination.  When Applications apply
        it to several namespaces, editing it would change them all: noted in ``shared``, matched nowhere."""
        over = [p for p in self.paths if directory == p.path or p.path in directory.parents or p.path == Path(".")]
        forced = next((p.namespace for p in sorted(over, key=lambda p: len(p.path.parts)) if p.override), None)
        if forced or own:
            return forced or own
        defaults = list(dict.fromkeys(p.namespace for p in over if not p.override))
        if len(defaults) > 1:
            if wanted in defaults:
                sources = ", ".join(p.source for p in over if not p.override)
                shared.append(f"{directory} is applied to the namespaces {', '.join(defaults)} ({sources}): an "
                              "edit there would change them all; give each its own overlay, or add a mapping entry")
            return ""  # in no one namespace

        return defaults[0] if defaults else None

    def applied_namespace(self, directory: Path, own: str | None) -> str | None:
        """The namespace ``directory``'s manifests are applied in, read-only (``audit`` names what it checks
        with it): None when nothing sets one, ``""`` when Applications apply it to several."""
        return self._namespace(directory, own, "", [])

    def _unexpanded(self, key: ContainerKey) -> str:
        """What ApplicationSets that may deploy this workload could not say (their generators need the cluster)."""
        dirs = {obj.file.parent.as_posix() for obj in self.files.objects if obj.kind == key.kind
                and obj.name == key.workload}
        why = [reason for pattern, reason in self.unexpanded
               if any(fnmatch(d, pattern) or fnmatch(d, f"{pattern}/*") for d in dirs)]
        return "".join(f" ({w}: where and in which namespace it deploys is not known from the repository)"
                       for w in dict.fromkeys(why))

    def opted_out(self, key: ContainerKey) -> str | None:
        """The file of a manifest of this workload annotated ``rightsizer.io/ignore: "true"``, if any."""
        for obj in self.files.objects:
            if obj.kind == key.kind and obj.name == key.workload:
                annotations = (self.files.data(obj.file)[obj.doc].get("metadata") or {}).get("annotations") or {}
                if str(annotations.get(IGNORE_ANNOTATION, "")).lower() == "true":
                    return str(obj.file)
        return None

    def workload(self, kind: str, name: str) -> dict[str, Any]:
        """The plain data of the (first) manifest of a workload: what a new patch copies its apiVersion from."""
        obj = next(o for o in self.files.objects if o.kind == kind and o.name == name)
        return self.files.data(obj.file)[obj.doc]  # type: ignore[no-any-return]

    def kustomization_file(self, kdir: Path) -> Path:
        file = self.kustomize.kustomizations[kdir].file
        assert file is not None
        return file

    def base_container(self, key: ContainerKey, init: bool) -> dict[str, Any] | None:
        """The container as the object a patch applies to sets it (its env, command and args are what a patch
        that does not set them keeps)."""
        for obj in self.files.objects:
            if obj.kind == key.kind and obj.name == key.workload:
                spec = kube.pod_spec(self.files.data(obj.file)[obj.doc])
                items = (spec or {}).get("initContainers" if init else "containers") if isinstance(spec, dict) else None
                found = next((c for c in items or [] if isinstance(c, dict) and c.get("name") == key.container), None)
                if found is not None:
                    return found  # type: ignore[no-any-return]
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



def _in_environment(targets: list[Target], environment: str | None) -> list[Target]:
    """Of several places, those whose path names the environment (all of them when none does)."""
    if environment is None or len(targets) < 2:
        return targets
    chosen = [t for t in targets if environment in t.file.parts or t.file.stem == f"values-{environment}"
              or (t.kustomization is not None and environment in t.kustomization.parts)]
    return chosen or targets
