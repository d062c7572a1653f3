"""Limits on YAML read from users: size, nesting depth, and alias expansion ("billion laughs").

Safe loaders build no Python objects from tags, but a small file can still name one
mapping a million times through aliases, or nest until a recursive walk overflows.
Loaded data is walked once, iteratively, counting nodes as they would be expanded.

Every YAML file read from a repository goes through :func:`safe_documents` (plain data)
or ``patch.yamltext.load_documents`` (with positions, for editing): both apply these limits.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from rightsizer.errors import RightsizerError

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_YAML_BYTES = 5_000_000


def check_shape(data: Any, where: str) -> None:
    """Refuse data with more than MAX_NODES nodes (aliases counted each time) or deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise RightsizerError(f"{where}: more than {MAX_NODES:,} values once aliases are expanded: refused")
        if depth > MAX_DEPTH:
            raise RightsizerError(f"{where}: nested deeper than {MAX_DEPTH} levels: refused")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def check_size(text: str, where: str, error: type[RightsizerError] = RightsizerError) -> None:
    """Refuse a text too large to be a manifest before a parser spends memory on it."""
    if len(text) > MAX_YAML_BYTES:
        raise error(f"{where} is larger than {MAX_YAML_BYTES // 1_000_000} MB: not a manifest")


def safe_documents(text: str, where: str = "YAML text") -> list[Any]:
    """Plain Python values of every document (no tags), within the size, depth and alias limits.

    A syntax error propagates as ruamel's ``YAMLError`` so the caller can say which file it was
    and whether that stops anything.
    """
    check_size(text, where)
    docs = list(YAML(typ="safe", pure=True).load_all(text))
    for doc in docs:
        check_shape(doc, where)
    return docs
