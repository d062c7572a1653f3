"""Find where a container's resources are set in a GitOps repository checkout.

Three layouts are understood, and a mapping file covers the rest:

* **plain manifests**: Deployment, StatefulSet, DaemonSet, CronJob, Job, Argo Rollout,
  matched by kind, name, namespace and container (multi-document files included);
* **Kustomize**: an overlay renders a base under a namespace; a strategic-merge patch in
  the overlay chain that sets the container's resources wins (the overlay closest to the
  root first).  A base shared with overlays of other namespaces is never edited: a new
  patch is added to the overlay instead, so staging does not change with production;
* **Helm**: a template that renders ``.Values.X.resources`` into a container maps that
  workload container to the values key ``X``, whatever it is called; the workload name
  comes from the template's literal ``name:`` or the ``.Values`` it reads.

What cannot be located is reported with the reason, never guessed; a container found in
two places is an error until a mapping entry says which one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from rightsizer import kube
from rightsizer.history import ContainerKey
from rightsizer.patch.manifests import WORKLOAD_KINDS, env_value, find_container, pod_spec
from rightsizer.patch.yamltext import PatchError, load_documents, read_text, safe_documents

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}


@dataclass(frozen=True)
class Target:
    """Where to edit: a file, a document in it, and the key path to the node to edit.

    ``style`` says what the node is: ``container`` (a container mapping of a manifest or
    a strategic-merge patch), ``values`` (a Helm values mapping holding ``resources``),
    or ``new-patch`` (a patch file to create in ``kustomization``).
    """

    file: Path  # relative to the repository root
    doc: int
    path: tuple[str | int, ...]
    style: str
    how: str
    kustomization: Path | None = None  # the overlay to render and check, or to add a new patch to
    base_resources: dict[str, Any] | None = field(default=None, compare=False)  # json6902: what the base sets


@dataclass
class _Object:
    file: Path
    doc: int
    kind: str
    name: str
    namespace: str | None


@dataclass
class _Kustomization:
    dir: Path
    namespace: str | None
    resources: list[Path] = field(default_factory=list)  # files and kustomization dirs
    patch_files: list[Path] = field(default_factory=list)  # strategic-merge patch files
    json_patches: list[tuple[Any, str]] = field(default_factory=list)  # (target, text or file)
    file: Path | None = None


class Locator:
    def __init__(self, repo: Path, mapping: Path | None = None):
        self.repo = repo
        self.objects: list[_Object] = []
        self.kustomizations: dict[Path, _Kustomization] = {}
        self.skipped: dict[Path, str] = {}
        self.helm: dict[tuple[str, str, bool], list[Target]] = defaultdict(list)
        self.mapping: dict[tuple[str, str, str], Target] = {}
        self._texts: dict[Path, str] = {}
        self._parsed: dict[Path, list[Any]] = {}
        self._scan()
        if mapping is not None:
            self._load_mapping(mapping)

    # --- scanning --------------------------------------------------------------------------

    def text(self, rel: Path) -> str:
        if rel not in self._texts:
            self._texts[rel] = read_text(self.repo / rel)
        return self._texts[rel]

    def documents(self, rel: Path) -> list[Any]:
        """A file's documents with positions, parsed once however many containers are looked up in it."""
        if rel not in self._parsed:
            self._parsed[rel] = load_documents(self.text(rel), str(rel))
        return self._parsed[rel]

    def _files(self) -> list[Path]:
        out = []
        for path in sorted(self.repo.rglob("*")):
            rel = path.relative_to(self.repo)
            if any(part in SKIP_DIRS for part in rel.parts) or not path.is_file():
                continue
            if path.suffix in (".yaml", ".yml") or path.name == "Kustomization":
                out.append(rel)
        return out

    def _scan(self) -> None:
        charts = {p.parent for p in self._files() if p.name == "Chart.yaml"}
        for rel in self._files():
            if any(chart in rel.parents for chart in charts):
                continue  # charts are read below: templates are not YAML, values are not manifests
            if rel.name in KUSTOMIZATION_NAMES:
                self._kustomization(rel)
                continue
            try:
                docs = safe_documents(self.text(rel))
            except Exception as exc:  # noqa: BLE001 - any parse failure: note it, look elsewhere
                self.skipped[rel] = f"not valid YAML ({str(exc).splitlines()[0][:120]})"
                continue
            for i, doc in enumerate(docs):
                if isinstance(doc, dict) and doc.get("kind") in (*WORKLOAD_KINDS, "HorizontalPodAutoscaler"):
                    meta = doc.get("metadata") or {}
                    if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                        self.objects.append(_Object(rel, i, doc["kind"], meta["name"], meta.get("namespace")))
        for chart in sorted(charts):
            self._chart(chart)
        patches = {f for k in self.kustomizations.values() for f in k.patch_files}
        patches |= {Path(p) for k in self.kustomizations.values() for _, p in k.json_patches if "\n" not in str(p)}
        self.objects = [o for o in self.objects if o.file not in patches]  # a patch is not an object

    def _kustomization(self, rel: Path) -> None:
        try:
            data = safe_documents(self.text(rel))[0] or {}
        except Exception as exc:  # noqa: BLE001
            self.skipped[rel] = f"not valid YAML ({str(exc).splitlines()[0][:120]})"
            return
        base = rel.parent
        k = _Kustomization(base, data.get("namespace"), file=rel)
        for entry in data.get("resources") or data.get("bases") or []:
            if isinstance(entry, str) and "://" not in entry:
                k.resources.append(_norm(base / entry))
        for entry in data.get("patchesStrategicMerge") or []:
            if isinstance(entry, str):
                k.patch_files.append(_norm(base / entry))
        for entry in data.get("patches") or []:
            if not isinstance(entry, dict):
                continue
            if "path" in entry:
                target = _norm(base / entry["path"])
                if entry.get("target") is not None or _is_json_patch(self.repo / target):
                    k.json_patches.append((entry.get("target"), str(target)))
                else:
                    k.patch_files.append(target)
            elif "patch" in entry:
                k.json_patches.append((entry.get("target"), entry["patch"]))
        for entry in data.get("patchesJson6902") or []:
            if isinstance(entry, dict) and "path" in entry:
                k.json_patches.append((entry.get("target"), str(_norm(base / entry["path"]))))
        self.kustomizations[base] = k

    _RESOURCES_REF = re.compile(r"\.Values\.([A-Za-z0-9_.]+?)\.resources\b|with \.Values\.([A-Za-z0-9_.]+?)\.resources\b")

    def _chart(self, chart: Path) -> None:
        values_file = chart / "values.yaml"
        try:
            values = safe_documents(self.text(values_file))[0] or {} if (self.repo / values_file).exists() else {}
        except Exception as exc:  # noqa: BLE001
            self.skipped[values_file] = f"not valid YAML ({str(exc).splitlines()[0][:120]})"
            return
        for template in sorted((self.repo / chart / "templates").glob("*.y*ml")):
            rel = template.relative_to(self.repo)
            for doc_text in re.split(r"(?m)^---\s*$", self.text(rel)):
                kind = re.search(r"(?m)^kind:\s*(\w+)", doc_text)
                if not kind or kind.group(1) not in WORKLOAD_KINDS:
                    continue
                name = _template_name(doc_text, values)
                if name is None:
                    continue
                for container, init, values_path in _template_containers(doc_text):
                    env_file = values_file
                    target = Target(env_file, 0, tuple(values_path.split(".")), "values",
                                    f"Helm chart {chart}: the template renders .Values.{values_path}.resources")
                    self.helm[(name, container, init)].append(target)

    def _load_mapping(self, path: Path) -> None:
        try:
            entries = safe_documents(read_text(path))[0]
        except FileNotFoundError:
            raise PatchError(f"mapping file {path} does not exist") from None
        except PatchError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PatchError(f"mapping file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(entries, list):
            raise PatchError(f"mapping file {path}: expected a list of entries")
        for i, entry in enumerate(entries):
            allowed = {"workload", "container", "file", "path"}
            if not isinstance(entry, dict) or set(entry) - allowed or not {"workload", "container", "file", "path"} \
                    <= set(entry):
                raise PatchError(f"mapping file {path}: entry {i + 1} needs exactly workload (namespace/name), "
                                 "container, file and path (the dot path of the mapping that holds resources)")
            parts = str(entry["workload"]).split("/")
            if len(parts) not in (2, 3):
                raise PatchError(f"mapping file {path}: entry {i + 1}: workload is namespace/name or "
                                 "namespace/Kind/name")
            file = Path(entry["file"])
            if not (self.repo / file).is_file():
                raise PatchError(f"mapping file {path}: entry {i + 1}: {file} does not exist in the repository")
            self.mapping[(parts[0], parts[-1], str(entry["container"]))] = Target(
                file, 0, tuple(str(entry["path"]).split(".")), "values", f"mapping file entry {i + 1}")

    # --- locating --------------------------------------------------------------------------

    def locate(self, key: ContainerKey, init: bool = False) -> Target:
        """The one place to edit, or a PatchError saying why there is none."""
        mapped = self.mapping.get((key.namespace, key.workload, key.container))
        if mapped is not None:
            return mapped
        found: list[Target] = []
        found += self._in_manifests(key, init)
        found += [self._values_file(t, key.namespace) for t in self.helm.get((key.workload, key.container, init), [])]
        unique = list(dict.fromkeys(found))
        if not unique:
            skipped = f"; skipped as not YAML: {', '.join(map(str, self.skipped))}" if self.skipped else ""
            raise PatchError(f"{key}: not found in the repository (no {key.kind} {key.workload!r} with container "
                             f"{key.container!r} in namespace {key.namespace!r}){skipped}; add a mapping entry")
        if len(unique) > 1:
            where = "; ".join(f"{t.file} ({t.how})" for t in unique)
            raise PatchError(f"{key}: found in more than one place: {where}; add a mapping entry saying which")
        return unique[0]

    def _values_file(self, target: Target, namespace: str) -> Target:
        """The chart's values file for the namespace (``values-<namespace>.yaml``) when it has one."""
        env_file = target.file.parent / f"values-{namespace}.yaml"
        if (self.repo / env_file).is_file():
            return replace(target, file=env_file, how=f"{target.how}, in the {namespace} values file")
        return target

    def _in_manifests(self, key: ContainerKey, init: bool) -> list[Target]:
        out = []
        for obj in self.objects:
            if obj.kind != key.kind or obj.name != key.workload:
                continue
            roots = self._roots_rendering(obj.file)
            if not roots:  # a plain manifest, applied as it is
                if obj.namespace in (None, key.namespace) and self._has_container(obj, key.container, init):
                    out.append(Target(obj.file, obj.doc, self._container_path(obj, key.container, init),
                                      "container", f"{obj.kind} manifest"))
                continue
            for root, chain in roots:
                if self._namespace(chain, obj) != key.namespace:
                    continue
                out.append(self._in_kustomize(root, chain, obj, key, init, roots))
        return out

    def _has_container(self, obj: _Object, container: str, init: bool) -> bool:
        doc = self.documents(obj.file)[obj.doc]
        spec = pod_spec(doc)
        return spec is not None and find_container(spec, container, init) is not None

    def _container_path(self, obj: _Object, container: str, init: bool) -> tuple[str | int, ...]:
        doc = self.documents(obj.file)[obj.doc]
        prefix: tuple[str | int, ...] = kube.template_parent(obj.kind)
        field_name = "initContainers" if init else "containers"
        items = pod_spec(doc).get(field_name)  # type: ignore[union-attr]
        index = next(i for i, c in enumerate(items) if c.get("name") == container)
        return (*prefix, "template", "spec", field_name, index)

    def _roots_rendering(self, file: Path) -> list[tuple[Path, list[Path]]]:
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

    def _namespace(self, chain: list[Path], obj: _Object) -> str | None:
        for kdir in chain:  # the outermost namespace transformer wins
            if self.kustomizations[kdir].namespace:
                return self.kustomizations[kdir].namespace
        return obj.namespace

    def _in_kustomize(self, root: Path, chain: list[Path], obj: _Object, key: ContainerKey, init: bool,
                      roots: list[tuple[Path, list[Path]]]) -> Target:
        for kdir in chain:  # the overlay closest to the root wins
            k = self.kustomizations[kdir]
            for target_spec, patch in k.json_patches:
                found = self._in_json_patch(target_spec, patch, obj, key, init, kdir, root)
                if found is not None:
                    return found
            for patch_file in k.patch_files:
                found = self._in_patch(patch_file, obj, key.container, init)
                if found is not None:
                    doc, path, has_container = found
                    style = "container" if has_container else "patch-add-container"
                    return Target(patch_file, doc, path, style, f"strategic-merge patch of {kdir}",
                                  kustomization=root)
        namespaces = {self._namespace(c, obj) for _, c in roots}
        if len(namespaces) == 1 and self._has_container(obj, key.container, init):
            return Target(obj.file, obj.doc, self._container_path(obj, key.container, init), "container",
                          f"{obj.kind} manifest rendered by {root}", kustomization=root)
        return Target(root / f"rightsizer-{obj.name}.yaml", 0, (), "new-patch",
                      f"new strategic-merge patch in {root} (the base is shared with other namespaces)",
                      kustomization=root)

    def _in_json_patch(self, target_spec: Any, patch: str, obj: _Object, key: ContainerKey, init: bool,
                       kdir: Path, root: Path) -> Target | None:
        """A JSON 6902 patch of this object whose operations set this container's resources, if any."""
        if isinstance(target_spec, dict) and (target_spec.get("name") not in (None, obj.name)
                                              or target_spec.get("kind") not in (None, obj.kind)):
            return None
        is_file = "\n" not in patch and (self.repo / patch).is_file()
        text = self.text(Path(patch)) if is_file else patch
        if "/resources" not in text or not self._has_container(obj, key.container, init):
            return None
        path = self._container_path(obj, key.container, init)
        prefix = "/" + "/".join(str(p) for p in path) + "/resources"
        try:
            ops = safe_documents(text)[0] or []
        except Exception:  # noqa: BLE001
            raise PatchError(f"{key}: the JSON 6902 patch in {kdir} is not valid YAML") from None
        if not any(isinstance(op, dict) and str(op.get("path", "")).startswith(prefix) for op in ops):
            return None  # it sets another container's resources
        if not is_file:
            raise PatchError(f"{key}: its resources are set by an inline JSON 6902 patch in {kdir}; move it to a "
                             "file (patches: - path: ...) or edit it by hand")
        doc = safe_documents(self.text(obj.file))[obj.doc]
        container = doc
        for part in path:
            container = container[part]
        return Target(Path(patch), 0, (prefix,), "json6902", f"JSON 6902 patch of {kdir}", kustomization=root,
                      base_resources=container.get("resources") or {})

    def _in_patch(self, patch_file: Path, obj: _Object, container: str, init: bool
                  ) -> tuple[int, tuple[str | int, ...], bool] | None:
        """(document, path, whether the container is there) of the patch of this object, if any.

        Without the container the path is that of the containers list, to add it to.
        """
        docs = self.documents(patch_file)
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

    def base_env(self, key: ContainerKey, init: bool, name: str) -> str | None:
        """An env var's value in the object a patch applies to (so a patch that overrides it can keep it)."""
        for obj in self.objects:
            if obj.kind == key.kind and obj.name == key.workload:
                spec = pod_spec(self.documents(obj.file)[obj.doc])
                container = find_container(spec, key.container, init) if spec is not None else None
                if container is not None:
                    return env_value(container, name)
        return None

    def hpas(self, namespace: str, kind: str, name: str) -> list[tuple[Path, int]]:
        """HPA objects scaling the workload in the namespace; refuses one shared with other namespaces."""
        out = []
        for obj in self.objects:
            if obj.kind != "HorizontalPodAutoscaler":
                continue
            doc = safe_documents(self.text(obj.file))[obj.doc]
            ref = (doc.get("spec") or {}).get("scaleTargetRef") or {}
            if ref.get("kind") != kind or ref.get("name") != name:
                continue
            roots = self._roots_rendering(obj.file)
            namespaces = {self._namespace(chain, obj) for _, chain in roots} if roots else {obj.namespace}
            if namespace not in namespaces and None not in namespaces:
                continue
            if len(namespaces - {None}) > 1:
                raise PatchError(f"the HPA {obj.name} in {obj.file} is rendered in several namespaces "
                                 f"({', '.join(sorted(n for n in namespaces if n))}): set its target in the "
                                 f"{namespace} overlay by hand")
            out.append((obj.file, obj.doc))
        return out


def _norm(path: Path) -> Path:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return Path(*parts) if parts else Path(".")


def _is_json_patch(path: Path) -> bool:
    try:
        return path.read_text().lstrip().startswith("-")
    except OSError:
        return False


def _template_name(doc_text: str, values: dict[str, Any]) -> str | None:
    meta = re.search(r"(?m)^metadata:\s*\n((?:[ \t]+.*\n?)*)", doc_text)
    if not meta:
        return None
    name = re.search(r"(?m)^  name:\s*(.+?)\s*$", meta.group(1))
    if not name:
        return None
    raw = name.group(1).strip().strip("'\"")
    ref = re.fullmatch(r"\{\{-?\s*\.Values\.([A-Za-z0-9_.]+)\s*-?\}\}", raw)
    if ref:
        node: Any = values
        for part in ref.group(1).split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) else None
    return None if "{{" in raw else raw


def _template_containers(doc_text: str) -> list[tuple[str, bool, str]]:
    """(container name, is init, values path) for each container whose resources come from .Values.X.resources."""
    out = []
    section = None
    current: tuple[str, int] | None = None
    for line in doc_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("initContainers:"):
            section, current = "init", None
            continue
        if stripped.startswith("containers:"):
            section, current = "main", None
            continue
        item = re.match(r"^(\s*)- name:\s*([A-Za-z0-9_.-]+)\s*$", line)
        if item and section:
            current = (item.group(2), len(item.group(1)))
            continue
        if current and section:
            ref = Locator._RESOURCES_REF.search(line)
            if ref:
                out.append((current[0], section == "init", ref.group(1) or ref.group(2)))
                current = None
    return out
