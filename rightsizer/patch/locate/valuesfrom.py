"""A Flux HelmRelease's ``valuesFrom``: the ConfigMaps whose values the repository holds, edited there.

Flux merges ``valuesFrom`` in order (later over earlier) and ``spec.values`` over all of
them.  So the inline values are edited whenever they set the container's resources
(anything else would be overridden); otherwise the last ConfigMap that sets them, or the
last one listed, is where an environment's values live:

* a ``configMapGenerator`` of the overlay chain (``files: [values.yaml=prod-values.yaml]``):
  that file is a plain values file;
* a ConfigMap manifest with the values embedded as text (``data: {values.yaml: |...}``):
  the embedded text is edited as a values file, keeping its style.

A Secret is never read (its values are usually encrypted): when one is listed the target
says that it is not read and would win if it set the same keys; a ``targetPath`` entry
sets one value, not a values file, and is noted the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rightsizer.patch.locate.deployers import Release
from rightsizer.patch.locate.helmnames import lookup
from rightsizer.patch.locate.kustomize import KustomizeLayout
from rightsizer.patch.locate.repofiles import RepoFiles, repo_path
from rightsizer.patch.styles.embedded import EmbeddedValuesStyle
from rightsizer.patch.styles.values import VALUES_OVERRIDE
from rightsizer.patch.target import Target
from rightsizer.yamlsafety import safe_documents


class ValuesFrom:
    def __init__(self, files: RepoFiles, kustomize: KustomizeLayout):
        self.files = files
        self.kustomize = kustomize

    def target(self, release: Release, root: Path | None, chain: list[Path], values_path: tuple[str, ...],
               inline: dict[str, Any], how: str) -> tuple[Target | None, str]:
        """The ConfigMap values to edit (None: the inline values), and what the reader should know."""
        unread = [f"{kind} {name}" + (f" (targetPath {path})" if path else "")
                  for kind, name, _, path in release.values_from if kind != "ConfigMap" or path]
        note = f" ({', '.join(unread)} in valuesFrom not read: a later one that sets the same keys wins)" \
            if unread else ""
        if not release.values_from or isinstance(lookup(inline, ".".join((*values_path, "resources"))), dict):
            return None, note
        fallback: tuple[Target, dict[str, Any]] | None = None
        for kind, name, key, path in reversed(release.values_from):
            if kind != "ConfigMap" or path:
                continue
            found = self._config_map(name, key, release.namespace, root, chain)
            if found is None:
                continue
            file, doc, values, where = found
            style = VALUES_OVERRIDE if doc is None else EmbeddedValuesStyle(key)
            target = Target(file, doc or 0, values_path, style, f"{how}: valuesFrom ConfigMap {name}, {where}{note}")
            if isinstance(lookup(values, ".".join((*values_path, "resources"))), dict):
                return target, note
            fallback = fallback or (target, values)
        return (fallback[0] if fallback else None), note

    def _config_map(self, name: str, key: str, namespace: str | None, root: Path | None, chain: list[Path]
                    ) -> tuple[Path, int | None, dict[str, Any], str] | None:
        """(file, document or None for a generated one's file, its values, how it was found)."""
        for kdir in chain:  # a generator in the overlay closest to the root wins
            kfile = self.kustomize.kustomizations[kdir].file
            data = self.files.data(kfile)[0] if kfile is not None else {}
            for generator in (data or {}).get("configMapGenerator") or []:
                if not isinstance(generator, dict) or generator.get("name") != name:
                    continue
                for entry in generator.get("files") or []:
                    entry_key, _, source = str(entry).partition("=") if "=" in str(entry) else \
                        (Path(str(entry)).name, "", str(entry))
                    if entry_key == key:
                        file = repo_path(kdir / source)
                        values = self._values(file)
                        if values is not None:
                            return file, None, values, f"{file} (configMapGenerator of {kdir})"
        for file in self.files.yaml_files():
            if root is not None and not any(r == root for r, _ in self.kustomize.roots_rendering(file)):
                continue
            for i, doc in enumerate(_parsed(lambda f=file: self.files.data(f))):
                meta = doc.get("metadata") if isinstance(doc, dict) else None
                if not isinstance(meta, dict) or doc.get("kind") != "ConfigMap" or meta.get("name") != name or \
                        meta.get("namespace") not in (None, namespace):
                    continue
                text = (doc.get("data") or {}).get(key)
                values = _parsed(lambda t=text: safe_documents(t)) if isinstance(text, str) else []
                if values and isinstance(values[0], dict):
                    return file, i, values[0], f"{file} (data.{key})"
        return None

    def _values(self, file: Path) -> dict[str, Any] | None:
        if not (self.files.repo / file).is_file():
            return None
        try:
            data = self.files.data(file)
        except Exception:  # noqa: BLE001
            return None
        return data[0] if data and isinstance(data[0], dict) else {}


def _parsed(read: Callable[[], list[Any]]) -> list[Any]:
    """Documents, or none when they do not parse (a file that does not is reported where it is edited)."""
    try:
        return read()
    except Exception:  # noqa: BLE001
        return []
