"""Helm charts: which values key a template renders into a container's ``resources``.

A template that renders ``.Values.X.resources`` into a container maps that workload
container to the values key ``X``, whatever it is called; the workload name comes from the
template's literal ``name:`` or the ``.Values`` it reads.  Templates are not YAML until
rendered, so they are read as text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from rightsizer.patch.locate.repofiles import RepoFiles, first_line
from rightsizer.patch.manifests import WORKLOAD_KINDS
from rightsizer.patch.styles.values import VALUES
from rightsizer.patch.target import Target

_RESOURCES_REF = re.compile(r"\.Values\.([A-Za-z0-9_.]+?)\.resources\b")


class HelmLayout:
    def __init__(self, files: RepoFiles):
        self.files = files
        self.targets: dict[tuple[str, str, bool], list[Target]] = defaultdict(list)  # (workload, container, init)

    def add_chart(self, chart: Path) -> None:
        values_file = chart / "values.yaml"
        try:
            values = self.files.data(values_file)[0] or {} if (self.files.repo / values_file).exists() else {}
        except Exception as exc:  # noqa: BLE001
            self.files.skipped[values_file] = f"not valid YAML ({first_line(exc)})"
            return
        for template in sorted((self.files.repo / chart / "templates").glob("*.y*ml")):
            rel = template.relative_to(self.files.repo)
            for doc_text in re.split(r"(?m)^---\s*$", self.files.text(rel)):
                kind = re.search(r"(?m)^kind:\s*(\w+)", doc_text)
                if not kind or kind.group(1) not in WORKLOAD_KINDS:
                    continue
                name = _template_name(doc_text, values)
                if name is None:
                    continue
                for container, init, values_path in _template_containers(doc_text):
                    target = Target(values_file, 0, tuple(values_path.split(".")), VALUES,
                                    f"Helm chart {chart}: the template renders .Values.{values_path}.resources")
                    self.targets[(name, container, init)].append(target)

    def find(self, workload: str, container: str, init: bool, namespace: str) -> list[Target]:
        return [self._values_file(t, namespace) for t in self.targets.get((workload, container, init), [])]

    def _values_file(self, target: Target, namespace: str) -> Target:
        """The chart's values file for the namespace (``values-<namespace>.yaml``) when it has one."""
        env_file = target.file.parent / f"values-{namespace}.yaml"
        if (self.files.repo / env_file).is_file():
            return replace(target, file=env_file, how=f"{target.how}, in the {namespace} values file")
        return target


def _template_name(doc_text: str, values: dict[str, Any]) -> str | None:
    meta = re.search(r"(?m)^metadata:\s*\n((?:[ \t]+.*\n?)*)", doc_text)
    if not meta:
        return None
    name = re.search(r"(?m)^  name:\s*(.+?)\s*$", meta.group(1))
    if not name:
        return None
    raw = name.group(1).strip().strip("'\"")
    ref = re.fullmatch(r"\{\{-?\s*\.Values\.([A-Za-z0-9_.]+)\s*-?\}\}", raw)
    if ref:
        node: Any = values
        for part in ref.group(1).split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) else None
    return None if "{{" in raw else raw


def _template_containers(doc_text: str) -> list[tuple[str, bool, str]]:
    """(container name, is init, values path) for each container whose resources come from .Values.X.resources."""
    out = []
    section = None
    current: tuple[str, int] | None = None
    for line in doc_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("initContainers:"):
            section, current = "init", None
            continue
        if stripped.startswith("containers:"):
            section, current = "main", None
            continue
        item = re.match(r"^(\s*)- name:\s*([A-Za-z0-9_.-]+)\s*$", line)
        if item and section:
            current = (item.group(2), len(item.group(1)))
            continue
        if current and section:
            ref = _RESOURCES_REF.search(line)
            if ref:
                out.append((current[0], section == "init", ref.group(1)))
                current = None
    return out
