"""The mapping file (``--mapping``): where resources are set when no layout rule can tell."""

from __future__ import annotations

from pathlib import Path

from rightsizer.history import ContainerKey
from rightsizer.patch.styles.values import VALUES
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError, read_text
from rightsizer.yamlsafety import safe_documents


class MappingLayout:
    """Entries ``{workload: namespace/[Kind/]name, container, file, path}``, checked when loaded."""

    def __init__(self, repo: Path, path: Path | None = None):
        self.entries: dict[tuple[str, str, str], Target] = {}
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
            allowed = {"workload", "container", "file", "path"}
            if not isinstance(entry, dict) or set(entry) - allowed or not allowed <= set(entry):
                raise PatchError(f"mapping file {path}: entry {i + 1} needs exactly workload (namespace/name), "
                                 "container, file and path (the dot path of the mapping that holds resources)")
            parts = str(entry["workload"]).split("/")
            if len(parts) not in (2, 3):
                raise PatchError(f"mapping file {path}: entry {i + 1}: workload is namespace/name or "
                                 "namespace/Kind/name")
            file = Path(entry["file"])
            if not (repo / file).is_file():
                raise PatchError(f"mapping file {path}: entry {i + 1}: {file} does not exist in the repository")
            self.entries[(parts[0], parts[-1], str(entry["container"]))] = Target(
                file, 0, tuple(str(entry["path"]).split(".")), VALUES, f"mapping file entry {i + 1}")

    def find(self, key: ContainerKey) -> Target | None:
        return self.entries.get((key.namespace, key.workload, key.container))
