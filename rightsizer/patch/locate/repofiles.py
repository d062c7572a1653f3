"""The checkout's YAML files, read and parsed once, and the workload and HPA objects they define.

Files are listed and read through ``patch.repotree``: only regular files inside the
checkout, within the size limit; what is passed over is kept in ``skipped`` with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsizer import kube
from rightsizer.patch.locate.deployers import is_deployer
from rightsizer.patch.manifests import WORKLOAD_KINDS, find_container, pod_spec
from rightsizer.patch.repotree import inside, list_files, read_text, without_name
from rightsizer.patch.yamltext import PatchError, load_documents
from rightsizer.yamlsafety import safe_documents

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class WorkloadObject:
    """A workload or HPA document: where it is and what it names itself."""

    file: Path
    doc: int
    kind: str
    name: str
    namespace: str | None


def repo_path(path: Path) -> Path:
    """``path`` with ``.`` and ``..`` resolved as text (no file system access, no symlinks followed), as
    kustomize and helm resolve a reference relative to the file that names it."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return Path(*parts)


def first_line(exc: Exception) -> str:
    """A parser's complaint, short enough for a one-line reason."""
    return str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__


class RepoFiles:
    """Texts and parsed documents of a checkout, cached: many containers are looked up in one file."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.objects: list[WorkloadObject] = []
        self.skipped: dict[Path, str] = {}  # file -> why it was not read
        self.deployers: list[tuple[Path, int, dict[str, Any]]] = []  # Argo CD and Flux objects
        self._texts: dict[Path, str] = {}
        self._parsed: dict[Path, list[Any]] = {}
        self._data: dict[Path, list[Any]] = {}
        self.listing = list_files(repo)
        self.all = self.listing.files
        self._all = set(self.all)
        self._dirs = {d for p in self.all for d in p.parents}
        self.skipped.update(self.listing.skipped)

    def text(self, rel: Path) -> str:
        if rel not in self._texts:
            self._texts[rel] = read_text(self.repo, rel)
        return self._texts[rel]

    def exists(self, rel: Path) -> bool:
        """Whether the checkout has this regular file, readable within the limits (links followed inside it)."""
        return self.real(rel) in self._all

    def is_dir(self, rel: Path) -> bool:
        """Whether a directory of the checkout holds readable files (links followed inside it)."""
        return self.real(rel) in self._dirs

    def real(self, rel: Path) -> Path:
        """The file a path of the checkout names, links followed (the path as it is when it leaves the checkout:
        then it is no file of the checkout)."""
        try:
            return inside(self.repo, rel, str(rel))
        except PatchError:
            return rel

    def under(self, directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
        """Readable files below a directory of the checkout whose names end with one of ``suffixes``."""
        return [p for p in self.all if directory in p.parents and p.name.endswith(suffixes)]

    def documents(self, rel: Path) -> list[Any]:
        """A file's documents with positions (for editing)."""
        if rel not in self._parsed:
            self._parsed[rel] = load_documents(self.text(rel), str(rel))
        return self._parsed[rel]

    def data(self, rel: Path) -> list[Any]:
        """A file's documents as plain data, within the size, depth and alias limits."""
        if rel not in self._data:
            self._data[rel] = safe_documents(self.text(rel), str(rel))
        return self._data[rel]

    def yaml_files(self) -> list[Path]:
        return [p for p in self.all if p.suffix in YAML_SUFFIXES or p.name == "Kustomization"]

    def add_objects(self, rel: Path) -> None:
        """Note the workloads and HPAs a file defines; a file that does not parse is noted as skipped."""
        try:
            docs = self.data(rel)
        except Exception as exc:  # noqa: BLE001 - any parse failure: note it, look elsewhere
            self.note_skipped(rel, exc)
            return
        for i, doc in enumerate(docs):
            if is_deployer(doc):
                self.deployers.append((rel, i, doc))
            if isinstance(doc, dict) and doc.get("kind") in (*WORKLOAD_KINDS, "HorizontalPodAutoscaler"):
                meta = doc.get("metadata") or {}
                if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                    self.objects.append(WorkloadObject(rel, i, doc["kind"], meta["name"], meta.get("namespace")))

    def note_skipped(self, rel: Path, exc: Exception) -> None:
        """Keep why a file was not read (too large, not UTF-8) or not parsed, to say so once."""
        self.skipped[rel] = (without_name(str(exc), rel) if isinstance(exc, PatchError)
                             else f"not valid YAML ({first_line(exc)})")

    def has_container(self, obj: WorkloadObject, container: str, init: bool) -> bool:
        spec = pod_spec(self.documents(obj.file)[obj.doc])
        return spec is not None and find_container(spec, container, init) is not None

    def container_path(self, obj: WorkloadObject, container: str, init: bool) -> tuple[str | int, ...]:
        """The key path from the document to the container (which must be there)."""
        doc = self.documents(obj.file)[obj.doc]
        prefix: tuple[str | int, ...] = kube.template_parent(obj.kind)
        field_name = "initContainers" if init else "containers"
        items = pod_spec(doc).get(field_name)  # type: ignore[union-attr]
        index = next(i for i, c in enumerate(items) if c.get("name") == container)
        return (*prefix, "template", "spec", field_name, index)
