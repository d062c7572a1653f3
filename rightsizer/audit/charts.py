"""Helm charts in the repository, read as the patch locator reads them: without Helm, through their values.

Templates are not rendered (that needs Helm and every value a release sets), so of a chart's
workload the audit knows its kind, its name (resolved as :mod:`~rightsizer.patch.locate.helmnames`
resolves it; ``release-name`` stands for an unknown release, as ``helm template`` names it),
its containers, and the resources each renders from values: the resource and Node.js-heap
rules run on them, the rules that need the whole pod spec do not, and the result says so.
Each release in the repository (Argo CD, Flux) is one set of values; with none, the chart's
``values.yaml`` and each ``values-<env>.yaml`` over it are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rightsizer.audit.views import ContainerView, Lines, Place, WorkloadView
from rightsizer.patch.locate import Locator
from rightsizer.patch.locate.deployers import Release
from rightsizer.patch.locate.helm import Chart, TemplateContainer
from rightsizer.patch.locate.helmnames import NameResolver, lookup, merge_values
from rightsizer.patch.locate.repofiles import repo_path

#: the release name ``helm template`` uses when none is given
PLACEHOLDER_RELEASE = "release-name"
NOT_RENDERED = "templates are not rendered without Helm: probes, replicas, affinity, volumes and env not checked"


def chart_workloads(locator: Locator, lines: Lines) -> tuple[list[WorkloadView], dict[str, str]]:
    """The workloads of every local chart, per values set, and what could not be read."""
    out: list[WorkloadView] = []
    unread: dict[str, str] = {}
    local = {str(c) for c in locator.helm.charts}
    for release in locator.helm.releases:
        if release.chart not in local:
            unread[f"{release.file} ({release.source})"] = (f"deploys the chart {release.chart}, whose templates "
                                                            "are not in the repository: not audited")
    for chart in locator.helm.charts.values():
        if chart.workloads:
            unread[str(chart.dir)] = f"Helm chart: {NOT_RENDERED}; resources checked from its values"
        releases = [r for r in locator.helm.releases if Path(r.chart) == chart.dir]
        for values, namespace, release, place, how in _value_sets(locator, chart, releases):
            out += _workloads(chart, values, namespace, release, place, how, lines, unread)
    return out, unread


def _value_sets(locator: Locator, chart: Chart, releases: list[Release]
                ) -> list[tuple[dict[str, Any], str | None, str | None, Place, str]]:
    """(merged values, namespace, release name, the values node a release overrides, how) per values set."""
    files = locator.files
    out = []
    for release in releases:
        layers: list[Any] = [chart.defaults]
        place = Place(chart.dir / "values.yaml")
        for name in release.value_files:
            path = repo_path(chart.dir / name)
            if (files.repo / path).is_file() and path.name != "values.yaml":
                layers.append(_data(locator, path))
                place = Place(path)
        if release.values_path is not None:
            inline: Any = files.data(release.file)[release.doc]
            for part in release.values_path:
                inline = inline.get(part) if isinstance(inline, dict) else \
                    inline[part] if isinstance(inline, list) and isinstance(part, int) and part < len(inline) else None
            layers.append(inline)
            place = Place(release.file, release.doc, release.values_path)
        out.append((merge_values(*layers), release.namespace, release.name, place,
                    f"Helm chart {chart.dir}, {release.source}"))
    if releases:
        return out
    out.append((chart.defaults, None, None, Place(chart.dir / "values.yaml"), f"Helm chart {chart.dir}, values.yaml"))
    for path in sorted((files.repo / chart.dir).glob("values-*.y*ml")):
        rel = path.relative_to(files.repo)
        out.append((merge_values(chart.defaults, _data(locator, rel)), None, None, Place(rel),
                    f"Helm chart {chart.dir}, {rel.name}"))
    return out


def _data(locator: Locator, path: Path) -> dict[str, Any]:
    try:
        data = locator.files.data(path)
    except Exception:  # noqa: BLE001 - the locator lists it as not YAML
        return {}
    return data[0] if data and isinstance(data[0], dict) else {}


def _workloads(chart: Chart, values: dict[str, Any], namespace: str | None, release: str | None, over: Place,
               how: str, lines: Lines, unread: dict[str, str]) -> list[WorkloadView]:
    resolver = NameResolver(chart.name, chart.helpers, values, release or PLACEHOLDER_RELEASE, namespace)
    out = []
    for workload in chart.workloads:
        name = _literal(resolver, workload.name)
        if name is None:
            unread[f"{workload.file}"] = f"the workload name {workload.name!r} is too dynamic to resolve without Helm"
            continue
        text = lines.files.text(workload.file)
        view = WorkloadView(namespace, workload.kind, name, None, Place(workload.file, line=_line_of(
            text, workload.name)), how, name_pattern=None if release else NameResolver(
                chart.name, chart.helpers, values, None, namespace).pattern(workload.name))
        for container in workload.containers:
            container_name = _literal(resolver, container.name)
            if container_name is None:
                unread[f"{workload.file}"] = f"the container name {container.name!r} is too dynamic to resolve"
                continue
            if container.values_path is None:
                continue  # resources written in the template itself, or none: nothing read from values
            view.containers.append(_container(container, container_name, values, over, chart, workload.file,
                                              text, lines))
        out.append(view)
    return out


def _container(container: TemplateContainer, name: str, values: dict[str, Any], over: Place, chart: Chart,
               template: Path, text: str, lines: Lines) -> ContainerView:
    assert container.values_path is not None
    holder = lookup(values, ".".join(container.values_path)) if container.values_path else values
    holder = holder if isinstance(holder, dict) else {}
    spec: dict[str, Any] = {"name": name, "resources": holder.get("resources") or {}}
    if isinstance(holder.get("image"), str):
        spec["image"] = holder["image"]
    candidates = [over.at(*container.values_path), Place(chart.dir / "values.yaml", 0, container.values_path)]
    resources = next((c.at("resources") for c in candidates if lines.resolves(c.at("resources"))),
                     next((c.at("resources") for c in candidates if lines.resolves(c)), candidates[-1].at("resources")))
    return ContainerView(name, container.init, spec, Place(template, line=_line_of(text, f"- name: {container.name}")),
                         resources)


def _literal(resolver: NameResolver, expression: str) -> str | None:
    """What the expression renders to, when that is one name (None: too dynamic)."""
    pattern = resolver.pattern(expression)
    if pattern is None:
        return None
    text = re.sub(r"\\(.)", r"\1", pattern.pattern)
    return text if re.escape(text) == pattern.pattern else None


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1
