"""Helm values embedded as text in a ConfigMap (``data: {values.yaml: |...}``), as Flux's valuesFrom reads them.

The embedded text is a values file of its own: it is edited as one (the values style,
its own data check), then put back in the literal block at the block's indentation, so
the ConfigMap keeps its layout and the values their comments.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rightsizer.patch.styles.base import InPlaceStyle
from rightsizer.patch.styles.values import VALUES_OVERRIDE, place_in_values
from rightsizer.patch.yamltext import PatchError, TextEdits, indent_step, load_documents

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target
    from rightsizer.recommend.node_heap import FlagPlacement


class EmbeddedValuesStyle(InPlaceStyle):
    """``data.<key>`` of a ConfigMap document holds the values; ``target.path`` leads to the container's
    values mapping inside them."""

    def __init__(self, key: str):
        self.key = key

    def place_heap(self, locator: Locator, target: Target, pc: PlannedChange) -> FlagPlacement:
        return place_in_values(target.chart_heap, pc)

    def edit(self, edits: TextEdits, docs: list[Any], target: Target, pc: PlannedChange, step: int) -> None:
        """Replace the block's lines with the edited values text: with every container of this file set in the
        block so far (the edits of one file are made on one TextEdits, one container at a time)."""
        data = docs[target.doc].get("data")
        if not isinstance(data, dict) or not isinstance(data.get(self.key), str):
            raise PatchError(f"{target.file}: data.{self.key} is not the values text")
        blocks: dict[tuple[int, str], tuple[list[tuple[Target, PlannedChange]], list[str], str]] = \
            edits.__dict__.setdefault("embedded_values", {})
        if (target.doc, self.key) in blocks:
            changes, lines, pad = blocks[(target.doc, self.key)]
            changes.append((target, pc))
            lines[:] = self._lines(str(data[self.key]), changes, pad)
            return
        line, col = data.lc.value(self.key)
        if not edits.lines[line][col:].lstrip().startswith("|"):
            raise PatchError(f"{target.file}: data.{self.key} is not a literal block (|); edit it by hand")
        key_indent = len(edits.lines[line]) - len(edits.lines[line].lstrip())
        last, indent = line, None
        for i in range(line + 1, len(edits.lines)):
            text = edits.lines[i].rstrip("\r\n")
            if not text.strip():
                continue
            if len(text) - len(text.lstrip()) <= key_indent:
                break
            indent = len(text) - len(text.lstrip()) if indent is None else indent
            last = i
        for i in range(line + 1, last + 1):
            edits.delete(i)
        changes = [(target, pc)]
        pad = " " * (indent if indent is not None else key_indent + step)
        lines = self._lines(str(data[self.key]), changes, pad)
        edits.insert_after(line, lines)
        blocks[(target.doc, self.key)] = (changes, lines, pad)

    def intend(self, docs: list[Any], target: Target, pc: PlannedChange) -> None:
        data = docs[target.doc]["data"]
        data[self.key] = self._edited(data[self.key], [(target, pc)])

    def _lines(self, text: str, changes: list[tuple[Target, PlannedChange]], pad: str) -> list[str]:
        return [pad + row if row.strip() else "" for row in self._edited(text, changes).splitlines()]

    def _edited(self, text: str, changes: list[tuple[Target, PlannedChange]]) -> str:
        """The values text with the changes made, checked as data like any values file."""
        from rightsizer.patch.verify import verify_file  # the checks of a file: a values text is one

        where = f"{changes[0][0].file}: data.{self.key}"
        inner = [(replace(target, doc=0, style=VALUES_OVERRIDE), pc) for target, pc in changes]
        docs = load_documents(text, where)
        edits = TextEdits.of(text)
        for target, pc in inner:
            VALUES_OVERRIDE.edit(edits, docs, target, pc, indent_step(docs))
        new = edits.apply()
        verify_file(text, new, where, inner, [])
        return new if text.endswith("\n") else new.rstrip("\n")
