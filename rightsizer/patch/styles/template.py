"""Resources a chart's template writes as literal YAML: the value lines of that block, edited in the template.

A template is not YAML until Helm renders it, so the file is never parsed whole.  The
``resources:`` block of the container (its lines deeper than the key, with no template
action in them) is cut out, edited as a small values text of its own (the values style,
with its data check), and put back at its indentation; every other line of the template
stays as it was.  The template serves every release of the chart, so it is edited only
when all of them have a recommendation for the container, and the same one; otherwise
the container is a change by hand, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rightsizer.patch.styles.base import EditStyle
from rightsizer.patch.styles.values import VALUES
from rightsizer.patch.yamltext import PatchError, TextEdits, indent_step, load_documents

if TYPE_CHECKING:
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target

#: (namespace, release name) of a release of a chart in the repository
Release = tuple[str | None, str | None]

NOTE = "edited in the chart's template (the chart sets these values itself; every release of the chart gets them)"


class TemplateResourcesStyle(EditStyle):
    """The ``resources:`` block at ``line`` (0-based) of a chart's template, for ``release`` among ``releases``
    (all of the chart's releases in the repository; none: the chart is deployed with no release there)."""

    def __init__(self, line: int, release: Release | None, releases: tuple[Release, ...]):
        self.line = line
        self.release = release
        self.releases = releases


def edit_template(text: str, where: str, targets: Sequence[tuple[Target, PlannedChange]]) -> str:
    """The template with each located block's value lines edited; a PatchError says why it must be done by hand."""
    blocks: dict[int, list[tuple[Target, PlannedChange]]] = {}
    for target, pc in targets:
        assert isinstance(target.style, TemplateResourcesStyle)
        blocks.setdefault(target.style.line, []).append((target, pc))
    lines = text.splitlines(keepends=True)
    for line in sorted(blocks, reverse=True):  # bottom-up: earlier line numbers stay valid
        group = blocks[line]
        _one_recommendation(group, where)
        end, indent = _block(lines, line, where)
        block = "".join(row[indent:] if row.strip() else row for row in lines[line:end])
        edited = _edit_block(block, f"{where}:{line + 1}", group[0])
        new_rows = [(" " * indent + row) if row.strip() else row for row in edited.splitlines(keepends=True)]
        lines[line:end] = new_rows
        if _block(lines, line, where) != (line + len(new_rows), indent):
            raise PatchError(f"{where}:{line + 1}: the edited resources block would not stay in place; nothing "
                             "was written (please report this template's layout)")
    return "".join(lines)


def _one_recommendation(group: list[tuple[Target, PlannedChange]], where: str) -> None:
    """Every release of the chart has a recommendation for the container, and they are the same one."""
    style = group[0][0].style
    assert isinstance(style, TemplateResourcesStyle)
    changes = {(tuple(sorted(pc.change.requests.items())), tuple(sorted(pc.change.limits.items())))
               for _, pc in group}
    namespaces = ", ".join(sorted({pc.key.namespace for _, pc in group}))
    if len(changes) > 1:
        raise PatchError(f"{where} writes the container's resources itself and is shared by the chart's releases, "
                         f"which get different recommendations (namespaces {namespaces}): set them by hand, or "
                         "expose the resources as values so each release can have its own")
    covered = {t.style.release for t, _ in group if isinstance(t.style, TemplateResourcesStyle)}
    missing = [r for r in style.releases if r not in covered]
    if missing:
        others = ", ".join(f"{name or '?'} in {namespace or 'an unset namespace'}" for namespace, name in missing)
        raise PatchError(f"{where} writes the container's resources itself and is shared by the chart's releases; "
                         f"{others} has no recommendation here, and editing the template would change it too: set "
                         "them by hand, or expose the resources as values")


def _block(lines: list[str], line: int, where: str) -> tuple[int, int]:
    """(end, indentation) of the ``resources:`` block starting at ``line``: the lines deeper than the key."""
    head = lines[line] if line < len(lines) else ""
    if head.strip() != "resources:":
        raise PatchError(f"{where}:{line + 1}: expected 'resources:' there; the template changed while reading it")
    indent = len(head) - len(head.lstrip())
    end = line + 1
    for i in range(line + 1, len(lines)):
        row = lines[i]
        if not row.strip():
            continue
        if len(row) - len(row.lstrip()) <= indent:
            break
        if "{{" in row:
            raise PatchError(f"{where}:{i + 1}: the resources block holds a template action ({row.strip()}); "
                             "set them by hand, or expose the resources as values")
        end = i + 1
    return end, indent


def _edit_block(block: str, where: str, located: tuple[Target, PlannedChange]) -> str:
    """The block's text edited as a values text holding top-level ``resources`` (checked as data there)."""
    from rightsizer.patch.verify import verify_file  # the checks of a file: the block is one

    target, pc = located
    inner = [(replace(target, doc=0, path=(), style=VALUES, chart_heap=None), pc)]
    docs = load_documents(block, where)
    if not docs or not isinstance(docs[0], dict) or not isinstance(docs[0].get("resources"), dict):
        raise PatchError(f"{where}: the resources block is not a mapping of requests and limits; set them by hand")
    edits = TextEdits.of(block)
    VALUES.edit(edits, docs, inner[0][0], pc, indent_step(docs))
    new = edits.apply()
    verify_file(block, new, where, inner, [])
    return new
