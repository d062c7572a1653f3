"""The mapping file (``--mapping``): where resources are set when no layout rule can tell.

Two kinds of entries, each checked when loaded (a typo is an error, never a new block):

* a place: ``{workload: namespace/[Kind/]name, container, file, path}``, with ``kind`` and
  ``name`` selecting the document of a multi-document file, and ``create: true`` to allow
  a ``path`` that does not exist yet;
* a Helm release of a chart in the repository: ``{release, chart, namespace}``, with
  ``values`` naming the values file of that environment (``values-prod.yaml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rightsizer.history import ContainerKey
from rightsizer.patch.locate.deployers import Release
from rightsizer.patch.styles.values import VALUES
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError, read_text
from rightsizer.yamlsafety import safe_documents

PLACE = {"workload", "container", "file", "path"}
PLACE_OPTIONAL = {"kind", "name", "create"}
RELEASE = {"release", "chart", "namespace"}


class MappingLayout:
    """The entries of a mapping file: places by (namespace, workload, container), and Helm releases."""

    def __init__(self, repo: Path, path: Path | None = None):
        self.entries: dict[tuple[str, str, str], Target] = {}
        self.releases: list[Release] = []
        if path is not None:
            self._load(repo, path)

    def _load(self, repo: Path, path: Path) -> None:
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
            if isinstance(entry, dict) and RELEASE <= set(entry) and not set(entry) - RELEASE - {"values"}:
                self._release(repo, entry, where)
                continue
            if not isinstance(entry, dict) or set(entry) - PLACE - PLACE_OPTIONAL or not PLACE <= set(entry):
                raise PatchError(f"mapping file {path}: entry {i + 1} needs exactly workload (namespace/name), "
                                 "container, file and path (the dot path of the mapping that holds resources), "
                                 "with kind and name to pick a document and create: true to add the path; or "
                                 "release, chart and namespace (and values) for a Helm release")
            self._place(repo, entry, where, i + 1)

    def _place(self, repo: Path, entry: dict[str, Any], where: str, number: int) -> None:
        parts = str(entry["workload"]).split("/")
        if len(parts) not in (2, 3):
            raise PatchError(f"{where}: workload is namespace/name or namespace/Kind/name")
        file = Path(entry["file"])
        if not (repo / file).is_file():
            raise PatchError(f"{where}: {file} does not exist in the repository")
        try:
            docs = safe_documents(read_text(repo / file), str(file))
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
        self.entries[(parts[0], parts[-1], str(entry["container"]))] = Target(
            file, index, path, VALUES, f"mapping file entry {number}")

    def _release(self, repo: Path, entry: dict[str, Any], where: str) -> None:
        chart = Path(str(entry["chart"]))
        if not (repo / chart / "Chart.yaml").is_file():
            raise PatchError(f"{where}: {chart} is not a chart in the repository (no Chart.yaml)")
        values = entry.get("values") or []
        files = [values] if isinstance(values, str) else [str(v) for v in values]
        for name in files:
            if not (repo / chart / name).is_file():
                raise PatchError(f"{where}: {chart / name} does not exist in the repository")
        self.releases.append(Release(str(chart), str(entry["release"]), str(entry["namespace"]), where,
                                     chart / "Chart.yaml", 0, None, files))

    def find(self, key: ContainerKey) -> Target | None:
        return self.entries.get((key.namespace, key.workload, key.container))


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
