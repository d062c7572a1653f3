"""Helm charts: which values a release of a chart renders into a container's ``resources``.

A chart's templates are read as text (they are not YAML until rendered): each workload
template's ``name:`` and each container's ``- name:`` are resolved with ``helmnames`` (the
release name from an Argo CD Application, a Flux HelmRelease or a mapping entry), and the
``.Values.<path>.resources`` a container renders (``toYaml .Values.resources`` included)
says which values key to edit.  Where to edit it depends on the release:

* inline values of the release (an Application's ``helm.valuesObject``, a HelmRelease's
  ``spec.values``, or the overlay patch that sets them for one environment);
* the last of an Application's ``helm.valueFiles``;
* with no release in the repository: ``values-<environment>.yaml`` or
  ``values-<namespace>.yaml``; ``values.yaml`` only when the chart has no per-environment
  file (editing the defaults would change every environment);
* a template that writes the resources as literal YAML: in the template (``styles/template.py``).

A chart that is not in the repository (a HelmRelease or Application of a published chart)
is matched by the ``helm create`` convention only: workload ``<release>[-<chart>]``,
container ``<chart>``, top-level ``resources``; the target says so.  Its other containers
(named ``<release>...``) are set by a Flux post-renderer when a HelmRelease deploys it
(``styles/postrender.py``); for an Argo CD Application they are left to the user.

A little over 400 lines: reading a chart and finding its releases' values share the records
below, and the published-chart half is short enough not to stand alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rightsizer.history import ContainerKey
from rightsizer.patch.helmrender import HelmRender
from rightsizer.patch.locate.chartheap import Exposure, ExposureReader, chart_heap
from rightsizer.patch.locate.deployers import Release
from rightsizer.patch.locate.helmnames import NameResolver, merge_values
from rightsizer.patch.locate.kustomize import KustomizeLayout
from rightsizer.patch.locate.repofiles import RepoFiles, first_line, repo_path
from rightsizer.patch.locate.valuesfrom import ValuesFrom
from rightsizer.patch.manifests import WORKLOAD_KINDS
from rightsizer.patch.styles.embedded import EmbeddedValuesStyle
from rightsizer.patch.styles.postrender import POST_RENDERED, post_render_how, post_render_targets
from rightsizer.patch.styles.template import NOTE as TEMPLATE_NOTE
from rightsizer.patch.styles.template import TemplateResourcesStyle
from rightsizer.patch.styles.values import VALUES, VALUES_OVERRIDE
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError
from rightsizer.yamlsafety import safe_documents

_RESOURCES_REF = re.compile(r"\.Values\.((?:[A-Za-z0-9_]+\.)*)resources\b")


@dataclass
class TemplateContainer:
    name: str  # the template's expression
    init: bool
    values_path: tuple[str, ...] | None  # the values mapping holding `resources`; None: not from values
    literal: int | None = None  # the template writes the resources itself: the line of its `resources:`
    reader: ExposureReader | None = None  # what its env and args take from values (chartheap)


@dataclass
class TemplateWorkload:
    file: Path
    kind: str
    name: str  # the template's expression
    containers: list[TemplateContainer] = field(default_factory=list)


@dataclass
class Chart:
    dir: Path
    name: str
    helpers: str
    defaults: dict[str, Any]
    workloads: list[TemplateWorkload]


@dataclass
class Found:
    """Helm's answer for one container: where to edit, per namespace (None: the release namespace is unknown)."""

    targets: list[tuple[Target, str | None]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # matched, but cannot be edited: why


class HelmLayout:
    def __init__(self, files: RepoFiles, kustomize: KustomizeLayout):
        self.files = files
        self.kustomize = kustomize
        self.charts: dict[Path, Chart] = {}
        self.releases: list[Release] = []
        self.values_from = ValuesFrom(files, kustomize)

    def add_chart(self, chart: Path) -> None:
        values_file = chart / "values.yaml"
        try:
            defaults = self.files.data(values_file)[0] or {} if self.files.exists(values_file) else {}
        except Exception as exc:  # noqa: BLE001
            self.files.skipped[values_file] = f"not valid YAML ({first_line(exc)})"
            return
        meta = self.files.text(chart / "Chart.yaml")
        name = re.search(r"(?m)^name:\s*['\"]?([^'\"\s#]+)", meta)
        helpers = "".join(self.files.text(p) for p in self.files.under(chart / "templates", (".tpl",)))
        workloads = []
        for rel in self.files.under(chart / "templates", (".yaml", ".yml")):
            for first, doc_text in _documents(self.files.text(rel)):
                kind = re.search(r"(?m)^kind:\s*(\w+)", doc_text)
                workload_name = _template_name(doc_text)
                if kind and kind.group(1) in WORKLOAD_KINDS and workload_name is not None:
                    workloads.append(TemplateWorkload(rel, kind.group(1), workload_name,
                                                      _template_containers(doc_text, first)))
        self.charts[chart] = Chart(chart, name.group(1) if name else chart.name, helpers,
                                   defaults if isinstance(defaults, dict) else {}, workloads)

    def find(self, key: ContainerKey, init: bool, environment: str | None) -> Found:
        found = Found()
        for chart in self.charts.values():
            releases = [r for r in self.releases if Path(r.chart) == chart.dir] or [None]
            for release in releases:
                self._in_chart(chart, release, key, init, environment, found)
        local = {str(c) for c in self.charts}
        for release in self.releases:
            if release.chart not in local:
                self._published(release, key, init, found)
        return found

    # --- a chart in the repository ------------------------------------------------------------

    def _in_chart(self, chart: Chart, release: Release | None, key: ContainerKey, init: bool,
                  environment: str | None, found: Found) -> None:
        inline = self._inline_values(release)
        for values_file, style in self._values_files(chart, release, key.namespace, environment, found):
            layers = [chart.defaults]
            broken = None
            if values_file is not None and values_file.name != "values.yaml":
                try:
                    layers.append(self._values(values_file))
                except PatchError as exc:
                    broken = str(exc)
            values = merge_values(*layers, inline)
            resolver = NameResolver(chart.name, chart.helpers, values, release.name if release else None,
                                    release.namespace if release else None)
            for workload in chart.workloads:
                if workload.kind != key.kind or not _matches(resolver, workload.name, key.workload):
                    continue
                for container in workload.containers:
                    if container.init != init or not _matches(resolver, container.name, key.container):
                        continue
                    where = f"Helm chart {chart.dir} ({workload.file})"
                    if broken is not None:
                        found.reasons.append(f"{broken}: fix it, then run again")
                        continue
                    render = HelmRender(chart.dir, release.name if release else None,
                                        release.namespace if release else None,
                                        self._layers(chart, release, values_file),
                                        ((release.file, release.doc, release.values_path),)
                                        if release is not None and release.values_path is not None else ())
                    if container.values_path is None and container.literal is not None:
                        found.targets.append((self._in_template(chart, workload.file, container.literal, release,
                                                                where, render),
                                              release.namespace if release else None))
                        continue
                    if container.values_path is None:
                        found.reasons.append(f"{where}: no .Values.<key>.resources is rendered into {key.container}")
                        continue
                    heap = (container.reader.exposure if container.reader else None, values, chart.name)
                    self._add(found, chart.dir, release, values_file, style, container.values_path, where,
                              (*heap, render))
            if release is not None:
                return  # a release has one set of values files

    def _in_template(self, chart: Chart, file: Path, line: int, release: Release | None, where: str,
                     render: HelmRender) -> Target:
        """The resources block the template writes itself: edited there, for every release of the chart."""
        releases = tuple((r.namespace, r.name) for r in self.releases if Path(r.chart) == chart.dir)
        style = TemplateResourcesStyle(line, (release.namespace, release.name) if release else None, releases)
        return Target(file, 0, (), style, f"{where}, line {line + 1}: {TEMPLATE_NOTE}", helm=render)

    def _values_files(self, chart: Chart, release: Release | None, namespace: str, environment: str | None,
                      found: Found) -> list[tuple[Path | None, Any]]:
        """(values file to edit, its style) candidates; None: the release's inline values."""
        if release is not None:
            if release.values_path is not None:
                return [(None, VALUES_OVERRIDE)]
            for name in reversed(release.value_files):  # the last file listed wins
                path = repo_path(chart.dir / name)
                if self.files.exists(path):
                    return [(path, VALUES if path.name == "values.yaml" else VALUES_OVERRIDE)]
            return [(chart.dir / "values.yaml", VALUES)]
        env_files = [p for p in self.files.under(chart.dir, (".yaml", ".yml"))
                     if p.parent == chart.dir and p.name.startswith("values-")]
        for wanted in (environment, namespace):
            match = [p for p in env_files if wanted and p.stem == f"values-{wanted}"]
            if match:
                return [(match[0], VALUES_OVERRIDE)]
        if env_files:
            names = ", ".join(p.name for p in env_files)
            found.reasons.append(f"Helm chart {chart.dir} has values files per environment ({names}) and none is "
                                 f"for {namespace!r}: pass --environment NAME (values-NAME.yaml) or add a mapping "
                                 "entry naming the file")
            return []
        return [(chart.dir / "values.yaml", VALUES)]

    def _values(self, path: Path) -> dict[str, Any]:
        try:
            data = self.files.data(path)
        except Exception as exc:  # noqa: BLE001
            raise PatchError(f"{path}: not valid YAML ({first_line(exc)})") from None
        return data[0] if data and isinstance(data[0], dict) else {}

    def _inline_values(self, release: Release | None) -> dict[str, Any]:
        if release is None or release.values_path is None:
            return {}
        node: Any = self.files.data(release.file)[release.doc]
        for part in release.values_path:  # list indices too (an Application's spec.sources)
            node = node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else \
                node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    def _add(self, found: Found, chart: Path | str, release: Release | None, values_file: Path | None, style: Any,
             values_path: tuple[str, ...], where: str,
             heap: tuple[Exposure | None, dict[str, Any], str, HelmRender] | None = None) -> None:
        if values_file is not None:
            how = f"{where}: renders .Values.{'.'.join((*values_path, 'resources'))}, in {values_file.name}"
            if release is not None:
                how += f" of {release.source}"
            target = Target(values_file, 0, values_path, style, how)
            found.targets.append((self._with_heap(target, values_path, heap), release.namespace if release else None))
            return
        assert release is not None
        how = f"{where}: the values of {release.source}"
        for target in self._release_targets(release, values_path, how, found):
            found.targets.append((self._with_heap(target, values_path, heap), release.namespace))

    def _release_targets(self, release: Release, values_path: tuple[str, ...], how: str,
                         found: Found) -> list[Target]:
        """Inline values of the release; for a HelmRelease an overlay renders, the overlay's patch of them."""
        assert release.values_path is not None
        base = Target(release.file, release.doc, (*release.values_path, *values_path), VALUES_OVERRIDE, how)
        roots = self.kustomize.roots_rendering(release.file) if release.flux else []
        inline = self._inline_values(release)
        if not roots:
            from_config_map, note = self.values_from.target(release, None, [], values_path, inline, how)
            return [from_config_map or replace(base, how=how + note)]
        name = str((self.files.data(release.file)[release.doc].get("metadata") or {}).get("name"))
        rendered = ("HelmRelease", name, ("spec", "values", *values_path))
        out = []
        for root, chain in roots:
            patch = self.kustomize.patch_of(chain, "HelmRelease", name)
            patched = ((self.files.data(patch[0])[patch[1]].get("spec") or {}).get("values")
                       if patch is not None else None)
            from_config_map, note = self.values_from.target(release, root, chain, values_path,
                                                            merge_values(inline, patched), how)
            if from_config_map is not None:
                out.append(from_config_map)
            elif patch is not None:
                file, doc, kdir = patch
                out.append(Target(file, doc, ("spec", "values", *values_path), VALUES_OVERRIDE,
                                  f"{how}, patched by {kdir}{note}", kustomization=root, rendered=rendered))
            elif len(roots) == 1:
                out.append(Target(base.file, base.doc, base.path, VALUES_OVERRIDE, how + note, kustomization=root,
                                  rendered=rendered))
            else:
                found.reasons.append(f"{release.source} in {release.file} is shared by the overlays "
                                     f"{', '.join(str(r) for r, _ in roots)}: add a patch of its spec.values to "
                                     f"{root} (its environment) and run again")
        return out

    def _with_heap(self, target: Target, values_path: tuple[str, ...],
                   heap: tuple[Exposure | None, dict[str, Any], str, HelmRender] | None) -> Target:
        """The target with how its chart lets values set the heap flag and how helm renders its release (None
        for a chart not in the repository).

        An overlay's patch of a HelmRelease's values is merged over the release's own (lists replaced)."""
        if heap is None:
            return target
        root = target.path[:len(target.path) - len(values_path)]
        values, render = heap[1], heap[3]
        release_file = render.inline[0][0] if render.inline else None
        if target.rendered is not None and target.file != release_file:
            node: Any = self.files.data(target.file)[target.doc]
            for part in root:
                node = node.get(part) if isinstance(node, dict) else None
            values = merge_values(values, node)
            render = replace(render, inline=(*render.inline, (target.file, target.doc, root)))
        elif release_file is not None and target.file != release_file:  # a valuesFrom ConfigMap: under spec.values
            inline = self.files.data(release_file)[render.inline[0][1]]
            for part in render.inline[0][2]:
                inline = inline.get(part) if isinstance(inline, dict) else None
            if isinstance(target.style, EmbeddedValuesStyle):
                layer = (target.file, target.doc, ("data", target.style.key))
                text = self.files.data(target.file)[target.doc]["data"][target.style.key]
                values = merge_values(values, safe_documents(text)[0], inline)
                render = replace(render, inline=(layer, *render.inline))
            else:
                values = merge_values(values, self.files.data(target.file)[0], inline)
                render = replace(render, value_files=(*render.value_files, target.file))
        return replace(target, chart_heap=chart_heap(heap[2], root, heap[0], values), helm=render)

    def _layers(self, chart: Chart, release: Release | None, values_file: Path | None) -> tuple[Path, ...]:
        """The values files helm is given after the chart's values.yaml, in order."""
        if release is not None and release.value_files:
            paths = [repo_path(chart.dir / name) for name in release.value_files]
            return tuple(p for p in paths if (self.files.repo / p).is_file() and p != chart.dir / "values.yaml")
        return (values_file,) if values_file is not None and values_file != chart.dir / "values.yaml" else ()

    # --- a published chart ----------------------------------------------------------------------

    def _published(self, release: Release, key: ContainerKey, init: bool, found: Found) -> None:
        chart = release.chart.rsplit("/", 1)[-1]
        workload = (release.name if chart in release.name else f"{release.name}-{chart}")[:63].rstrip("-")
        if release.namespace not in (None, key.namespace) or not key.workload.startswith(workload):
            return
        main = not init and key.kind == "Deployment" and key.workload == workload and key.container == chart
        if not main and release.flux and key.kind in POST_RENDERED:
            self._post_rendered(release, chart, key, found)
            return
        if not main:
            found.reasons.append(f"{release.source} deploys the published chart {chart}, which is not in the "
                                 "repository: only its main container is located (by the helm create convention), "
                                 f"and resources the chart hard-codes in its templates for {key.container} cannot be "
                                 "edited from here; if the chart takes them from values, add a mapping entry naming "
                                 "the key; if it hard-codes them, ask the chart's maintainers to expose them as "
                                 "values, or vendor the chart into the repository")
            return
        if release.values_path is None:
            found.reasons.append(f"{release.source} deploys the published chart {chart} with no inline values to "
                                 "edit: add a mapping entry")
            return
        how = (f"the values of {release.source} (chart {chart} is not in the repository: assumes the helm create "
               "layout, top-level resources)")
        for target in self._release_targets(release, (), how, found):
            found.targets.append((target, release.namespace))

    def _post_rendered(self, release: Release, chart: str, key: ContainerKey, found: Found) -> None:
        """A container of a published chart other than its main one: a Flux post-renderer patch."""
        name = str((self.files.data(release.file)[release.doc].get("metadata") or {}).get("name"))
        how = post_render_how(chart, release.source)
        targets = self._release_targets(release, (), how, found)
        found.targets += [(t, release.namespace) for t in post_render_targets(targets, name, key, how)]


def _matches(resolver: NameResolver, expression: str, name: str) -> bool:
    pattern = resolver.pattern(expression)
    return pattern is not None and pattern.fullmatch(name) is not None


def _template_name(doc_text: str) -> str | None:
    meta = re.search(r"(?m)^metadata:\s*\n((?:[ \t]+.*\n?)*)", doc_text)
    name = re.search(r"(?m)^  name:\s*(.+?)\s*$", meta.group(1)) if meta else None
    return name.group(1).strip() if name else None


def _documents(text: str) -> list[tuple[int, str]]:
    """The documents of a template, each with the file line (0-based) its text starts on."""
    out, position = [], 0
    for separator in re.finditer(r"(?m)^---\s*$", text):
        out.append((text.count("\n", 0, position), text[position:separator.start()]))
        position = separator.end()
    out.append((text.count("\n", 0, position), text[position:]))
    return out


def _template_containers(doc_text: str, first: int = 0) -> list[TemplateContainer]:
    """Each container of a workload template, with the values mapping its resources come from (``first``: the
    file line the document starts on).

    A container is a ``- name:`` item at the indentation of the list's first item; deeper
    ``- name:`` items are env vars, ports or mounts.  Template-only lines do not end a list.
    """
    out: list[TemplateContainer] = []
    section: str | None = None
    key_indent = item_indent = -1
    lines = doc_text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("{{"):
            if section is not None and out and out[-1].init == (section == "init"):
                _note_resources(out[-1], line, lines, i, first)
            continue
        indent = len(line) - len(line.lstrip())
        heading = re.match(r"(initContainers|containers):\s*$", stripped)
        if heading:
            section, key_indent, item_indent = ("init" if heading.group(1) == "initContainers" else "main",
                                                indent, -1)
            continue
        if section is None:
            continue
        if indent <= key_indent and not stripped.startswith("- "):
            section = None
            continue
        item = re.match(r"^- name:\s*(.+?)\s*$", stripped)
        if item and item_indent in (-1, indent):
            item_indent = indent
            out.append(TemplateContainer(item.group(1), section == "init", None, reader=ExposureReader(indent)))
            continue
        if out and out[-1].init == (section == "init"):
            _note_resources(out[-1], line, lines, i, first)
    return out


def _note_resources(container: TemplateContainer, line: str, lines: list[str], i: int, first: int) -> None:
    """Record where a container's resources come from: a values mapping, or the template's own text (and
    what its env and args take from values)."""
    if container.reader is not None:
        container.reader.line(line)
    if container.values_path is not None:
        return
    ref = _RESOURCES_REF.search(line)
    if ref:
        container.values_path = tuple(p for p in ref.group(1).split(".") if p)
    elif line.strip() == "resources:" and i + 1 < len(lines) and "{{" not in lines[i + 1]:
        container.literal = first + i
