"""Limits on YAML read from users: size, nesting depth, and alias expansion ("billion laughs").

Safe loaders build no Python objects from tags, but a small file can still name one
mapping a million times through aliases, or nest until a recursive walk overflows.
Loaded data is walked once, iteratively, counting nodes as they would be expanded.
"""

from __future__ import annotations

from typing import Any

from rightsizer.errors import RightsizerError

MAX_NODES = 200_000
MAX_DEPTH = 64


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
