"""Turn recommendations into edits of a GitOps checkout, verified before anything is written.

``build_patch`` locates every changed container, edits each file as text, then checks
the result two ways: every file parses, and equals the original with exactly the intended
values changed (compared as data, so nothing else moved); where a kustomization renders
the workload, ``kubectl kustomize`` renders the edited tree and the container's effective
resources must be the recommended ones.  Only then does ``write_patch`` write, each file
atomically; a failure anywhere writes nothing.
"""

from __future__ import annotations

import copy
import difflib
import io
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from rightsizer import kube
from rightsizer.errors import QuantityError
from rightsizer.fileio import write_text_atomic
from rightsizer.history import ContainerKey
from rightsizer.patch.locate import Locator, Target
from rightsizer.patch.manifests import ContainerChange, edit_container, edit_hpa, set_mapping
from rightsizer.patch.yamltext import (
    PatchError,
    TextEdits,
    block_lines,
    content_end,
    indent_step,
    key_column,
    load_documents,
    render_scalar,
    safe_documents,
)
from rightsizer.quantity import format_cpu, format_memory, parse_quantity
from rightsizer.recommend.model import Recommendation


@dataclass
class PlannedChange:
    key: ContainerKey
    init: bool
    change: ContainerChange
    hpa: tuple[str, int] | None = None  # (resource, new target utilization)


def plan(recs: Iterable[Recommendation]) -> list[PlannedChange]:
    """The edits the changed recommendations call for."""
    out = []
    for rec in recs:
        if not rec.changed or rec.requests is None or rec.limits is None:
            continue
        change = ContainerChange()
        for res, fmt in (("cpu", format_cpu), ("memory", format_memory)):
            new = getattr(rec.requests, res)
            if new is not None and new != getattr(rec.current_requests, res):
                change.requests[res] = fmt(new)
            new_limit = getattr(rec.limits, res)
            if new_limit != getattr(rec.current_limits, res):
                change.limits[res] = fmt(new_limit) if new_limit is not None else None
        if rec.nodejs is not None:
            change.heap_mib = rec.nodejs.max_old_space_size_mib
        hpa = (rec.hpa.resource, int(rec.hpa.target)) if rec.hpa and rec.hpa.target != rec.hpa.current_target else None
        out.append(PlannedChange(rec.key, rec.init, change, hpa))
    return out


def plan_from_report(doc: dict[str, Any]) -> list[PlannedChange]:
    """The edits a report written by ``rightsizer report -o json`` calls for (so a reviewed report is applied)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("recommendations"), list):
        raise PatchError("not a rightsizer report: expected the JSON of 'rightsizer report -o json'")
    out = []
    for i, rec in enumerate(doc["recommendations"]):
        try:
            if not rec.get("changed") or not rec.get("recommended"):
                continue
            key = ContainerKey(rec["namespace"], rec["kind"], rec["workload"], rec["container"], rec.get("cluster") or "")
            cur, new = rec["current"], rec["recommended"]
            change = ContainerChange()
            for res in ("cpu", "memory"):
                request, limit = new[f"{res}_request"], new[f"{res}_limit"]
                for value in (request, limit):
                    if value is not None:
                        parse_quantity(value, what=f"{res} in report entry {i + 1}")
                if request is not None and request != cur[f"{res}_request"]:
                    change.requests[res] = str(request)
                if limit != cur[f"{res}_limit"]:
                    change.limits[res] = None if limit is None else str(limit)
            if rec.get("nodejs"):
                change.heap_mib = int(rec["nodejs"]["max_old_space_size"])
            hpa = rec.get("hpa")
            target = (hpa["resource"], int(hpa["target_utilization"])) if hpa and \
                hpa["target_utilization"] != hpa["current_target_utilization"] else None
            out.append(PlannedChange(key, bool(rec.get("init_container")), change, target))
        except (KeyError, TypeError, AttributeError, QuantityError) as exc:
            raise PatchError(f"report entry {i + 1} is malformed ({exc.__class__.__name__}: {exc})") from None
    return out


@dataclass
class PatchResult:
    files: dict[Path, tuple[str | None, str]] = field(default_factory=dict)  # path -> (old text or None, new)
    applied: list[tuple[str, Path, str]] = field(default_factory=list)  # what, file, how it was found
    skipped: dict[str, str] = field(default_factory=dict)  # what -> why

    def diff(self) -> str:
        out = []
        for path, (old, new) in sorted(self.files.items()):
            out += difflib.unified_diff((old or "").splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{path}" if old is not None else "/dev/null", f"b/{path}")
        return "".join(out)


def _node(doc: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def build_patch(repo: Path, changes: list[PlannedChange], mapping: Path | None = None,
                render_kustomize: bool = True) -> PatchResult:
    """Locate, edit and verify, in memory."""
    repo = Path(repo)
    locator = Locator(repo, mapping)
    result = PatchResult()
    by_file: dict[Path, list[tuple[Target, PlannedChange]]] = defaultdict(list)
    hpa_edits: dict[Path, list[tuple[int, str, int, PlannedChange]]] = defaultdict(list)
    for pc in changes:
        try:
            target = locator.locate(pc.key, pc.init)
        except PatchError as exc:
            result.skipped[str(pc.key)] = str(exc)
            continue
        if pc.change.heap_mib is not None and target.kustomization is not None:
            pc.change.inherited_node_options = locator.base_env(pc.key, pc.init, "NODE_OPTIONS")
        by_file[target.file].append((target, pc))
        result.applied.append((str(pc.key), target.file, target.how))
        if target.style in ("values", "json6902") and pc.change.heap_mib is not None:
            where = "through the chart's env values (a chart's env layout is its own)" if target.style == "values" \
                else f"by hand ({target.how} sets the resources, not the env)"
            result.skipped[f"NODE_OPTIONS of {pc.key}"] = (
                f"{pc.key}: set --max-old-space-size={pc.change.heap_mib} in NODE_OPTIONS {where}")
        if pc.hpa is not None:
            try:
                found = locator.hpas(pc.key.namespace, pc.key.kind, pc.key.workload)
            except PatchError as exc:
                result.skipped[f"HPA of {pc.key.workload_key}"] = str(exc)
                found = []
            for file, doc in found:
                if (doc, pc.hpa[0]) not in {(d, r) for d, r, _, _ in hpa_edits[file]}:
                    hpa_edits[file].append((doc, pc.hpa[0], pc.hpa[1], pc))
    new_patches: dict[Path, list[tuple[Target, PlannedChange]]] = defaultdict(list)
    for file in sorted(set(by_file) | set(hpa_edits)):
        targets = by_file.get(file, [])
        if targets and targets[0][0].style == "new-patch":
            new_patches[file] = targets
            continue
        old = locator.text(file)
        new = _edit_file(old, str(file), targets, hpa_edits.get(file, []))
        _verify(old, new, str(file), targets, hpa_edits.get(file, []))
        if new != old:
            result.files[file] = (old, new)
    for file, targets in new_patches.items():
        _add_new_patch(locator, repo, file, targets, result)
    if render_kustomize:
        _check_kustomize(repo, result, by_file)
    return result


def _in_patch(target: Target) -> bool:
    """A strategic-merge patch: omitting a field keeps the base's, so a removal is written as null."""
    return target.kustomization is not None and target.how.startswith(("strategic-merge", "new strategic"))


def _env_values(target: Target) -> bool:
    """A per-environment values file is merged over values.yaml: a removal there must be a null too."""
    return target.style == "values" and target.file.name.startswith("values-")


def _as_patch(change: ContainerChange) -> ContainerChange:
    limits = {k: ("null" if v is None else v) for k, v in change.limits.items()}
    return ContainerChange(dict(change.requests), limits, change.heap_mib, change.inherited_node_options)


def _edit_file(text: str, where: str, targets: list[tuple[Target, PlannedChange]],
               hpas: list[tuple[int, str, int, PlannedChange]]) -> str:
    docs = load_documents(text, where)
    step = indent_step(docs)
    edits = TextEdits.of(text)
    for target, pc in targets:
        if target.style == "values":
            change = _as_patch(pc.change) if _env_values(target) else pc.change
            wanted: dict[str, Any] = {}
            if change.limits:
                wanted["limits"] = dict(change.limits)
            if change.requests:
                wanted["requests"] = dict(change.requests)
            nested: dict[str, Any] = {"resources": wanted}
            for part in reversed(target.path[1:]):
                nested = {str(part): nested}
            root = docs[target.doc] if docs and docs[target.doc] is not None else None
            if not isinstance(root, CommentedMap):
                raise PatchError(f"{where}: expected a mapping of values at the top")
            set_mapping(edits, root, str(target.path[0]), nested, step)
            continue
        if target.style == "json6902":
            _edit_json6902(edits, docs[target.doc], target, pc.change)
            continue
        node = _node(docs[target.doc], target.path)
        if target.style == "container":
            edit_container(edits, node, _as_patch(pc.change) if _in_patch(target) else pc.change, step)
        elif target.style == "patch-add-container":
            _add_container(edits, node, PlannedChange(pc.key, pc.init, _as_patch(pc.change)), step)
    for doc_index, resource, value, pc in hpas:
        if not edit_hpa(edits, docs[doc_index], resource, value):
            raise PatchError(f"{where}: the HPA of {pc.key.workload} has no {resource} utilization target to set")
    return edits.apply()


def _json6902_plan(ops: list[Any], target: Target, change: ContainerChange) -> list[tuple[str, str, Any]]:
    """(action, op path, value) per resource field: set an op's value, drop an op, or add an op."""
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


def _edit_json6902(edits: TextEdits, ops: Any, target: Target, change: ContainerChange) -> None:
    if not isinstance(ops, CommentedSeq) or not ops:
        raise PatchError(f"{target.file}: expected a list of JSON 6902 operations")
    if any(isinstance(o, dict) and o.get("path") == target.path[0] for o in ops):
        raise PatchError(f"{target.file}: an operation replaces the whole resources object; edit it by hand")
    item_col = key_column(ops[0])
    dash = " " * (item_col - 2) + "- "
    added: list[str] = []
    for action, path, value in _json6902_plan(list(ops), target, change):
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


def _intend_json6902(ops: list[Any], target: Target, change: ContainerChange) -> None:
    for action, path, value in _json6902_plan(ops, target, change):
        if action == "set":
            next(o for o in ops if o.get("path") == path)["value"] = value
        elif action == "drop":
            ops[:] = [o for o in ops if o.get("path") != path]
        elif value is None:
            ops.append({"op": "remove", "path": path})
        else:
            ops.append({"op": "add", "path": path, "value": value})


def _add_container(edits: TextEdits, items: CommentedSeq, pc: PlannedChange, step: int) -> None:
    item_col = key_column(items[-1])
    dash = " " * (item_col - 2) + "- "
    lines = [dash + f"name: {pc.key.container}"]
    resources: dict[str, Any] = {}
    if pc.change.limits:
        resources["limits"] = dict(pc.change.limits)
    if pc.change.requests:
        resources["requests"] = dict(pc.change.requests)
    if resources:
        lines += [" " * item_col + "resources:", *block_lines(resources, item_col + step, step)]
    value = pc.change.node_options(None)
    if value is not None:
        lines += [" " * item_col + "env:", " " * (item_col + step) + "- name: NODE_OPTIONS",
                  " " * (item_col + step + 2) + f"value: {render_scalar(value, chr(34))}"]
    edits.insert_after(content_end(edits.lines, items, items.lc.line), lines)


# --- verification -----------------------------------------------------------------------------

def _intend_container(container: dict[str, Any], change: ContainerChange, null: bool = False) -> None:
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
    if change.heap_mib is not None:
        env = container.setdefault("env", [])
        entry = next((e for e in env if isinstance(e, dict) and e.get("name") == "NODE_OPTIONS"), None)
        if entry is None:
            env.append({"name": "NODE_OPTIONS", "value": DoubleQuotedScalarString(change.node_options(None))})
        else:
            entry["value"] = change.node_options(entry.get("value"))


def _normal(value: Any, under_resources: bool = False) -> Any:
    """Data for comparison: quantities as exact numbers, empty mappings as absent (None stays: a delete)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            n = _normal(v, under_resources or k in ("requests", "limits"))
            if n != {}:
                out[k] = n
        return out
    if isinstance(value, list):
        return [_normal(v, under_resources) for v in value]
    if under_resources and isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_quantity(value)
        except QuantityError:
            return value
    return value


def _verify(old: str, new: str, where: str, targets: list[tuple[Target, PlannedChange]],
            hpas: list[tuple[int, str, int, PlannedChange]]) -> None:
    try:
        after = safe_documents(new)
    except Exception as exc:  # noqa: BLE001
        raise PatchError(f"{where}: the edited file does not parse ({exc}); nothing was written") from None
    expected = copy.deepcopy(safe_documents(old))
    for target, pc in targets:
        node = expected[target.doc]
        if target.style == "json6902":
            _intend_json6902(node, target, pc.change)
            continue
        if target.style == "values":
            for part in target.path:
                node = node.setdefault(part, {})
            _intend_container(node, ContainerChange(pc.change.requests, pc.change.limits), null=_env_values(target))
            continue
        for part in target.path:
            node = node[part]
        if target.style == "container":
            _intend_container(node, pc.change, null=_in_patch(target))
        elif target.style == "patch-add-container":
            added: dict[str, Any] = {"name": pc.key.container}
            _intend_container(added, pc.change, null=True)
            node.append(added)
    for doc_index, resource, value, _ in hpas:
        spec = expected[doc_index]["spec"]
        if "targetCPUUtilizationPercentage" in spec and resource == "cpu":
            spec["targetCPUUtilizationPercentage"] = value
        for metric in spec.get("metrics") or []:
            res = metric.get("resource") or {}
            if res.get("name") == resource and "averageUtilization" in (res.get("target") or {}):
                res["target"]["averageUtilization"] = value
    if _normal(after) != _normal(expected):
        raise PatchError(f"{where}: the edit would change more than the intended values; nothing was written "
                         "(please report this file's layout)")


def _add_new_patch(locator: Locator, repo: Path, file: Path, targets: list[tuple[Target, PlannedChange]],
                   result: PatchResult) -> None:
    """A new strategic-merge patch in the overlay, and its entry in the kustomization."""
    first = targets[0][1].key
    base = next(o for o in locator.objects if o.kind == first.kind and o.name == first.workload)
    api_version = safe_documents(locator.text(base.file))[base.doc].get("apiVersion", "apps/v1")
    containers: dict[str, list[dict[str, Any]]] = {"containers": [], "initContainers": []}
    for _, pc in targets:
        item: dict[str, Any] = {"name": pc.key.container}
        _intend_container(item, pc.change, null=True)
        containers["initContainers" if pc.init else "containers"].append(item)
    spec = {k: v for k, v in containers.items() if v}
    template: dict[str, Any] = {"template": {"spec": spec}}
    body: dict[str, Any] = {"apiVersion": api_version, "kind": first.kind, "metadata": {"name": first.workload},
                            **kube.wrap_template(first.kind, template)}
    text = "# Resources set by rightsizer for this overlay only: the base is shared with other namespaces.\n"
    text += _dump(body)
    safe_documents(text)
    result.files[file] = (None, text)
    kfile = locator.kustomizations[targets[0][0].kustomization].file  # type: ignore[index]
    assert kfile is not None
    old = result.files[kfile][1] if kfile in result.files else locator.text(kfile)
    new = _add_patch_entry(old, str(kfile), file.name)
    result.files[kfile] = (result.files[kfile][0] if kfile in result.files else old, new)


def _dump(data: dict[str, Any]) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null",
                                                                                  "null"))
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


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
    if (safe_documents(new)[0].get("patches") or [])[-1] != {"path": name}:
        raise PatchError(f"{where}: could not add the patch entry safely")
    return new


def _check_kustomize(repo: Path, result: PatchResult, by_file: dict[Path, list[tuple[Target, PlannedChange]]]
                     ) -> None:
    roots = {t.kustomization: [] for targets in by_file.values() for t, _ in targets if t.kustomization}
    for targets in by_file.values():
        for t, pc in targets:
            if t.kustomization:
                roots[t.kustomization].append(pc)
    if not roots or not result.files:
        return
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise PatchError("kubectl not found: it renders the kustomizations to check the edit (install kubectl)")
    with tempfile.TemporaryDirectory(prefix="rightsizer-kustomize-") as tmp:
        copy_root = Path(tmp) / "repo"
        shutil.copytree(repo, copy_root, ignore=shutil.ignore_patterns(".git"))
        for path, (_, new) in result.files.items():
            (copy_root / path).parent.mkdir(parents=True, exist_ok=True)
            (copy_root / path).write_text(new)
        for root, pcs in roots.items():
            run = subprocess.run([kubectl, "kustomize", str(copy_root / root)], capture_output=True, text=True,
                                 check=False, timeout=120)
            if run.returncode != 0:
                raise PatchError(f"kubectl kustomize {root} fails after the edit: {run.stderr.strip()[:300]}; "
                                 "nothing was written")
            rendered = safe_documents(run.stdout)
            for pc in pcs:
                _check_rendered(rendered, root, pc)


def _check_rendered(rendered: list[Any], root: Path, pc: PlannedChange) -> None:
    key = pc.key
    obj = next((d for d in rendered if isinstance(d, dict) and d.get("kind") == key.kind
                and (d.get("metadata") or {}).get("name") == key.workload), None)
    items = (kube.pod_spec(obj) or {}).get("initContainers" if pc.init else "containers") or []
    container = next((c for c in items if c.get("name") == key.container), None)
    if container is None:
        raise PatchError(f"kubectl kustomize {root} does not render {key}; nothing was written")
    resources = container.get("resources") or {}
    for section, values in (("requests", pc.change.requests), ("limits", pc.change.limits)):
        for name, value in values.items():
            got = (resources.get(section) or {}).get(name)
            if (value is None) != (got is None) or (value is not None and parse_quantity(got) != parse_quantity(value)):
                raise PatchError(f"kubectl kustomize {root} renders {key} {section}.{name} = {got!r}, not {value!r}: "
                                 "another patch overrides it; nothing was written")


def write_patch(repo: Path, result: PatchResult) -> None:
    """Write every changed file (all were verified), each atomically."""
    for path, (_, new) in sorted(result.files.items()):
        target = Path(repo) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, new)


__all__ = ["PatchResult", "PlannedChange", "build_patch", "plan", "plan_from_report", "write_patch"]
