"""What deploys the repository's directories and charts: Argo CD Applications and Flux objects.

Real repositories rarely set ``metadata.namespace``: the namespace comes from whatever
applies the manifests.  Each of these says which path it applies, under which namespace,
and for a chart, with which release name and values:

* an Argo CD ``Application`` (``spec.source`` or ``spec.sources``: ``path``, ``helm.releaseName``,
  ``helm.valueFiles``, ``helm.valuesObject``; ``spec.destination.namespace`` for resources
  that name none), and an ``ApplicationSet`` (expanded in ``appsets.py``);
* a Flux ``Kustomization`` (``spec.path``, ``spec.targetNamespace``, which overrides every
  namespace below it);
* a Flux ``HelmRelease`` (``spec.chart.spec.chart``, ``spec.releaseName``,
  ``spec.targetNamespace``, ``spec.values``, ``spec.valuesFrom``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from rightsizer.patch.locate.appsets import expand

#: kinds read here, by API group
DEPLOYER_KINDS = {("argoproj.io", "Application"), ("argoproj.io", "ApplicationSet"),
                  ("kustomize.toolkit.fluxcd.io", "Kustomization"), ("helm.toolkit.fluxcd.io", "HelmRelease")}


@dataclass(frozen=True)
class PathNamespace:
    """A directory applied under a namespace; ``override`` (Flux targetNamespace) wins over the manifests'."""

    path: Path
    namespace: str
    override: bool
    source: str  # for messages: "Argo CD Application shop" ...


@dataclass
class Release:
    """A Helm release of a chart: by path in the repository, or by name when the chart is elsewhere."""

    chart: str  # a repository path (normalised) or a chart name
    name: str
    namespace: str | None
    source: str
    file: Path  # the Application or HelmRelease file
    doc: int
    values_path: tuple[str | int, ...] | None  # the key path of inline values in that document, if any
    value_files: list[str] = field(default_factory=list)  # relative to the chart (Argo CD valueFiles)
    flux: bool = False  # a HelmRelease: its values may be patched per environment by an overlay
    #: a HelmRelease's valuesFrom, in order: (kind, name, valuesKey, targetPath or None)
    values_from: list[tuple[str, str, str, str | None]] = field(default_factory=list)


def group(api_version: Any) -> str:
    return str(api_version or "").split("/")[0] if "/" in str(api_version or "") else ""


def is_deployer(doc: Any) -> bool:
    return isinstance(doc, dict) and (group(doc.get("apiVersion")), doc.get("kind")) in DEPLOYER_KINDS


def repo_path(value: Any) -> Path | None:
    """A path as Argo CD or Flux give it (``./apps/prod``, ``apps/prod/``), relative to the repository root."""
    if not isinstance(value, str) or not value.strip() or "://" in value:
        return None
    parts = [p for p in PurePosixPath(value.strip()).parts if p not in (".", "/")]
    return Path(*parts) if parts and ".." not in parts else Path(".")


def read_deployer(doc: dict[str, Any], file: Path, index: int, repo: Path | None = None
                  ) -> tuple[list[PathNamespace], list[Release], list[tuple[str, str]]]:
    """The namespaced paths and Helm releases one deployer document declares, and (path pattern, why) for
    what an ApplicationSet deploys that cannot be known from the repository (``appsets.py``)."""
    kind = doc.get("kind")
    meta = doc.get("metadata") or {}
    name = str(meta.get("name") or "")
    spec = doc.get("spec") or {}
    if not isinstance(spec, dict):
        return [], [], []
    if kind == "ApplicationSet":
        paths: list[PathNamespace] = []
        releases: list[Release] = []
        apps, unresolved = expand(doc, repo)
        for app in apps:
            p, r = _application(app, file, index, inline_values=False)
            paths += p
            releases += r
        return paths, releases, unresolved
    if kind == "Application":
        return (*_application(doc, file, index, inline_values=True), [])
    if kind == "Kustomization":
        path = repo_path(spec.get("path"))
        target = spec.get("targetNamespace")
        if path is not None and isinstance(target, str) and target:
            return [PathNamespace(path, target, True, f"Flux Kustomization {name}")], [], []
        return [], [], []
    # HelmRelease
    chart_spec = ((spec.get("chart") or {}).get("spec") or {}) if isinstance(spec.get("chart"), dict) else {}
    chart = chart_spec.get("chart")
    if not isinstance(chart, str) or not chart:
        ref = spec.get("chartRef") or {}
        chart = str(ref.get("name") or "") if isinstance(ref, dict) else ""
    if not chart:
        return [], [], []
    target_ns = spec.get("targetNamespace")
    namespace = target_ns if isinstance(target_ns, str) and target_ns else meta.get("namespace")
    release = spec.get("releaseName") or (f"{target_ns}-{name}" if isinstance(target_ns, str) and target_ns
                                          else name)
    local = repo_path(chart) if chart.startswith((".", "/")) or "/" in chart else None
    values_from = [(str(v.get("kind")), str(v.get("name")), str(v.get("valuesKey") or "values.yaml"),
                    str(v["targetPath"]) if v.get("targetPath") else None)
                   for v in spec.get("valuesFrom") or [] if isinstance(v, dict) and v.get("name")]
    return [], [Release(str(local) if local is not None else chart, str(release), namespace,
                        f"Flux HelmRelease {name}", file, index, ("spec", "values"), flux=True,
                        values_from=values_from)], []


def _application(doc: dict[str, Any], file: Path, index: int, inline_values: bool
                 ) -> tuple[list[PathNamespace], list[Release]]:
    name = str((doc.get("metadata") or {}).get("name") or "")
    spec = doc.get("spec") or {}
    namespace = (spec.get("destination") or {}).get("namespace") if isinstance(spec.get("destination"), dict) \
        else None
    sources: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(spec.get("source"), dict):
        sources.append((("spec", "source"), spec["source"]))
    for i, source in enumerate(spec.get("sources") or []):
        if isinstance(source, dict):
            sources.append((("spec", "sources", i), source))
    paths: list[PathNamespace] = []
    releases: list[Release] = []
    for prefix, source in sources:
        path = repo_path(source.get("path"))
        chart = source.get("chart")
        helm = source.get("helm") if isinstance(source.get("helm"), dict) else None
        if path is not None and isinstance(namespace, str) and namespace:
            paths.append(PathNamespace(path, namespace, False, f"Argo CD Application {name}"))
        if helm is None and not chart and path is None:
            continue
        helm = helm or {}
        values_path = (*prefix, "helm", "valuesObject") if inline_values and isinstance(helm.get("valuesObject"),
                                                                                        dict) else None
        value_files = [str(v) for v in helm.get("valueFiles") or [] if isinstance(v, str)]
        releases.append(Release(str(path) if path is not None else str(chart), str(helm.get("releaseName") or name),
                                namespace if isinstance(namespace, str) else None, f"Argo CD Application {name}",
                                file, index, values_path, value_files))
    return paths, releases
