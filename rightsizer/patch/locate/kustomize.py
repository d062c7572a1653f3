"""Kustomize: which overlays render a manifest, under which namespace, and which patch sets a container.

An overlay renders a base under a namespace; a strategic-merge or JSON 6902 patch in the
overlay chain that sets the container's resources wins (the overlay closest to the root
first).  A base shared with overlays of other namespaces is never edited: a new patch is
added to the overlay instead, so staging does not change with production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from rightsizer import kube
from rightsizer.history import ContainerKey
from rightsizer.patch.locate.repofiles import RepoFiles, WorkloadObject, repo_path
from rightsizer.patch.manifests import find_container, pod_spec
from rightsizer.patch.styles.container import ADD_TO_PATCH, CONTAINER, PATCH_CONTAINER
from rightsizer.patch.styles.json6902 import JSON6902
from rightsizer.patch.styles.newpatch import NEW_PATCH
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError
from rightsizer.yamlsafety import safe_documents

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

#: fields whose entries kustomize reads as files, directories or URLs (fetching the URLs)
FETCHED = ("resources", "bases", "components", "generators", "transformers", "validators", "crds", "configurations")

#: how kustomize recognises a remote target: a URL, an scp-style git address, a host name first, a ``?ref=``
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/)|[?&](?:ref|version|"
                     r"timeout|submodules)=")

#: (root kustomization, chain of kustomization dirs from it down to a file)
Rendering = tuple[Path, list[Path]]


@dataclass
class Kustomization:
    dir: Path
    namespace: str | None
    resources: list[Path] = field(default_factory=list)  # files and kustomization dirs
    patch_files: list[Path] = field(default_factory=list)  # strategic-merge patch files
    json_patches: list[tuple[Any, str]] = field(default_factory=list)  # (target, text or file)
    file: Path | None = None
    components: list[Path] = field(default_factory=list)  # component directories
    remote: list[str] = field(default_factory=list)  # URLs kustomize would fetch
    outside: list[str] = field(default_factory=list)  # absolute paths, paths above the repository


class KustomizeLayout:
    def __init__(self, files: RepoFiles):
        self.files = files
        self.kustomizations: dict[Path, Kustomization] = {}

    def add(self, rel: Path) -> None:
        """Read one kustomization file; one that does not parse is noted as skipped."""
        try:
            data = self.files.data(rel)[0] or {}
            if not isinstance(data, dict):
                raise PatchError(f"{rel} is not a mapping")
        except Exception as exc:  # noqa: BLE001
            self.files.note_skipped(rel, exc)
            return
        base = rel.parent
        k = Kustomization(base, data.get("namespace"), file=rel)
        for name in FETCHED:
            entries = data.get(name)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, str) and "\n" not in entry:
                    self._reference(k, name, entry)
        for entry in data.get("patchesStrategicMerge") or []:
            if isinstance(entry, str):
                k.patch_files.append(self._local(base, entry))
        for entry in data.get("patches") or []:
            if not isinstance(entry, dict):
                continue
            if "path" in entry:
                target = self._local(base, str(entry["path"]))
                if self._is_json_patch(target):
                    k.json_patches.append((entry.get("target"), str(target)))
                else:  # a strategic-merge patch, with or without a target selector
                    k.patch_files.append(target)
            elif "patch" in entry:
                k.json_patches.append((entry.get("target"), entry["patch"]))
        for entry in data.get("patchesJson6902") or []:
            if isinstance(entry, dict) and "path" in entry:
                k.json_patches.append((entry.get("target"), str(self._local(base, str(entry["path"])))))
        self.kustomizations[base] = k

    def _reference(self, k: Kustomization, field_name: str, entry: str) -> None:
        """Note a file or directory a kustomization has kustomize read: local, remote, or out of the repository."""
        local = self._local(k.dir, entry)
        if _is_remote(entry) and not self.files.exists(local) and not self.files.is_dir(local):
            k.remote.append(entry)
        elif Path(entry).is_absolute() or _escapes(k.dir, entry):
            k.outside.append(entry)
        elif field_name in ("resources", "bases"):
            k.resources.append(local)
        elif field_name == "components":
            k.components.append(local)

    def _local(self, base: Path, entry: str) -> Path:
        """A reference as the path of the file it names in the repository (links followed, as the files are)."""
        return self.files.real(repo_path(base / entry))

    def json_resources(self) -> list[Path]:
        """JSON manifests kustomizations list as resources (kustomize reads them as YAML)."""
        found = {r for k in self.kustomizations.values() for r in k.resources if r.suffix == ".json"}
        return sorted(r for r in found if self.files.exists(r))

    def reachable(self, root: Path) -> list[Path]:
        """The kustomization directories ``kubectl kustomize root`` reads: the root, its bases and components."""
        seen: list[Path] = []
        stack = [root]
        while stack:
            kdir = stack.pop()
            if kdir in seen or kdir not in self.kustomizations:
                continue
            seen.append(kdir)
            k = self.kustomizations[kdir]
            stack += [r for r in k.resources + k.components if r in self.kustomizations]
        return seen

    def needed(self, root: Path) -> set[Path]:
        """What rendering ``root`` reads: the kustomization directories (whole) and the files they name."""
        out: set[Path] = set()
        for kdir in self.reachable(root):
            k = self.kustomizations[kdir]
            out |= {kdir, *k.resources, *k.components, *k.patch_files}
            out |= {Path(p) for _, p in k.json_patches if "\n" not in str(p)}
        return out

    def refusal(self, root: Path, allow_remote: bool) -> str | None:
        """Why ``kubectl kustomize root`` must not run on this repository, if it must not."""
        for kdir in self.reachable(root):
            k = self.kustomizations[kdir]
            if k.outside:
                return (f"{k.file} names {k.outside[0]}, outside the repository: kubectl kustomize would read it, "
                        "so the edit is not checked nor made; keep what it renders inside the repository")
            if k.remote and not allow_remote:
                return (f"{k.file} lists the remote resource {k.remote[0]}: it is not fetched, so the edit cannot be "
                        "checked with kubectl kustomize; vendor it into the repository, or pass "
                        "--allow-remote-resources")
        return None

    def _is_json_patch(self, path: Path) -> bool:
        """A list of operations (JSON 6902), as opposed to a partial object (a strategic-merge patch)."""
        try:
            text = self.files.text(path)
        except PatchError:
            return False
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and stripped != "---":
                return stripped.startswith(("- ", "[")) or stripped == "-"
        return False

    def patch_files(self) -> set[Path]:
        """Files that are patches: they name workloads but are not objects of their own."""
        out = {f for k in self.kustomizations.values() for f in k.patch_files}
        return out | {Path(p) for k in self.kustomizations.values() for _, p in k.json_patches if "\n" not in str(p)}

    def roots_rendering(self, file: Path) -> list[Rendering]:
        """(root kustomization, chain of kustomization dirs from it down to the file) for each that renders it."""
        out = []
        included = {r for k in self.kustomizations.values() for r in k.resources if r in self.kustomizations}
        for root in sorted(set(self.kustomizations) - included):
            chain = self._chain(root, file, [])
            if chain:
                out.append((root, chain))
        return out

    def _chain(self, kdir: Path, file: Path, seen: list[Path]) -> list[Path] | None:
        if kdir in seen:
            return None
        k = self.kustomizations[kdir]
        if file in k.resources:
            return [*seen, kdir]
        for res in k.resources:
            if res in self.kustomizations:
                chain = self._chain(res, file, [*seen, kdir])
                if chain:
                    return chain
        return None

    def namespace(self, chain: list[Path], obj: WorkloadObject) -> str | None:
        for kdir in chain:  # the outermost namespace transformer wins
            if self.kustomizations[kdir].namespace:
                return self.kustomizations[kdir].namespace
        return obj.namespace

    def find(self, root: Path, chain: list[Path], obj: WorkloadObject, key: ContainerKey, init: bool,
             roots: list[Rendering], namespaces: set[str | None] | None = None) -> Target:
        """Where to set the container as rendered by ``root``: a patch, the base, or a new patch.

        ``namespaces``: those the roots render it in, as whatever applies them says (an Argo CD
        Application's destination too); by default the kustomizations' own."""
        for kdir in chain:  # the overlay closest to the root wins
            k = self.kustomizations[kdir]
            for target_spec, patch in k.json_patches:
                found = self._in_json_patch(target_spec, patch, obj, key, init, kdir, root)
                if found is not None:
                    return found
            for patch_file in k.patch_files:
                in_patch = self._in_patch(patch_file, obj, key.container, init)
                if in_patch is not None:
                    doc, path, has_container = in_patch
                    return Target(patch_file, doc, path, PATCH_CONTAINER if has_container else ADD_TO_PATCH,
                                  f"strategic-merge patch of {kdir}", kustomization=root)
        namespaces = namespaces if namespaces is not None else {self.namespace(c, obj) for _, c in roots}
        if len(namespaces) == 1 and self.files.has_container(obj, key.container, init):
            return Target(obj.file, obj.doc, self.files.container_path(obj, key.container, init), CONTAINER,
                          f"{obj.kind} manifest rendered by {root}", kustomization=root)
        return Target(root / f"rightsizer-{obj.name}.yaml", 0, (), NEW_PATCH,
                      f"new strategic-merge patch in {root} (the base is shared with other namespaces)",
                      kustomization=root)

    def patch_of(self, chain: list[Path], kind: str, name: str) -> tuple[Path, int, Path] | None:
        """(file, document, overlay) of the strategic-merge patch closest to the root that patches an object."""
        for kdir in chain:
            for patch_file in self.kustomizations[kdir].patch_files:
                try:
                    docs = self.files.data(patch_file)
                except Exception:  # noqa: BLE001, S112 - reported where the file is read for objects
                    continue
                for i, doc in enumerate(docs):
                    if isinstance(doc, dict) and doc.get("kind") == kind and \
                            (doc.get("metadata") or {}).get("name") == name:
                        return patch_file, i, kdir
        return None

    def _in_json_patch(self, target_spec: Any, patch: str, obj: WorkloadObject, key: ContainerKey, init: bool,
                       kdir: Path, root: Path) -> Target | None:
        """A JSON 6902 patch of this object whose operations set this container's resources, if any."""
        if isinstance(target_spec, dict) and (target_spec.get("name") not in (None, obj.name)
                                              or target_spec.get("kind") not in (None, obj.kind)):
            return None
        is_file = "\n" not in patch and self.files.exists(Path(patch))
        text = self.files.text(Path(patch)) if is_file else patch
        if "/resources" not in text or not self.files.has_container(obj, key.container, init):
            return None
        path = self.files.container_path(obj, key.container, init)
        prefix = "/" + "/".join(str(p) for p in path) + "/resources"
        try:
            ops = safe_documents(text, patch if is_file else f"an inline patch in {kdir}")[0] or []
        except Exception:  # noqa: BLE001
            raise PatchError(f"{key}: the JSON 6902 patch in {kdir} is not valid YAML") from None
        if not any(isinstance(op, dict) and str(op.get("path", "")).startswith(prefix) for op in ops):
            return None  # it sets another container's resources
        if not is_file:
            raise PatchError(f"{key}: its resources are set by an inline JSON 6902 patch in {kdir}; move it to a "
                             "file (patches: - path: ...) or edit it by hand")
        container = self.files.data(obj.file)[obj.doc]
        for part in path:
            container = container[part]
        return Target(Path(patch), 0, (prefix,), JSON6902, f"JSON 6902 patch of {kdir}", kustomization=root,
                      base_resources=container.get("resources") or {})

    def _in_patch(self, patch_file: Path, obj: WorkloadObject, container: str, init: bool
                  ) -> tuple[int, tuple[str | int, ...], bool] | None:
        """(document, path, whether the container is there) of the patch of this object, if any.

        Without the container the path is that of the containers list, to add it to.
        """
        docs = self.files.documents(patch_file)
        prefix: tuple[str | int, ...] = kube.template_parent(obj.kind)
        field_name = "initContainers" if init else "containers"
        for i, doc in enumerate(docs):
            if not isinstance(doc, CommentedMap) or doc.get("kind") != obj.kind:
                continue
            if (doc.get("metadata") or {}).get("name") != obj.name:
                continue
            spec = pod_spec(doc)
            if spec is None or not isinstance(spec.get(field_name), list):
                continue
            if find_container(spec, container, init) is None:
                return i, (*prefix, "template", "spec", field_name), False
            index = next(j for j, c in enumerate(spec[field_name]) if c.get("name") == container)
            return i, (*prefix, "template", "spec", field_name, index), True
        return None



def _is_remote(entry: str) -> bool:
    return _REMOTE.search(entry) is not None


def _escapes(base: Path, entry: str) -> bool:
    """Whether ``entry``, relative to ``base`` (a directory of the repository), climbs above the repository."""
    depth = len(base.parts)
    for part in Path(entry).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False
