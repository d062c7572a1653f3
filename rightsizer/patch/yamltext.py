"""Edit YAML files in place, as text, so a diff shows only the values that changed.

A round-trip dump (ruamel's, or any) re-flows what it does not understand: indentation,
quoting, blank lines, comments attached in odd places.  Like Renovate and
argocd-image-updater, rightsizer instead parses the file to *locate* each node (ruamel
keeps every key's line and column), then changes the bytes of that one value, inserts a
line at the siblings' indentation, or deletes a line.  The edited text is parsed again by
the caller and compared with what was intended before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from rightsizer.errors import RightsizerError
from rightsizer.yamlsafety import check_shape, check_size


class PatchError(RightsizerError):
    """A file could not be read, located in, or edited safely."""


def load_documents(text: str, where: str) -> list[Any]:
    """All documents of a YAML text, round-trip (with positions); a clear error when it is not YAML."""
    check_size(text, where, PatchError)
    try:
        docs = list(YAML(typ="rt", pure=True).load_all(text))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PatchError(f"{where}{line}: not valid YAML ({problem})") from None
    for doc in docs:
        check_shape(doc, where)
    return docs


_PLAIN_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/=+-]*$")


def render_scalar(value: str | float, quote: str = "") -> str:
    """A YAML scalar for ``value``: in the original's quote style, plain when safe, double-quoted otherwise."""
    text = str(value)
    if quote == "'":
        return "'" + text.replace("'", "''") + "'"
    if quote == '"':
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float) or _PLAIN_OK.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class TextEdits:
    """Line-based edits to one file, applied bottom-up so earlier positions stay valid."""

    lines: list[str]
    replacements: list[tuple[int, int, int, str]] = field(default_factory=list)  # line, start, end, text
    insertions: list[tuple[int, list[str]]] = field(default_factory=list)  # after line, new lines
    deletions: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> TextEdits:
        return cls(text.splitlines(keepends=True))

    @property
    def newline(self) -> str:
        return "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"

    def scalar_span(self, line: int, col: int) -> tuple[int, int, str]:
        """(start, end, quote) of the scalar token at ``line``/``col``."""
        text = self.lines[line].rstrip("\r\n")
        if col < len(text) and text[col] in "'\"":
            quote = text[col]
            i = col + 1
            while i < len(text):
                if text[i] == quote:
                    if quote == "'" and i + 1 < len(text) and text[i + 1] == "'":
                        i += 2
                        continue
                    return col, i + 1, quote
                if quote == '"' and text[i] == "\\":
                    i += 1
                i += 1
            raise PatchError(f"line {line + 1}: a quoted value spans lines; edit it by hand")
        comment = re.search(r"\s#", text[col:])
        end = col + comment.start() if comment else len(text)
        return col, len(text[:end].rstrip()), ""

    def replace_scalar(self, line: int, col: int, value: str | float) -> None:
        start, end, quote = self.scalar_span(line, col)
        self.replacements.append((line, start, end, render_scalar(value, quote)))

    def replace(self, line: int, start: int, end: int, text: str) -> None:
        self.replacements.append((line, start, end, text))

    def insert_after(self, line: int, new_lines: list[str]) -> None:
        self.insertions.append((line, new_lines))

    def delete(self, line: int) -> None:
        self.deletions.add(line)

    def apply(self) -> str:
        lines = list(self.lines)
        nl = self.newline
        for line, start, end, text in sorted(self.replacements, key=lambda r: (r[0], r[1]), reverse=True):
            body = lines[line]
            lines[line] = body[:start] + text + body[end:]
        # insertions after the same line: a more indented block belongs to the structure that ends
        # there and goes first (a container's new env before the next new container); else as asked
        def indent(i: int) -> int:
            first = self.insertions[i][1][0] if self.insertions[i][1] else ""
            return len(first) - len(first.lstrip())

        order = sorted(range(len(self.insertions)), key=lambda i: (self.insertions[i][0], -indent(i), i),
                       reverse=True)
        deleted = sorted(self.deletions, reverse=True)
        events = [(self.insertions[i][0] + 0.5, "insert", i) for i in order] + [(d, "delete", d) for d in deleted]
        for _, kind, ref in sorted(events, key=lambda e: e[0], reverse=True):
            if kind == "delete":
                del lines[ref]
            else:
                after, new = self.insertions[ref]
                if after >= 0 and not lines[after].endswith(("\n", "\r")):
                    lines[after] += nl
                lines[after + 1 : after + 1] = [n + nl for n in new]
        return "".join(lines)


def content_end(lines: list[str], node: Any, default: int) -> int:
    """The last line of a block node, including what positions do not show: the body of a block
    scalar (``|``) or a multi-line plain scalar, i.e. the lines indented deeper than its keys."""
    last = end_line(node, default)
    if isinstance(node, CommentedMap) and node:
        column = key_column(node)
    elif isinstance(node, CommentedSeq) and node:
        column = int(node.lc.item(0)[1])
    else:
        return last
    i = last + 1
    while i < len(lines):
        text = lines[i]
        if text.strip() and len(text) - len(text.lstrip()) <= column:
            break
        if text.strip() and not text.lstrip().startswith("#"):
            last = i
        i += 1
    return last


def end_line(node: Any, default: int) -> int:
    """The last line a block node's positions reach (0-based); see :func:`content_end`."""
    last = default
    if isinstance(node, CommentedMap):
        for key in node:
            kline = node.lc.key(key)[0]
            vline = node.lc.value(key)[0]
            last = max(last, kline, vline, end_line(node[key], vline))
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            iline = node.lc.item(i)[0]
            last = max(last, iline, end_line(item, iline))
    return last


def is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def key_column(mapping: CommentedMap) -> int:
    first = next(iter(mapping))
    return int(mapping.lc.key(first)[1])


def indent_step(documents: list[Any]) -> int:
    """The file's mapping indentation: the column difference between a key and its first child key."""
    def walk(node: Any) -> int | None:
        if isinstance(node, CommentedMap) and not is_flow(node):
            for key in node:
                child = node[key]
                if isinstance(child, CommentedMap) and child and not is_flow(child):
                    step = key_column(child) - int(node.lc.key(key)[1])
                    if step > 0:
                        return step
                found = walk(child)
                if found:
                    return found
        elif isinstance(node, CommentedSeq):
            for item in node:
                found = walk(item)
                if found:
                    return found
        return None

    for doc in documents:
        step = walk(doc)
        if step:
            return step
    return 2


def block_lines(data: dict[str, Any], indent: int, step: int) -> list[str]:
    """A nested mapping as block YAML lines at ``indent`` (lists of scalars or mappings too)."""
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(" " * indent + f"{key}:")
            out.extend(block_lines(value, indent + step, step))
        elif isinstance(value, list):
            out.append(" " * indent + f"{key}:" + ("" if value else " []"))
            out.extend(item_lines(value, indent + step, step))
        else:
            out.append(" " * indent + f"{key}: {render_scalar(value)}")
    return out


def item_lines(items: list[Any], indent: int, step: int) -> list[str]:
    """Block list items with their dash at ``indent``; a mapping item's keys two columns further."""
    out: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            inner = block_lines(item, indent + 2, step)
            out += [" " * indent + "- " + inner[0].lstrip(), *inner[1:]]
        else:
            out.append(" " * indent + "- " + render_scalar(item))
    return out


def flow_text(data: dict[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        parts.append(f"{key}: {flow_text(value) if isinstance(value, dict) else render_scalar(value)}")
    return "{" + ", ".join(parts) + "}"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PatchError(f"{path} is not UTF-8 text") from None
