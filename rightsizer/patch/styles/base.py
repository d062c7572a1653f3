"""What every edit style provides, and the data-side helpers the styles share."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from rightsizer.patch.manifests import NODE_OPTIONS, ContainerChange, env_entry, heap_placement
from rightsizer.patch.yamltext import PatchError, TextEdits
from rightsizer.recommend.node_heap import FlagPlacement

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target


class EditStyle:
    """How a located container is changed: a subclass per kind of place (see ``patch/styles/``)."""

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        """Where the container's heap flag is written here; a PatchError says why it must be set by hand."""
        raise PatchError(f"set --max-old-space-size={pc.change.heap_mib} in NODE_OPTIONS by hand ({target.how})")


def container_heap(locator: Locator, container: dict[str, Any] | None, target: Target,
                   pc: PlannedChange) -> FlagPlacement:
    """The heap flag of a container edited in a manifest or a patch (over the base a kustomization patches)."""
    base = locator.base_container(pc.key, pc.init) if target.kustomization is not None else None
    placement = heap_placement(pc.change, container, base)
    assert placement is not None
    return placement


class InPlaceStyle(EditStyle):
    """One kind of node rightsizer edits in place, with both halves of the edit side by side.

    ``edit`` records text edits (the file's layout, quoting and comments stay); ``intend``
    applies the same change to the file's plain data.  The verifier parses the edited text
    and requires it to equal the original data plus ``intend``: a style that edits more,
    or less, than it states is caught before anything is written.
    """

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        raise NotImplementedError

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        raise NotImplementedError


def node_at(doc: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def as_patch(change: ContainerChange) -> ContainerChange:
    """The change as a merge patch writes it: a removed limit becomes an explicit null."""
    limits = {k: ("null" if v is None else v) for k, v in change.limits.items()}
    return ContainerChange(dict(change.requests), limits, change.heap_mib, change.known_node_options,
                           change.placement)


def intend_container(container: dict[str, Any], change: ContainerChange, null: bool = False) -> None:
    """Apply a change to plain data; ``null`` keeps a removed limit as None (a patch's delete)."""
    resources = container.setdefault("resources", {}) if (change.requests or change.limits) else None
    if resources is not None:
        if not isinstance(resources, dict):
            resources = container["resources"] = {}
        for section, values in (("requests", change.requests), ("limits", change.limits)):
            if not values:
                continue
            current = resources.get(section) if isinstance(resources.get(section), dict) else {}
            for name, value in values.items():
                if value is None and not null:
                    current.pop(name, None)
                else:
                    current[name] = value
            resources[section] = current
    intend_heap_flag(container, change.placement)


def intend_heap_flag(container: dict[str, Any], placement: FlagPlacement | None) -> None:
    """A placed heap flag, as data: the edited command/args, the merged NODE_OPTIONS."""
    if placement is None:
        return
    for field_name, words in (("command", placement.command), ("args", placement.args)):
        if words is not None:
            container[field_name] = list(words)
    if placement.node_options is not None:
        env = container.setdefault("env", [])
        entry = env_entry(container, NODE_OPTIONS)
        if entry is None:
            env.append({"name": NODE_OPTIONS, "value": DoubleQuotedScalarString(placement.node_options)})
        else:
            entry["value"] = placement.node_options


def dump_yaml(data: dict[str, Any]) -> str:
    """A new YAML document in the layout kubectl and most repositories use (nulls written as ``null``)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null",
                                                                                  "null"))
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
