"""A Flux post-renderer: a strategic-merge patch a HelmRelease applies to what its chart renders.

Used for a container of a published chart (not in the repository) whose resources cannot be
set through values (hard-coded in a template, or under a values key nobody mapped): Flux's
``spec.postRenderers[].kustomize.patches[]`` takes a ``target`` and a ``patch`` string, and
the patch sets the container's resources over whatever the chart wrote.  The patch for the
same target is replaced (merged with what it already sets), never added twice.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from rightsizer.patch.manifests import ContainerChange
from rightsizer.patch.styles.base import InPlaceStyle, dump_yaml, intend_container, node_at
from rightsizer.patch.styles.values import VALUES_OVERRIDE
from rightsizer.patch.yamltext import PatchError, TextEdits, content_end, key_column
from rightsizer.yamlsafety import safe_documents

if TYPE_CHECKING:
    from rightsizer.history import ContainerKey
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target

NOTE = "set by a Flux post-renderer: the chart hard-codes these resources"
#: the workload kinds a post-renderer patch is written for, with their apiVersion
POST_RENDERED = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "CronJob": "batch/v1"}


@dataclass(frozen=True)
class PostRenderStyle(InPlaceStyle):
    """A post-renderer patch in the HelmRelease document at ``target.path`` (its ``spec``)."""

    kind: str
    workload: str

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        spec = node_at(docs[target.doc], target.path)
        if not isinstance(spec, CommentedMap) or not spec:
            raise PatchError(f"{target.file}: expected the HelmRelease's spec as a block mapping")
        item = self._item(_patches(spec), pc)
        renderers = spec.get("postRenderers")
        if renderers is None:
            indent = key_column(spec)
            last = content_end(edits.lines, spec, spec.lc.line)
            edits.insert_after(last, _lines({"postRenderers": [{"kustomize": {"patches": [item]}}]}, indent, step))
            return
        patches = _kustomize_patches(renderers)
        if not isinstance(patches, CommentedSeq) or not patches or patches.fa.flow_style():
            raise PatchError(f"{target.file}: its postRenderers have no block list of kustomize patches to add "
                             f"to; add the patch for {self.kind}/{self.workload} by hand")
        first = edits.lines[int(patches.lc.item(0)[0])]
        column = len(first) - len(first.lstrip())  # the dash's column (positions give the item's content)
        same = self._same(patches)
        if same is None:
            edits.insert_after(content_end(edits.lines, patches, patches.lc.line), _lines([item], column, step))
            return
        start = int(patches.lc.item(same)[0])
        end = content_end(edits.lines, patches[same], start)
        if same + 1 < len(patches):
            end = min(end, int(patches.lc.item(same + 1)[0]) - 1)
        for line in range(start, end + 1):
            edits.delete(line)
        edits.insert_after(start - 1, _lines([item], column, step))

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        spec = node_at(docs[target.doc], target.path)
        item = self._item(_patches(spec), pc)
        renderers = spec.setdefault("postRenderers", [])
        patches = _kustomize_patches(renderers)
        if patches is None:
            renderers.append({"kustomize": {"patches": [item]}})
            return
        kustomize = next(r["kustomize"] for r in renderers if isinstance(r, dict) and isinstance(r.get("kustomize"), dict))
        patches = kustomize.setdefault("patches", patches)
        same = self._same(patches)
        if same is None:
            patches.append(item)
        else:
            patches[same] = item

    def _same(self, patches: list[Any]) -> int | None:
        wanted = {"kind": self.kind, "name": self.workload}
        return next((i for i, p in enumerate(patches) if isinstance(p, dict) and isinstance(p.get("target"), dict)
                     and {k: p["target"].get(k) for k in wanted} == wanted), None)

    def _item(self, patches: list[Any], pc: PlannedChange) -> dict[str, Any]:
        """The patch entry for this workload: the existing one's patch (if any) with the container's resources set."""
        same = self._same(patches)
        body: Any = None
        if same is not None and isinstance(patches[same].get("patch"), str):
            body = next(iter(safe_documents(patches[same]["patch"], "the existing post-renderer patch")), None)
        if not isinstance(body, dict):
            body = {"apiVersion": POST_RENDERED.get(self.kind, "apps/v1"), "kind": self.kind,
                    "metadata": {"name": self.workload}}
        body = copy.deepcopy(body)
        holder = body
        for part in ("spec", "jobTemplate", "spec") if self.kind == "CronJob" else ():
            holder = holder.setdefault(part, {})
        pod = holder.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
        items = pod.setdefault("initContainers" if pc.init else "containers", [])
        container = next((c for c in items if isinstance(c, dict) and c.get("name") == pc.key.container), None)
        if container is None:
            container = {"name": pc.key.container}
            items.append(container)
        intend_container(container, ContainerChange(pc.change.requests, pc.change.limits), null=True)
        return {"target": {"kind": self.kind, "name": self.workload}, "patch": dump_yaml(body)}


def _kustomize_patches(renderers: Any) -> Any:
    """The patches list of the first kustomize post-renderer (None: there is none)."""
    if not isinstance(renderers, list):
        raise PatchError("the HelmRelease's postRenderers is not a list; edit it by hand")
    for renderer in renderers:
        if isinstance(renderer, dict) and isinstance(renderer.get("kustomize"), dict):
            return renderer["kustomize"].get("patches") or []
    return None


def _patches(spec: Any) -> list[Any]:
    renderers = spec.get("postRenderers") if isinstance(spec, dict) else None
    patches = _kustomize_patches(renderers) if isinstance(renderers, list) else None
    return list(patches) if isinstance(patches, list) else []


def _lines(data: Any, indent: int, step: int) -> list[str]:
    """Block YAML lines at ``indent`` (lists indented under their key), the patch as a literal block."""
    def literal(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (LiteralScalarString(v) if k == "patch" else literal(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [literal(v) for v in value]
        return value

    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=step, sequence=step + 2, offset=step)
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(literal(data), buffer)
    lines = buffer.getvalue().splitlines()
    margin = min(len(line) - len(line.lstrip()) for line in lines if line.strip())  # a top-level list's offset
    return [" " * indent + line[margin:] if line else line for line in lines]


def rendered_container(renderers: list[Any], kind: str, workload: str, container: str,
                       init: bool) -> dict[str, Any] | None:
    """The container as the post-renderer patch for ``kind/workload`` sets it (what a rendered overlay shows)."""
    style = PostRenderStyle(kind, workload)
    patches = _kustomize_patches(renderers) or []
    same = style._same(patches)
    if same is None:
        return None
    body = next(iter(safe_documents(str(patches[same].get("patch") or ""), "the post-renderer patch")), None)
    holder = body
    for part in ("spec", "jobTemplate", "spec") if kind == "CronJob" else ():
        holder = holder.get(part) if isinstance(holder, dict) else None
    for part in ("spec", "template", "spec"):
        holder = holder.get(part) if isinstance(holder, dict) else None
    items = (holder or {}).get("initContainers" if init else "containers") or []
    return next((c for c in items if isinstance(c, dict) and c.get("name") == container), None)


def post_render_how(chart: str, source: str) -> str:
    return (f"{NOTE} (chart {chart} of {source} is not in the repository, and its values set only the main "
            "container's resources)")


def post_render_targets(values_targets: list[Target], release: str, key: ContainerKey, how: str) -> list[Target]:
    """The HelmRelease documents holding the release's values for each environment (the overlay's patch, else
    the release), as post-renderer targets for ``key``; a valuesFrom ConfigMap has no place for one."""
    style = PostRenderStyle(key.kind, key.workload)
    return [replace(t, path=("spec",), style=style, how=how, rendered=("HelmRelease", release, ("spec", "postRenderers")))
            for t in values_targets if t.path[:2] == ("spec", "values") and t.style is VALUES_OVERRIDE]
