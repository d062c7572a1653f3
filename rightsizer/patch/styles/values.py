"""Helm values: the mapping a chart's template renders into a container's ``resources``, and its env or args."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap

from rightsizer.patch.manifests import NODE_OPTIONS, ContainerChange, resources_wanted, set_list, set_mapping
from rightsizer.patch.styles.base import InPlaceStyle, as_patch, intend_container
from rightsizer.patch.yamltext import PatchError, TextEdits
from rightsizer.recommend.node_heap import FlagPlacement, place_heap_flag

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.locate.chartheap import ChartHeap
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target


class ValuesStyle(InPlaceStyle):
    """``<path>.resources`` in a values file or a release's inline values, and the heap flag where the chart
    renders the container's env (or args holding a flag) from values (``locate/chartheap.py``).

    ``path`` leads from the document to the values mapping that holds ``resources``
    (empty for top-level ``resources``; list indices allowed, as in an Application's
    ``spec.sources``).  Values merged over the chart's defaults (a per-environment file,
    a release's values) write a removed limit as ``null``, which is how Helm deletes a default.
    """

    def __init__(self, override: bool):
        self.override = override

    def _over_defaults(self, target: Target) -> bool:
        """Merged over the defaults (a ``values-<env>.yaml`` always is): a removal there must be a null too."""
        return self.override or target.file.name.startswith("values-")

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        return place_in_values(target.chart_heap, pc)

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        change = as_patch(pc.change) if self._over_defaults(target) else pc.change
        node = docs[target.doc] if docs and docs[target.doc] is not None else None
        if not isinstance(node, CommentedMap):
            raise PatchError(f"{target.file}: expected a mapping of values at the top")
        root = _root(target)
        indices = [i for i, part in enumerate(root) if isinstance(part, int)]
        start = indices[-1] + 1 if indices else 0
        for part in root[:start]:  # down to the last list item on the way: mappings below are created as needed
            node = node[part]
        nested: dict[str, Any] = {}
        for path, value in _leaves(target, change).items():
            _nest(nested, (*root[start:], *path), value)
        for key, value in nested.items():
            if isinstance(value, list):
                set_list(edits, node, key, value, step)
            else:
                set_mapping(edits, node, key, value, step)

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
        values = docs[target.doc]
        for part in _root(target):
            values = values[part]
        for path, value in _leaves(target, pc.change, heap_only=True).items():
            holder = values
            for part in path[:-1]:
                if not isinstance(holder.get(part), dict):
                    holder[part] = {}
                holder = holder[part]
            holder[path[-1]] = value


def _root(target: Target) -> tuple[str | int, ...]:
    """The key path of the release's values mapping in the document (the container's values lie below it)."""
    heap = target.chart_heap
    return heap.root if heap is not None else target.path


def _leaves(target: Target, change: ContainerChange, heap_only: bool = False) -> dict[tuple[str, ...], Any]:
    """What to set, by key path below the values root: the resources, then the heap flag's env or args."""
    root = _root(target)
    out: dict[tuple[str, ...], Any] = {}
    if not heap_only:
        wanted = resources_wanted(change)
        if wanted:
            out[(*(str(p) for p in target.path[len(root):]), "resources")] = wanted
    heap, placement = target.chart_heap, change.placement
    if heap is None or placement is None:
        return out
    exposure = heap.exposure
    words = placement.command if exposure.args_field == "command" else placement.args
    if words is not None and exposure.args:
        out[exposure.args] = list(words)
    if placement.node_options is not None and exposure.env:
        if exposure.env_map:
            out[(*exposure.env, NODE_OPTIONS)] = placement.node_options
        else:
            out[exposure.env] = _env_list(heap.env_value, placement.node_options)
    return out


def _nest(nested: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        nested = nested.setdefault(str(part), {})
    if isinstance(value, dict) and isinstance(nested.get(str(path[-1])), dict):
        nested[str(path[-1])].update(value)
    else:
        nested[str(path[-1])] = value


def _env_list(current: Any, value: str) -> list[Any]:
    """The whole env list with NODE_OPTIONS set (Helm replaces a lower layer's list whole, so all of it)."""
    items = copy.deepcopy(list(current)) if isinstance(current, list) else []
    entry = next((e for e in items if isinstance(e, dict) and e.get("name") == NODE_OPTIONS), None)
    if entry is None:
        items.append({"name": NODE_OPTIONS, "value": value})
    else:
        entry["value"] = value
    return items


def place_in_values(heap: ChartHeap | None, pc: PlannedChange) -> FlagPlacement:
    """Where the chart's values take the heap flag: the env it renders (NODE_OPTIONS merged), or the
    arguments that already carry a flag; a PatchError says why it must be set by hand."""
    flag = f"--max-old-space-size={pc.change.heap_mib}"
    assert pc.change.heap_mib is not None
    if heap is None:
        raise PatchError(f"set {flag} in NODE_OPTIONS by hand: the chart is not in the repository, so how its "
                         "values reach the container's env is not known")
    exposure = heap.exposure
    if exposure.literal_node_options:
        raise PatchError(f"set {flag} by hand: chart {heap.chart} writes NODE_OPTIONS in its template")
    existing = pc.change.known_node_options
    if exposure.env and exposure.env_map and isinstance(heap.env_value, dict) and NODE_OPTIONS in heap.env_value:
        existing = str(heap.env_value[NODE_OPTIONS])
    elif exposure.env and isinstance(heap.env_value, list):
        entry = next((e for e in heap.env_value if isinstance(e, dict) and e.get("name") == NODE_OPTIONS), None)
        if entry is not None and "value" not in entry:
            raise PatchError(f"set {flag} by hand: NODE_OPTIONS comes from valueFrom in "
                             f".Values.{'.'.join(exposure.env)} of chart {heap.chart}")
        existing = str(entry["value"]) if entry is not None else existing
    words = [str(w) for w in heap.args_value] if isinstance(heap.args_value, list) else None
    placement = place_heap_flag(pc.change.heap_mib, existing, words if exposure.args_field == "command" else None,
                                words if exposure.args_field == "args" else None)
    if placement.node_options is not None and not exposure.env:
        why = (f"takes only extra {exposure.args_field} from values (.Values.{'.'.join(exposure.args)}), which "
               "come after the script where node does not read its flags" if exposure.args else
               "renders no env of this container from values")
        raise PatchError(f"set {flag} in NODE_OPTIONS by hand: chart {heap.chart} {why}; expose the container's "
                         "env through values (an env or extraEnv list) to have it written")
    return placement


VALUES = ValuesStyle(override=False)  # a chart's values.yaml (or a file named values-<env>.yaml)
VALUES_OVERRIDE = ValuesStyle(override=True)  # values merged over the chart's defaults
