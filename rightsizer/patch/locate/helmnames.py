"""Names in Helm templates, resolved without Helm: ``{{ include "x.fullname" . }}``, ``.Chart.Name``, ``.Values.*``.

A template's ``name:`` becomes a pattern a workload or container name is matched with.
What is understood: literal text, ``.Values.<path>``, ``.Chart.Name``, ``.Release.Name``,
``.Release.Namespace``, and ``include``/``template`` of the ``<chart>.fullname`` and
``<chart>.name`` helpers when they are the ones ``helm create`` writes (``fullnameOverride``,
``nameOverride``, the release name kept when it contains the chart name).  With no release
name known, the release name matches any DNS label.  Anything else is "too dynamic" and
gives no pattern: such a container is reported, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_DNS = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"


def lookup(values: Any, path: str) -> Any:
    node = values
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def merge_values(*layers: Any) -> dict[str, Any]:
    """Helm's merge of values files: later layers win key by key; a null removes the key."""
    out: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, dict):
            out = _merge(out, layer)
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class NameResolver:
    """Resolves name expressions of one chart for one release (``release`` None: not known)."""

    def __init__(self, chart_name: str, helpers: str, values: dict[str, Any], release: str | None,
                 namespace: str | None):
        self.chart_name = chart_name
        self.values = values
        self.release = release
        self.namespace = namespace
        self._create_style = {m.group(1) for m in re.finditer(r'define\s+"([^"]+)"', helpers)
                              if _is_create_helper(helpers, m.group(1))}

    def pattern(self, expression: str) -> re.Pattern[str] | None:
        """A full-match pattern for what the expression renders to, or None when it is too dynamic."""
        out = []
        position = 0
        for action in _ACTION.finditer(expression):
            out.append(re.escape(expression[position:action.start()]))
            piece = self._action(action.group(1))
            if piece is None:
                return None
            out.append(piece)
            position = action.end()
        out.append(re.escape(expression[position:]))
        return re.compile("".join(out).strip("'\""))

    def _action(self, action: str) -> str | None:
        action = re.sub(r"\s*\|\s*(trunc 63|trimSuffix \"-\"|quote|lower)\s*", "", action).strip()
        if action.startswith(".Values."):
            value = lookup(self.values, action[len(".Values."):])
            return re.escape(str(value)) if isinstance(value, str | int) and str(value) else None
        if action == ".Chart.Name":
            return re.escape(self.chart_name)
        if action == ".Release.Name":
            return re.escape(self.release) if self.release else _DNS
        if action == ".Release.Namespace":
            return re.escape(self.namespace) if self.namespace else _DNS
        helper = re.fullmatch(r'(?:include|template)\s+"([^"]+)"\s+\$?\.', action)
        if helper is None or helper.group(1) not in self._create_style:
            return None
        name = str(self.values.get("nameOverride") or self.chart_name)
        if helper.group(1).endswith(".name"):
            return re.escape(name[:63].rstrip("-"))
        override = self.values.get("fullnameOverride")
        if override:
            return re.escape(str(override)[:63].rstrip("-"))
        if self.release is None:
            return f"[-a-z0-9.]*{re.escape(name)}[-a-z0-9.]*"  # any release name: kept if it holds the name
        full = self.release if name in self.release else f"{self.release}-{name}"
        return re.escape(full[:63].rstrip("-"))


def _is_create_helper(helpers: str, name: str) -> bool:
    """Whether the helper ``name`` is the fullname or name helper as ``helm create`` writes it."""
    start = helpers.find(f'define "{name}"')
    if start < 0:
        return False
    following = helpers.find('define "', start + 1)
    text = helpers[start:following if following > 0 else len(helpers)]
    if name.endswith(".fullname"):
        return "fullnameOverride" in text and ".Release.Name" in text and "nameOverride" in text
    if name.endswith(".name"):
        return "nameOverride" in text and ".Chart.Name" in text and ".Release" not in text
    return False
