"""JSON 6902 patch files: the operations that set a container's resources, kept, dropped or added."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedSeq

from rightsizer.patch.manifests import ContainerChange
from rightsizer.patch.styles.base import InPlaceStyle
from rightsizer.patch.yamltext import PatchError, TextEdits, content_end, key_column

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target
    from rightsizer.recommend.node_heap import FlagPlacement


def _operations(ops: list[Any], target: Target, change: ContainerChange) -> list[tuple[str, str, Any]]:
    """(action, op path, value) per resource field: set an op's value, drop an op, or add an op.

    ``target.path`` holds the container's resources pointer; ``target.base_resources`` what
    the base sets, so a removed limit the base sets gets a ``remove`` operation.
    """
    prefix = str(target.path[0])
    base = target.base_resources or {}
    out = []
    for section, values in (("requests", change.requests), ("limits", change.limits)):
        for name, value in values.items():
            path = f"{prefix}/{section}/{name}"
            op = next((o for o in ops if isinstance(o, dict) and o.get("path") == path), None)
            in_base = name in (base.get(section) or {})
            if op is not None and value is not None:
                out.append(("set", path, value))
            elif op is not None:
                out.append(("drop", path, None))
                if in_base:
                    out.append(("add", path, None))  # remove what the base sets
            elif value is not None:
                out.append(("add", path, value))
            elif in_base:
                out.append(("add", path, None))
    return out


class Json6902Style(InPlaceStyle):
    """A list of JSON 6902 operations in a file a kustomization applies to the workload."""


    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        raise PatchError(f"set --max-old-space-size={pc.change.heap_mib} in NODE_OPTIONS by hand ({target.how} "
                         "sets the resources, not the env)")

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        ops = docs[target.doc]
        if not isinstance(ops, CommentedSeq) or not ops:
            raise PatchError(f"{target.file}: expected a list of JSON 6902 operations")
        if any(isinstance(o, dict) and o.get("path") == target.path[0] for o in ops):
            raise PatchError(f"{target.file}: an operation replaces the whole resources object; edit it by hand")
        item_col = key_column(ops[0])
        dash = " " * (item_col - 2) + "- "
        added: list[str] = []
        for action, path, value in _operations(list(ops), target, pc.change):
            index = next(i for i, o in enumerate(ops) if action == "add" or o.get("path") == path)
            op = ops[index]
            if action == "set":
                if str(op.get("value")) != str(value):
                    line, col = op.lc.value("value")
                    edits.replace_scalar(line, col, value)
            elif action == "drop":
                first = ops.lc.item(index)[0]
                for line in range(first, content_end(edits.lines, op, first) + 1):
                    edits.delete(line)
            elif value is None:
                added += [dash + "op: remove", " " * item_col + f"path: {path}"]
            else:
                added += [dash + "op: add", " " * item_col + f"path: {path}", " " * item_col + f"value: {value}"]
        if added:
            edits.insert_after(content_end(edits.lines, ops, ops.lc.line), added)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        ops = docs[target.doc]
        for action, path, value in _operations(ops, target, pc.change):
            if action == "set":
                next(o for o in ops if o.get("path") == path)["value"] = value
            elif action == "drop":
                ops[:] = [o for o in ops if o.get("path") != path]
            elif value is None:
                ops.append({"op": "remove", "path": path})
            else:
                ops.append({"op": "add", "path": path, "value": value})


JSON6902 = Json6902Style()
