"""Edits inside Kubernetes objects: a container's resources and NODE_OPTIONS, an HPA's target.

Each function records text edits on a :class:`TextEdits` for one node of a parsed file;
nothing is written here.  Values are Kubernetes quantity strings; ``None`` in limits
means "remove this limit".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rightsizer import kube
from rightsizer.patch.yamltext import (
    PatchError,
    TextEdits,
    block_lines,
    content_end,
    flow_text,
    is_flow,
    item_lines,
    key_column,
)
from rightsizer.recommend.node_heap import FlagPlacement, place_heap_flag

NODE_OPTIONS = "NODE_OPTIONS"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Rollout", "Job", "ReplicaSet")


@dataclass
class ContainerChange:
    """What to set on one container; quantities as strings, a None limit is removed."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str | None] = field(default_factory=dict)
    heap_mib: int | None = None  # --max-old-space-size, written where node reads it (see ``placement``)
    #: the recommendation's NODE_OPTIONS (a reviewed report's value): the flags kept where the repository shows none
    known_node_options: str | None = None
    #: where and how the heap flag is written, once the container (and the base a patch applies to) is read;
    #: None with ``heap_mib`` set: the flag is not written here (listed as a change by hand)
    placement: FlagPlacement | None = None


def heap_placement(change: ContainerChange, container: dict[str, Any] | None,
                   base: dict[str, Any] | None = None) -> FlagPlacement | None:
    """Where the heap flag goes in a container: its own NODE_OPTIONS, command and args, else the base's.

    ``base`` is the container of the object a strategic-merge patch applies to: what the patch
    does not set, the base does (env entries merge by name; ``command`` and ``args`` are
    replaced whole).  A flag on node's command line wins over NODE_OPTIONS, so it is edited
    there; NODE_OPTIONS keeps the container's other flags.  A NODE_OPTIONS read from a
    ConfigMap or Secret (``valueFrom``) cannot be merged here: a PatchError says where to set it.
    """
    if change.heap_mib is None:
        return None
    own, inherited = container or {}, base or {}
    entry = env_entry(own, NODE_OPTIONS) or env_entry(inherited, NODE_OPTIONS)
    existing = entry.get("value") if entry is not None else change.known_node_options
    placement = place_heap_flag(change.heap_mib, None if existing is None else str(existing),
                                _words(own, inherited, "command"), _words(own, inherited, "args"))
    if entry is not None and "value" not in entry and placement.node_options is not None:
        raise PatchError(f"NODE_OPTIONS of {own.get('name') or inherited.get('name')!r} comes from valueFrom: set "
                         f"--max-old-space-size={change.heap_mib} where it is read from (the ConfigMap or Secret)")
    return placement


def env_entry(container: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A container's env entry named ``name`` (a literal value or a valueFrom), or None."""
    return next((e for e in container.get("env") or [] if isinstance(e, dict) and e.get("name") == name), None)


def _words(own: dict[str, Any], inherited: dict[str, Any], field_name: str) -> list[str] | None:
    words = own[field_name] if field_name in own else inherited.get(field_name)
    return [str(w) for w in words] if isinstance(words, list) else None


def resources_wanted(change: ContainerChange) -> dict[str, Any]:
    """``{limits: ..., requests: ...}`` for the sections the change touches (limits first, as written)."""
    wanted: dict[str, Any] = {}
    if change.limits:
        wanted["limits"] = dict(change.limits)
    if change.requests:
        wanted["requests"] = dict(change.requests)
    return wanted


def pod_spec(doc: Any) -> CommentedMap | None:
    """The pod template's spec of a workload object, or None."""
    if not isinstance(doc, CommentedMap):
        return None
    template_spec = kube.pod_spec(doc)
    return template_spec if isinstance(template_spec, CommentedMap) else None


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def find_container(spec: CommentedMap, name: str, init: bool = False) -> CommentedMap | None:
    items = spec.get("initContainers" if init else "containers")
    if not isinstance(items, CommentedSeq):
        return None
    return next((c for c in items if isinstance(c, CommentedMap) and c.get("name") == name), None)


def _child_indent(mapping: CommentedMap, step: int) -> int:
    return key_column(mapping) + step


def _own_keys(mapping: Any, what: str) -> None:
    """Refuse a mapping some of whose keys come from a YAML merge key (``<<: *anchor``): they are written
    elsewhere, and shared with every other mapping that merges the same anchor."""
    if isinstance(mapping, CommentedMap) and mapping.merge:
        raise PatchError(f"line {mapping.lc.line + 1}: {what} takes keys from a YAML merge key (<<:), shared with "
                         "whatever else merges it: set the values there by hand")


def set_mapping(edits: TextEdits, parent: CommentedMap, key: str, wanted: dict[str, Any], step: int) -> None:
    """Make ``parent[key]`` hold ``wanted`` (nested dicts; a None value removes that key)."""
    _own_keys(parent, f"the mapping holding {key}")
    existing = parent.get(key)
    _own_keys(existing, key)
    final = _merge(existing if isinstance(existing, dict) else {}, wanted)
    kline = parent.lc.key(key)[0] if key in parent else None
    if existing is None or (isinstance(existing, dict) and not existing) or \
            (key in parent and not isinstance(existing, dict)):
        # missing, `key: {}` or `key:` with nothing: write a block under the key
        if not final:
            return
        indent = key_column(parent)
        if kline is None:
            last = content_end(edits.lines, parent, parent.lc.line)
            edits.insert_after(last, [" " * indent + f"{key}:", *block_lines(final, indent + step, step)])
        else:
            vline, vcol = parent.lc.value(key)
            if vline == kline:  # `key: {}` or `key: null` on the same line: drop the value
                start, end, _ = _value_span(edits, vline, vcol)
                edits.replace(vline, start - 1 if start > 0 and edits.lines[vline][start - 1] == " " else start,
                              end, "")
            edits.insert_after(kline, block_lines(final, indent + step, step))
        return
    if is_flow(existing):
        if _plain(final) == _plain(existing):
            return  # already so: leave the bytes alone
        line, col = parent.lc.value(key)
        start, end = _flow_span(edits, line, col)
        edits.replace(line, start, end, flow_text(final) if final else "{}")
        return
    _edit_block(edits, existing, wanted, step)


def _edit_block(edits: TextEdits, mapping: CommentedMap, wanted: dict[str, Any], step: int) -> None:
    appended: list[str] = []
    indent = key_column(mapping) if mapping else 0
    for key, value in wanted.items():
        if isinstance(value, dict):
            if key in mapping:
                current = mapping[key]
                if isinstance(current, CommentedMap) and current and not is_flow(current) and \
                        all(v is None for v in value.values()) and set(current) <= {k for k, v in value.items()}:
                    # every entry goes: remove the whole sub-mapping
                    for line in range(mapping.lc.key(key)[0], content_end(edits.lines, current, mapping.lc.key(key)[0]) + 1):
                        edits.delete(line)
                    continue
                set_mapping(edits, mapping, key, value, step)
            else:
                present = {k: v for k, v in value.items() if v is not None}
                if present:
                    appended += [" " * indent + f"{key}:", *block_lines(present, indent + step, step)]
        elif isinstance(value, list):
            set_list(edits, mapping, key, value, step)
        elif value is None:
            if key in mapping:
                kline = mapping.lc.key(key)[0]
                for line in range(kline, max(kline, content_end(edits.lines, mapping[key], kline)) + 1):
                    edits.delete(line)
        elif key in mapping:
            line, col = mapping.lc.value(key)
            if str(mapping[key]) != str(value):
                edits.replace_scalar(line, col, value)
        else:
            appended.append(" " * indent + f"{key}: {value}")
    if appended:
        edits.insert_after(content_end(edits.lines, mapping, mapping.lc.line), appended)


def _value_span(edits: TextEdits, line: int, col: int) -> tuple[int, int, str]:
    text = edits.lines[line]
    if col < len(text) and text[col] in "{[":
        start, end = _flow_span(edits, line, col)
        return start, end, ""
    return edits.scalar_span(line, col)


def _flow_span(edits: TextEdits, line: int, col: int) -> tuple[int, int]:
    text = edits.lines[line]
    depth = 0
    for i in range(col, len(text)):
        if text[i] in "{[":
            depth += 1
        elif text[i] in "}]":
            depth -= 1
            if depth == 0:
                return col, i + 1
    raise PatchError(f"line {line + 1}: a flow mapping spans lines; edit it by hand")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return None if value is None else str(value)


def _merge(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in current.items()}
    for key, value in wanted.items():
        if isinstance(value, dict):
            merged = _merge(out.get(key) if isinstance(out.get(key), dict) else {}, value)
            if merged:
                out[key] = merged
            else:
                out.pop(key, None)
        elif value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def edit_container(edits: TextEdits, container: CommentedMap, change: ContainerChange, step: int) -> None:
    wanted = resources_wanted(change)
    if wanted:
        set_mapping(edits, container, "resources", wanted, step)
    edit_heap_flag(edits, container, change.placement, step)


def edit_heap_flag(edits: TextEdits, container: CommentedMap, placement: FlagPlacement | None, step: int) -> None:
    """Write a placed heap flag: the edited command/args (in place, or whole where the base sets them), NODE_OPTIONS."""
    if placement is None:
        return
    for field_name, words in (("command", placement.command), ("args", placement.args)):
        if words is not None:
            set_list(edits, container, field_name, words, step)
    if placement.node_options is not None:
        set_env(edits, container, NODE_OPTIONS, placement.node_options, step)


def set_list(edits: TextEdits, parent: CommentedMap, key: str, items: list[Any], step: int) -> None:
    """Make ``parent[key]`` the list ``items``, changing as few lines as possible.

    A block list is edited item by item (a scalar replaced or deleted where it stands, a
    mapping item's changed values replaced, new items appended); a missing, empty, null or
    one-line flow list is written as a new block list under its key.
    """
    existing = parent.get(key)
    in_place = isinstance(existing, CommentedSeq) and existing and (
        not is_flow(existing) or (len(existing) == len(items) and not any(isinstance(i, dict | list) for i in items)))
    if not in_place:
        indent = key_column(parent)
        if key not in parent:
            last = content_end(edits.lines, parent, parent.lc.line)
            edits.insert_after(last, block_lines({key: items}, indent, step))
            return
        kline, (vline, vcol) = parent.lc.key(key)[0], parent.lc.value(key)
        if vline == kline and vcol < len(edits.lines[vline].rstrip("\r\n")):
            start, end, _ = _value_span(edits, vline, vcol)
            edits.replace(vline, start - 1 if start > 0 and edits.lines[vline][start - 1] == " " else start, end,
                          "" if items else " []")
        elif not items:
            return
        edits.insert_after(kline, item_lines(items, indent + step, step))
        return
    old = [_canonical(i) for i in existing]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, [_canonical(i) for i in items],
                                                      autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if j2 - j1 > i2 - i1 and i2 != len(existing):
            raise PatchError(f"{key}: items would be inserted inside the list; set it by hand")
        for k in range(i1, i2):
            if k - i1 < j2 - j1:
                _replace_item(edits, existing, k, items[j1 + k - i1], key)
            else:
                first = existing.lc.item(k)[0]
                for line in range(first, content_end(edits.lines, existing[k], first) + 1):
                    edits.delete(line)
        added = items[j1 + (i2 - i1):j2]
        if added:
            dash = max(int(existing.lc.item(0)[1]) - 2, 0)  # an item's position is after its "- "
            edits.insert_after(content_end(edits.lines, existing, existing.lc.item(len(existing) - 1)[0]),
                               item_lines(added, dash, step))


def _canonical(item: Any) -> str:
    return repr(_plain(item)) if isinstance(item, dict) else str(item)


def _replace_item(edits: TextEdits, items: CommentedSeq, k: int, new: Any, key: str) -> None:
    """One list item changed in place: a scalar, or the differing scalar values of a flat mapping."""
    current = items[k]
    line, col = items.lc.item(k)
    if isinstance(current, CommentedMap) and isinstance(new, dict) and set(current) == set(new) and \
            all(not isinstance(v, dict | list) for v in new.values()):
        for name, value in new.items():
            if str(current[name]) != str(value):
                vline, vcol = current.lc.value(name)
                edits.replace_scalar(vline, vcol, value)
        return
    if isinstance(current, dict | list) or isinstance(new, dict | list) or edits.lines[line][col:col + 1] in "|>":
        raise PatchError(f"{key}: item {k + 1} cannot be changed in place; set it by hand")
    edits.replace_scalar(line, col, new)


def set_env(edits: TextEdits, container: CommentedMap, name: str, value: str, step: int) -> None:
    """Set an env var's value, adding the entry (or the env list) when missing."""
    _own_keys(container, f"container {container.get('name')!r}")
    env = container.get("env")
    if env is not None and not isinstance(env, CommentedSeq):
        raise PatchError(f"container {container.get('name')!r}: env is not a list")
    if isinstance(env, CommentedSeq) and is_flow(env):
        raise PatchError(f"container {container.get('name')!r}: env is a flow-style list; use a block list")
    entry = next((e for e in env or [] if isinstance(e, CommentedMap) and e.get("name") == name), None)
    rendered = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if entry is not None:
        if "value" not in entry:
            raise PatchError(f"container {container.get('name')!r}: {name} comes from valueFrom; set it there")
        line, col = entry.lc.value("value")
        if entry["value"] != value:
            edits.replace_scalar(line, col, value)
        return
    if env:
        dash_line, _dash_col = env.lc.item(len(env) - 1)
        item_col = key_column(env[-1])
        dash = " " * (item_col - 2) + "- " if item_col >= 2 else "- "
        last = content_end(edits.lines, env, dash_line)
        edits.insert_after(last, [dash + f"name: {name}", " " * item_col + f"value: {rendered}"])
        return
    indent = key_column(container)
    last = content_end(edits.lines, container, container.lc.line)
    edits.insert_after(last, [" " * indent + "env:", " " * (indent + step) + f"- name: {name}",
                              " " * (indent + step + 2) + f"value: {rendered}"])


def edit_hpa(edits: TextEdits, hpa: CommentedMap, resource: str, target: int) -> bool:
    """Set an HPA's target utilization for ``resource``; False when it has no such target."""
    spec = hpa.get("spec")
    if not isinstance(spec, CommentedMap):
        return False
    if resource == "cpu" and "targetCPUUtilizationPercentage" in spec:  # autoscaling/v1
        line, col = spec.lc.value("targetCPUUtilizationPercentage")
        edits.replace_scalar(line, col, target)
        return True
    for metric in spec.get("metrics") or []:
        res = _get(metric, "resource")
        target_node = _get(metric, "resource", "target")
        if isinstance(res, CommentedMap) and res.get("name") == resource and isinstance(target_node, CommentedMap) \
                and "averageUtilization" in target_node:
            line, col = target_node.lc.value("averageUtilization")
            edits.replace_scalar(line, col, target)
            return True
    return False
