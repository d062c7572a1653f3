"""Turn planned changes into edits of a GitOps checkout, verified before anything is written.

``build_patch`` locates every changed container (``patch.locate``), has each target's edit
style edit the file as text (``patch.styles``), then verifies the result
(``patch.verify``).  A file that cannot be edited safely leaves out its own edits, with
the reason; the others go on.  Only then does ``write_patch`` write, all files or none.
"""

from __future__ import annotations

import difflib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.fileio import write_files_atomic
from rightsizer.patch.helmrender import check_helm
from rightsizer.patch.locate import IGNORE_ANNOTATION, Locator
from rightsizer.patch.manifests import edit_hpa
from rightsizer.patch.plan import PlannedChange
from rightsizer.patch.repotree import inside
from rightsizer.patch.styles import InPlaceStyle, NewPatchStyle
from rightsizer.patch.styles.template import NOTE as TEMPLATE_NOTE
from rightsizer.patch.styles.template import TemplateResourcesStyle, edit_template
from rightsizer.patch.styles.values import ValuesStyle
from rightsizer.patch.target import Target
from rightsizer.patch.verify import REMOTE_TIMEOUT, HpaEdit, check_kustomize, verify_file
from rightsizer.patch.yamltext import PatchError, TextEdits, indent_step, load_documents
from rightsizer.recommend.node_heap import FlagPlacement


@dataclass
class PatchResult:
    files: dict[Path, tuple[str | None, str]] = field(default_factory=dict)  # path -> (old text or None, new)
    applied: list[tuple[str, Path, str]] = field(default_factory=list)  # what, file, how it was found
    skipped: dict[str, str] = field(default_factory=dict)  # what -> why
    notes: list[str] = field(default_factory=list)  # what the checks could not cover
    heap: dict[str, FlagPlacement] = field(default_factory=dict)  # container -> where its heap flag is written

    def diff(self) -> str:
        out = []
        for path, (old, new) in sorted(self.files.items()):
            out += difflib.unified_diff((old or "").splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{path}" if old is not None else "/dev/null", f"b/{path}")
        return "".join(out)


def build_patch(repo: Path, changes: list[PlannedChange], mapping: Path | None = None,
                render_kustomize: bool = True, environment: str | None = None, allow_remote: bool = False,
                remote_timeout: float = REMOTE_TIMEOUT) -> PatchResult:
    """Locate, edit and verify, in memory; ``environment`` picks among overlays and values files.

    A kustomization with remote resources is not rendered (the check would fetch them) unless
    ``allow_remote``; then kubectl gets ``remote_timeout`` seconds.
    """
    repo = Path(repo)
    locator = Locator(repo, mapping, environment, allow_remote)
    result = PatchResult()
    by_file: dict[Path, list[tuple[Target, PlannedChange]]] = defaultdict(list)
    hpa_edits: dict[Path, list[HpaEdit]] = defaultdict(list)
    for pc in changes:
        opted_out = locator.opted_out(pc.key)
        if opted_out is not None:
            result.skipped[str(pc.key)] = (f"{pc.key}: left alone: {opted_out} annotates it "
                                           f"{IGNORE_ANNOTATION}: \"true\"")
            continue
        try:
            target = locator.locate(pc.key, pc.init)
        except PatchError as exc:
            result.skipped[str(pc.key)] = str(exc)
            continue
        _place_heap(locator, target, pc, result)
        by_file[target.file].append((target, pc))
        result.applied.append((str(pc.key), target.file, target.how))
        if pc.hpa is not None:
            _plan_hpa(locator, pc, hpa_edits, result)
    new_files: dict[Path, list[tuple[Target, PlannedChange]]] = {}
    for file in sorted(set(by_file) | set(hpa_edits)):
        targets = by_file.get(file, [])
        if targets and isinstance(targets[0][0].style, NewPatchStyle):
            new_files[file] = targets
            continue
        try:
            old = locator.text(file)
            if targets and isinstance(targets[0][0].style, TemplateResourcesStyle):
                new = edit_template(old, str(file), targets)  # a chart's template: not YAML until rendered
            else:
                new = _edit_file(old, str(file), targets, hpa_edits.get(file, []))
                verify_file(old, new, str(file), targets, hpa_edits.get(file, []))
        except Exception as exc:  # noqa: BLE001 - one file that cannot be edited safely stops only its own edits
            _leave_out(file, _why_not_edited(file, exc), by_file, hpa_edits, result)
            continue
        if new != old:
            result.files[file] = (old, new)
    for file, targets in new_files.items():
        style = targets[0][0].style
        assert isinstance(style, NewPatchStyle)
        try:
            style.create(locator, file, targets, result.files)
        except PatchError as exc:
            _leave_out(file, str(exc), by_file, hpa_edits, result)
    for what, why in locator.refused.items():
        result.skipped[what] = why
    result.notes += [f"{file}: {why}" for file, why in sorted(locator.files.skipped.items())]
    if render_kustomize:
        check_kustomize(locator, result.files, by_file, remote_timeout if allow_remote else None)
    check_helm(locator, result.files, [(t, pc) for targets in by_file.values() for t, pc in targets
                                    if isinstance(t.style, ValuesStyle | TemplateResourcesStyle)], result.notes)
    result.notes += [f"{file}: {pc.key} {TEMPLATE_NOTE}" for file, targets in sorted(by_file.items())
                     for t, pc in targets if isinstance(t.style, TemplateResourcesStyle) and file in result.files]
    return result


def _place_heap(locator: Locator, target: Target, pc: PlannedChange, result: PatchResult) -> None:
    """Where the container's heap flag is written (kept in ``result.heap``), or why it is a change by hand."""
    if pc.change.heap_mib is None:
        return
    try:
        pc.change.placement = target.style.place_heap(locator, target, pc)
    except PatchError as exc:
        pc.change.placement = None
        result.skipped[f"NODE_OPTIONS of {pc.key}"] = f"{pc.key}: {exc}"
        return
    result.heap[str(pc.key)] = pc.change.placement


def _plan_hpa(locator: Locator, pc: PlannedChange, hpa_edits: dict[Path, list[HpaEdit]],
              result: PatchResult) -> None:
    """Queue the HPA target change of a workload, once per HPA and resource."""
    assert pc.hpa is not None
    try:
        found = locator.hpas(pc.key.namespace, pc.key.kind, pc.key.workload)
    except PatchError as exc:
        result.skipped[f"HPA of {pc.key.workload_key}"] = str(exc)
        found = []
    else:
        if not found:
            result.skipped[f"HPA of {pc.key.workload_key}"] = (
                f"the HPA of {pc.key.workload_key} is not in the repository: set its {pc.hpa[0]} target "
                f"utilization to {pc.hpa[1]}% where it is defined")
    for file, doc in found:
        if (doc, pc.hpa[0]) not in {(d, r) for d, r, _, _ in hpa_edits[file]}:
            hpa_edits[file].append((doc, pc.hpa[0], pc.hpa[1], pc))


def _edit_file(text: str, where: str, targets: list[tuple[Target, PlannedChange]], hpas: list[HpaEdit]) -> str:
    docs = load_documents(text, where)
    step = indent_step(docs)
    edits = TextEdits.of(text)
    for target, pc in targets:
        assert isinstance(target.style, InPlaceStyle)
        target.style.edit(edits, docs, target, pc, step)
    for doc_index, resource, value, pc in hpas:
        if not edit_hpa(edits, docs[doc_index], resource, value):
            raise PatchError(f"{where}: the HPA of {pc.key.workload} has no {resource} utilization target to set")
    return edits.apply()


def _why_not_edited(file: Path, exc: Exception) -> str:
    if isinstance(exc, PatchError):
        return str(exc) if str(exc).startswith(str(file)) else f"{file}: {exc}"
    return f"{file}: could not be edited safely ({exc.__class__.__name__}: {exc}); please report its layout"


def _leave_out(file: Path, why: str, by_file: dict[Path, list[tuple[Target, PlannedChange]]],
               hpa_edits: dict[Path, list[HpaEdit]], result: PatchResult) -> None:
    """Drop every edit of a file that cannot be edited safely, each with the file's reason; the rest go on."""
    for _, pc in by_file.pop(file, []):
        result.skipped[str(pc.key)] = f"{pc.key}: not applied: {why}"
    for _, _, _, pc in hpa_edits.pop(file, []):
        result.skipped[f"HPA of {pc.key.workload_key}"] = f"the HPA of {pc.key.workload_key}: not applied: {why}"
    result.applied = [a for a in result.applied if a[1] != file]


def write_patch(repo: Path, result: PatchResult) -> None:
    """Write every changed file (all were verified) or none: all are staged beside their targets, then renamed
    into place; a failure puts back those already replaced.  Each path is resolved inside the checkout first: a
    link is written at the file it names there (the link stays), a path leaving the checkout writes nothing."""
    root = Path(os.path.realpath(repo))
    write_files_atomic({root / inside(root, path, str(path)): new for path, (_, new) in sorted(result.files.items())})
