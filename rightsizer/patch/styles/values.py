"""Helm values: the mapping a chart's template renders into a container's ``resources``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap

from rightsizer.patch.manifests import ContainerChange, resources_wanted, set_mapping
from rightsizer.patch.styles.base import InPlaceStyle, as_patch, intend_container
from rightsizer.patch.yamltext import PatchError, TextEdits

if TYPE_CHECKING:
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target


class ValuesStyle(InPlaceStyle):
    """``<path>.resources`` in a values file; NODE_OPTIONS is left to the chart's own env layout."""


    def heap_note(self, target: Target) -> str | None:
        return "through the chart's env values (a chart's env layout is its own)"

    @staticmethod
    def _over_defaults(target: Target) -> bool:
        """A per-environment values file is merged over values.yaml: a removal there must be a null too."""
        return target.file.name.startswith("values-")

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        change = as_patch(pc.change) if self._over_defaults(target) else pc.change
        nested: dict[str, Any] = {"resources": resources_wanted(change)}
        for part in reversed(target.path[1:]):
            nested = {str(part): nested}
        root = docs[target.doc] if docs and docs[target.doc] is not None else None
        if not isinstance(root, CommentedMap):
            raise PatchError(f"{target.file}: expected a mapping of values at the top")
        set_mapping(edits, root, str(target.path[0]), nested, step)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        node = docs[target.doc]
        for part in target.path:
            node = node.setdefault(part, {})
        intend_container(node, ContainerChange(pc.change.requests, pc.change.limits),
                         null=self._over_defaults(target))


VALUES = ValuesStyle()
