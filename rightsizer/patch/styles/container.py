"""Containers in manifests and strategic-merge patches: edited where they stand, or added to a patch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedSeq

from rightsizer.patch.manifests import NODE_OPTIONS, ContainerChange, edit_container, resources_wanted
from rightsizer.patch.styles.base import InPlaceStyle, as_patch, container_heap, intend_container, node_at
from rightsizer.patch.yamltext import TextEdits, block_lines, content_end, key_column, render_scalar

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target
    from rightsizer.recommend.node_heap import FlagPlacement


class ContainerStyle(InPlaceStyle):
    """A container mapping of a workload manifest: a removed limit is deleted from the file."""

    null_removes = False  # a removed limit is written as `null` (a merge patch's delete) instead of dropped

    def _change(self, change: ContainerChange) -> ContainerChange:
        return as_patch(change) if self.null_removes else change

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        edit_container(edits, node_at(docs[target.doc], target.path), self._change(pc.change), step)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        intend_container(node_at(docs[target.doc], target.path), pc.change, null=self.null_removes)

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        return container_heap(locator, node_at(locator.files.data(target.file)[target.doc], target.path), target, pc)


class PatchContainerStyle(ContainerStyle):
    """A container in a strategic-merge patch: omitting a field keeps the base's, so a removal is a null."""

    null_removes = True


class AddToPatchStyle(InPlaceStyle):
    """A strategic-merge patch of the workload that does not name the container yet: add it to the list."""


    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        items: CommentedSeq = node_at(docs[target.doc], target.path)
        change = as_patch(pc.change)
        item_col = key_column(items[-1])
        dash = " " * (item_col - 2) + "- "
        lines = [dash + f"name: {pc.key.container}"]
        resources = resources_wanted(change)
        if resources:
            lines += [" " * item_col + "resources:", *block_lines(resources, item_col + step, step)]
        placement = change.placement
        for field_name, words in (("command", placement and placement.command), ("args", placement and placement.args)):
            if words is not None:
                lines += [" " * item_col + f"{field_name}:",
                          *(" " * (item_col + step) + "- " + render_scalar(w) for w in words)]
        if placement is not None and placement.node_options is not None:
            lines += [" " * item_col + "env:", " " * (item_col + step) + f"- name: {NODE_OPTIONS}",
                      " " * (item_col + step + 2) + f"value: {render_scalar(placement.node_options, chr(34))}"]
        edits.insert_after(content_end(edits.lines, items, items.lc.line), lines)

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        return container_heap(locator, None, target, pc)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        added: dict[str, Any] = {"name": pc.key.container}
        intend_container(added, pc.change, null=True)
        node_at(docs[target.doc], target.path).append(added)


CONTAINER = ContainerStyle()
PATCH_CONTAINER = PatchContainerStyle()
ADD_TO_PATCH = AddToPatchStyle()
