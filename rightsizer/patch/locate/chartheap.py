"""Where a chart lets values set a container's Node.js heap flag: the values its template renders into env or args.

Charts expose a container's environment in a few common ways, all read here from the
template text of one container:

* a list of ``{name, value}`` entries: ``toYaml .Values.env``, ``with .Values.extraEnv``
  then ``toYaml .``, ``range .Values.env`` (items rendered one by one), or a render helper
  given ``.Values.extraEnvVars`` (``"value" .Values.extraEnvVars``);
* a mapping of names to values: ``range $name, $value := .Values.env``;
* extra arguments: ``toYaml .Values.args`` (or ``with`` ... ``toYaml .``) under ``args:``
  or ``command:``.

Helm replaces a list from a lower values layer whole, so a list is written with every
entry the merged values hold; a mapping merges key by key.  A flag in extra arguments is
only edited where one is already there: arguments a chart appends come after the
script, where node would not read a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rightsizer.patch.locate.helmnames import lookup

_PATH = r"\.Values\.([A-Za-z0-9_.]+)"
_LIST = re.compile(rf"(?:toYaml\s+|range\s+|\"value\"\s+){_PATH}")
_MAP = re.compile(rf"range\s+\$\w+\s*,\s*\$\w+\s*:=\s*{_PATH}")
_WITH = re.compile(rf"\bwith\s+{_PATH}")
_DOT = re.compile(r"toYaml\s+\.\s*(?:\||\}|-)")
_END = re.compile(r"\{\{-?\s*end\b")
_KEY = re.compile(r"^([A-Za-z][\w]*):")


@dataclass
class Exposure:
    """What one container's template renders from values into its env and args (None: nothing)."""

    env: tuple[str, ...] | None = None
    env_map: bool = False
    args: tuple[str, ...] | None = None
    args_field: str = "args"  # or "command"
    literal_node_options: bool = False  # the template writes NODE_OPTIONS itself


class ExposureReader:
    """Fed the lines of one container of a template, in order."""

    def __init__(self, item_indent: int):
        self.key_indent = item_indent + 2
        self.section: str | None = None  # env, args or command: the container key the lines are under
        self.pending: str | None = None  # the values path of an open `with`
        self.exposure = Exposure()

    def line(self, line: str) -> None:
        stripped = line.strip()
        if not stripped.startswith("{{"):
            key = _KEY.match(stripped)
            if key and len(line) - len(line.lstrip()) == self.key_indent:
                self.section = key.group(1) if key.group(1) in ("env", "args", "command") else None
            elif self.section == "env" and re.match(r"-?\s*name:\s*['\"]?NODE_OPTIONS\b", stripped):
                self.exposure.literal_node_options = True
        with_ref = _WITH.search(stripped)
        if with_ref:
            self.pending = with_ref.group(1)
        if self.section is not None:
            self._expose(stripped)
        if _END.match(stripped) and not with_ref:
            self.pending = None

    def _expose(self, text: str) -> None:
        found = _MAP.search(text)
        path = found.group(1) if found else None
        if path is None:
            listed = _LIST.search(text)
            if listed and not (self.section != "env" and listed.group(0).startswith("range")):
                path = listed.group(1)
            elif _DOT.search(text) and self.pending:
                path = self.pending
        if path is None:
            return
        parts = tuple(path.split("."))
        if self.section == "env" and self.exposure.env is None:
            self.exposure.env, self.exposure.env_map = parts, found is not None
        elif self.section in ("args", "command") and self.exposure.args is None:
            self.exposure.args, self.exposure.args_field = parts, self.section


@dataclass(frozen=True)
class ChartHeap:
    """How one release's values reach a container's heap flag, with what the merged values hold now."""

    chart: str  # for messages
    root: tuple[str | int, ...]  # the values mapping in the target document
    exposure: Exposure
    env_value: Any  # the merged value at exposure.env
    args_value: Any  # the merged value at exposure.args


def chart_heap(chart: str, root: tuple[str | int, ...], exposure: Exposure | None,
               values: dict[str, Any]) -> ChartHeap:
    exposure = exposure or Exposure()
    env = lookup(values, ".".join(exposure.env)) if exposure.env else None
    if isinstance(env, dict):
        exposure = Exposure(exposure.env, True, exposure.args, exposure.args_field, exposure.literal_node_options)
    args = lookup(values, ".".join(exposure.args)) if exposure.args else None
    return ChartHeap(chart, root, exposure, env, args)
