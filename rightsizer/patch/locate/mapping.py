"""The mapping file (``--mapping``): where resources are set when no layout rule can tell.

Two kinds of entries, each checked when loaded (a typo is an error, never a new block):

* a place: ``{workload: namespace/[Kind/]name, container, file, path}``, with ``kind`` and
  ``name`` selecting the document of a multi-document file, and ``create: true`` to allow
  a ``path`` that does not exist yet;
* a Helm release of a chart in the repository: ``{release, chart, namespace}``, with
  ``values`` naming the values file of that environment (``values-prod.yaml``).

An entry naming a file outside the repository (an absolute path, ``../``, a link out) is
set aside with the reason, and the container it names is not edited; the other entries
and the rest of the run go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rightsizer.history import ContainerKey
from rightsizer.patch.locate.deployers import Release
from rightsizer.patch.locate.repofiles import RepoFiles
from rightsizer.patch.repotree import inside
from rightsizer.patch.styles.values import VALUES
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError, read_text
from rightsizer.yamlsafety import safe_documents

PLACE = {"workload", "container", "file", "path"}
PLACE_OPTIONAL = {"kind", "name", "create"}
RELEASE = {"release", "chart", "namespace"}


class MappingLayout:
    """The entries of a mapping file: places by (namespace, workload, container), and Helm releases."""

    def __init__(self, files: RepoFiles, path: Path | None = None):
        self.files = files
        self.entries: dict[tuple[str, str, str], Target] = {}
        self.releases: list[Release] = []
        self.refused: dict[str, str] = {}  # entries set aside: where -> why
        self._blocked: dict[tuple[str, str, str], str] = {}  # containers of entries set aside -> why
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            entries = safe_documents(read_text(path), str(path))[0]
        except FileNotFoundError:
            raise PatchError(f"mapping file {path} does not exist") from None
        except PatchError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PatchError(f"mapping file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(entries, list):
            raise PatchError(f"mapping file {path}: expected a list of entries")
        for i, entry in enumerate(entries):
            where = f"mapping file {path}: entry {i + 1}"
            release = isinstance(entry, dict) and RELEASE <= set(entry) and not set(entry) - RELEASE - {"values"}
            if not release and (not isinstance(entry, dict) or set(entry) - PLACE - PLACE_OPTIONAL
                                or not PLACE <= set(entry)):
                raise PatchError(f"mapping file {path}: entry {i + 1} needs exactly workload (namespace/name), "
                                 "container, file and path (the dot path of the mapping that holds resources), "
                                 "with kind and name to pick a document and create: true to add the path; or "
                                 "release, chart and namespace (and values) for a Helm release")
            key = None if release else _container(entry, where)
            try:
                if key is None:
                    self._release(entry, where)
                else:
                    self._place(entry, where, i + 1, key)
            except OutsideError as exc:  # set aside, with its container: the other entries go on
                self.refused[where] = f"{where} set aside: {exc}"
                if key is not None:
                    self._blocked[key] = f"not edited: {where} names a file outside the repository"

    def _inside(self, rel: Path) -> Path:
        try:
            return inside(self.files.repo, rel, "file")
        except PatchError as exc:
            raise OutsideError(str(exc)) from None

    def _place(self, entry: dict[str, Any], where: str, number: int, key: tuple[str, str, str]) -> None:
        file = self._inside(Path(str(entry["file"])))
        if not self.files.exists(file):
            raise PatchError(f"{where}: {file} does not exist in the repository")
        try:
            docs = self.files.data(file)
        except Exception as exc:  # noqa: BLE001
            raise PatchError(f"{where}: {file} is not valid YAML ({str(exc).splitlines()[0]})") from None
        index = _document(docs, entry, where, file)
        path = tuple(int(p) if p.isdigit() else p for p in str(entry["path"]).split(".") if p)
        node: Any = docs[index]
        for depth, part in enumerate(path):
            present = (isinstance(node, dict) and part in node) or \
                (isinstance(node, list) and isinstance(part, int) and part < len(node))
            if not present:
                if entry.get("create") is True and isinstance(node, dict):
                    break
                missing = ".".join(map(str, path[:depth + 1]))
                raise PatchError(f"{where}: {file} has no {missing} (a typo?); add create: true to the entry to "
                                 "write it")
            node = node[part]
        self.entries[key] = Target(file, index, path, VALUES, f"mapping file entry {number}")

    def _release(self, entry: dict[str, Any], where: str) -> None:
        chart = self._inside(Path(str(entry["chart"])))
        if not self.files.exists(chart / "Chart.yaml"):
            raise PatchError(f"{where}: {chart} is not a chart in the repository (no Chart.yaml)")
        values = entry.get("values") or []
        files = [values] if isinstance(values, str) else [str(v) for v in values]
        for name in files:
            if not self.files.exists(self._inside(chart / name)):
                raise PatchError(f"{where}: {chart / name} does not exist in the repository")
        self.releases.append(Release(str(chart), str(entry["release"]), str(entry["namespace"]), where,
                                     chart / "Chart.yaml", 0, None, files))

    def find(self, key: ContainerKey) -> Target | None:
        """The entry's place for a container; a PatchError when its entry was set aside."""
        blocked = self._blocked.get((key.namespace, key.workload, key.container))
        if blocked is not None:
            raise PatchError(f"{key}: {blocked}")
        return self.entries.get((key.namespace, key.workload, key.container))


class OutsideError(PatchError):
    """A mapping entry names a file outside the repository."""


def _container(entry: dict[str, Any], where: str) -> tuple[str, str, str]:
    """(namespace, workload, container) an entry places."""
    parts = str(entry["workload"]).split("/")
    if len(parts) not in (2, 3):
        raise PatchError(f"{where}: workload is namespace/name or namespace/Kind/name")
    return parts[0], parts[-1], str(entry["container"])


def _document(docs: list[Any], entry: dict[str, Any], where: str, file: Path) -> int:
    """The document the entry targets: the one of that kind and name, or the file's only one."""
    kind, name = entry.get("kind"), entry.get("name")
    if kind is None and name is None:
        if len([d for d in docs if d is not None]) > 1:
            raise PatchError(f"{where}: {file} holds {len(docs)} documents: add kind and name to say which")
        return next((i for i, d in enumerate(docs) if d is not None), 0)
    for i, doc in enumerate(docs):
        if isinstance(doc, dict) and (kind is None or doc.get("kind") == kind) and \
                (name is None or (doc.get("metadata") or {}).get("name") == name):
            return i
    raise PatchError(f"{where}: {file} has no document of kind {kind!r} named {name!r}")
