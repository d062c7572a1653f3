"""Edits inside Kubernetes objects: a container's resources and NODE_OPTIONS, an HPA's target.

Each function records text edits on a :class:`TextEdits` for one node of a parsed file;
nothing is written here.  Values are Kubernetes quantity strings; ``None`` in limits
means "remove this limit".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rightsizer import kube
from rightsizer.patch.yamltext import PatchError, TextEdits, block_lines, content_end, flow_text, is_flow, key_column
from rightsizer.recommend.node_heap import merge_node_options

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Rollout", "Job", "ReplicaSet")


@dataclass
class ContainerChange:
    """What to set on one container; quantities as strings, a None limit is removed."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str | None] = field(default_factory=dict)
    heap_mib: int | None = None  # --max-old-space-size, merged into the container's NODE_OPTIONS
    inherited_node_options: str | None = None  # NODE_OPTIONS a patch's base sets, kept when the patch overrides it

    def node_options(self, existing: str | None) -> str | None:
        if self.heap_mib is None:
            return None
        return merge_node_options(existing if existing is not None else self.inherited_node_options, self.heap_mib)


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
    if change.heap_mib is not None:
        value = change.node_options(env_value(container, "NODE_OPTIONS"))
        assert value is not None
        set_env(edits, container, "NODE_OPTIONS", value, step)


def env_value(container: dict[str, Any], name: str) -> str | None:
    """The literal value of an env var of a container, or None."""
    for entry in container.get("env") or []:
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get("value"), str):
            return str(entry["value"])
    return None


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
