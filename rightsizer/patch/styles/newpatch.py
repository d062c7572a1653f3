"""A new strategic-merge patch in an overlay, for a base shared with other namespaces.

Editing the base would change staging with production, so the overlay gets a patch file
of its own (``rightsizer-<workload>.yaml``) and an entry in its kustomization's ``patches:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rightsizer import kube
from rightsizer.patch.styles.base import EditStyle, container_heap, dump_yaml, intend_container
from rightsizer.patch.yamltext import PatchError, TextEdits, content_end, indent_step, key_column, load_documents
from rightsizer.yamlsafety import safe_documents

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target
    from rightsizer.recommend.node_heap import FlagPlacement

#: path -> (old text, None for a new file; new text)
Files = dict[Path, tuple[str | None, str]]


class NewPatchStyle(EditStyle):
    """Writes a whole file, for all the workload's containers at once, rather than editing a node."""

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        return container_heap(locator, None, target, pc)

    def create(self, locator: Locator, file: Path, targets: list[tuple[Target, PlannedChange]], files: Files) -> None:
        """Add the patch file and its kustomization entry to ``files``."""
        first = targets[0][1].key
        api_version = locator.workload(first.kind, first.workload).get("apiVersion", "apps/v1")
        containers: dict[str, list[dict[str, Any]]] = {"containers": [], "initContainers": []}
        for _, pc in targets:
            item: dict[str, Any] = {"name": pc.key.container}
            intend_container(item, pc.change, null=True)
            containers["initContainers" if pc.init else "containers"].append(item)
        spec = {k: v for k, v in containers.items() if v}
        template: dict[str, Any] = {"template": {"spec": spec}}
        body: dict[str, Any] = {"apiVersion": api_version, "kind": first.kind, "metadata": {"name": first.workload},
                                **kube.wrap_template(first.kind, template)}
        text = "# Resources set by rightsizer for this overlay only: the base is shared with other namespaces.\n"
        text += dump_yaml(body)
        safe_documents(text, str(file))
        files[file] = (None, text)
        kfile = locator.kustomization_file(targets[0][0].kustomization)  # type: ignore[arg-type]
        old = files[kfile][1] if kfile in files else locator.text(kfile)
        new = _add_patch_entry(old, str(kfile), file.name)
        files[kfile] = (files[kfile][0] if kfile in files else old, new)


def _add_patch_entry(text: str, where: str, name: str) -> str:
    docs = load_documents(text, where)
    kust = docs[0]
    edits = TextEdits.of(text)
    step = indent_step(docs)
    patches = kust.get("patches")
    if isinstance(patches, CommentedSeq) and patches:
        item_col = key_column(patches[-1]) if isinstance(patches[-1], CommentedMap) else patches.lc.item(0)[1] + 2
        edits.insert_after(content_end(edits.lines, patches, patches.lc.line), [" " * (item_col - 2) + f"- path: {name}"])
    elif "patches" in kust:
        raise PatchError(f"{where}: 'patches' is not a block list; add '- path: {name}' by hand")
    else:
        last = content_end(edits.lines, kust, kust.lc.line)
        edits.insert_after(last, ["patches:", " " * step + f"- path: {name}"])
    new = edits.apply()
    if (safe_documents(new, where)[0].get("patches") or [])[-1] != {"path": name}:
        raise PatchError(f"{where}: could not add the patch entry safely")
    return new


NEW_PATCH = NewPatchStyle()
