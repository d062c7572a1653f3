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
    """``<path>.resources`` in a values file or a release's inline values; NODE_OPTIONS is left to the chart.

    ``path`` leads from the document to the values mapping that holds ``resources``
    (empty for top-level ``resources``; list indices allowed, as in an Application's
    ``spec.sources``).  Values merged over the chart's defaults (a per-environment file,
    a release's values) write a removed limit as ``null``, which is how Helm deletes a default.
    """

    def __init__(self, override: bool):
        self.override = override


    def heap_note(self, target: Target) -> str | None:
        return "through the chart's env values (a chart's env layout is its own)"

    def _over_defaults(self, target: Target) -> bool:
        """Merged over the defaults (a ``values-<env>.yaml`` always is): a removal there must be a null too."""
        return self.override or target.file.name.startswith("values-")

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        change = as_patch(pc.change) if self._over_defaults(target) else pc.change
        full = (*target.path, "resources")
        node = docs[target.doc] if docs and docs[target.doc] is not None else None
        if not isinstance(node, CommentedMap):
            raise PatchError(f"{target.file}: expected a mapping of values at the top")
        indices = [i for i, part in enumerate(full) if isinstance(part, int)]
        start = indices[-1] + 1 if indices else 0
        for part in full[:start]:  # down to the last list item on the way: mappings below are created as needed
            node = node[part]
        nested: Any = resources_wanted(change)
        for part in reversed(full[start + 1:]):
            nested = {str(part): nested}
        set_mapping(edits, node, str(full[start]), nested, step)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        node = docs[target.doc]
        for part in target.path:
            if isinstance(part, int):
                node = node[part]
            else:
                if node.get(part) is None:  # missing or empty: the edit writes a block there
                    node[part] = {}
                node = node[part]
        intend_container(node, ContainerChange(pc.change.requests, pc.change.limits),
                         null=self._over_defaults(target))


VALUES = ValuesStyle(override=False)  # a chart's values.yaml (or a file named values-<env>.yaml)
VALUES_OVERRIDE = ValuesStyle(override=True)  # values merged over the chart's defaults
