"""The Helm edits checked the way Helm applies them: ``helm template`` on a copy of the edited tree.

Values are checked as data when edited (``verify.py``); a chart can still render them
somewhere else, or a later values layer can override them.  Where ``helm`` is on PATH,
each release whose values were edited is rendered before and after the edit, with the
release name, namespace and values layers the repository gives it, and the container must
carry the recommended resources (and its heap flag where it was written).  A chart that
does not render even before the edit (missing dependencies, a values file from elsewhere)
is noted, not failed: rightsizer did not break it.  Without helm, the output says the
render was not checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rightsizer import kube
from rightsizer.fileio import scratch_directory
from rightsizer.patch.repotree import copy_into
from rightsizer.patch.verify import check_rendered_resources
from rightsizer.patch.yamltext import PatchError
from rightsizer.yamlsafety import safe_documents

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator
    from rightsizer.patch.plan import PlannedChange
    from rightsizer.patch.target import Target

#: (file, document, key path) of a release's inline values
Inline = tuple[Path, int, tuple[str | int, ...]]


@dataclass(frozen=True)
class HelmRender:
    """How a release of a chart in the repository is rendered: what ``helm template`` is given."""

    chart: Path  # the chart directory, relative to the repository
    release: str | None  # None: no release in the repository (the workload's name is used)
    namespace: str | None
    value_files: tuple[Path, ...] = ()  # -f, in order, after the chart's values.yaml
    inline: tuple[Inline, ...] = ()  # inline values, in order (a HelmRelease's, then an overlay's patch of them)


def check_helm(locator: Locator, files: dict[Path, tuple[str | None, str]],
               edited: list[tuple[Target, PlannedChange]], notes: list[str]) -> None:
    """Render each edited release with helm (when on PATH) and check its containers; notes say what was not."""
    renders: dict[tuple[HelmRender, str], list[tuple[Target, PlannedChange]]] = {}
    for target, pc in edited:
        if target.file not in files:
            continue
        if target.helm is None:
            notes.append(f"Helm render not checked for {pc.key}: its chart is not in the repository")
            continue
        renders.setdefault((target.helm, target.helm.release or pc.key.workload), []).append((target, pc))
    if not renders:
        return
    helm = shutil.which("helm")
    if helm is None:
        edited_files = ", ".join(sorted({str(t.file) for items in renders.values() for t, _ in items}))
        notes.append(f"Helm render not checked: helm not on PATH (the values edited in {edited_files} were "
                     "checked as data)")
        return
    for (render, release), items in renders.items():
        before = _render(helm, locator, {}, render, release)
        if isinstance(before, str):
            notes.append(f"Helm render not checked for {render.chart} (release {release}): it does not render "
                         f"before the edit either ({before})")
            continue
        after = _render(helm, locator, files, render, release)
        if isinstance(after, str):
            raise PatchError(f"helm template {render.chart} (release {release}) fails after the edit: {after}; "
                             "nothing was written")
        for target, pc in items:
            _check(after, render, release, target, pc)


def _render(helm: str, locator: Locator, files: dict[Path, tuple[str | None, str]], render: HelmRender,
            release: str) -> list[Any] | str:
    """The rendered documents, or why helm failed.

    Helm reads a copy holding only the chart and the values files, made from what the checkout may
    give (regular files inside it, within the size limit), and removed however the render ends.
    """
    with scratch_directory("rightsizer-helm-") as tmp:
        root = tmp / "repo"
        wanted = {render.chart, *render.value_files, *(file for file, _, _ in render.inline)}
        copy_into(locator.files.repo, locator.files.listing, wanted, root)
        for path, (_, new) in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(new, encoding="utf-8", newline="")
        args = [helm, "template", release, str(root / render.chart)]
        if render.namespace:
            args += ["--namespace", render.namespace]
        for values_file in render.value_files:
            args += ["-f", str(root / values_file)]
        for i, (file, doc, path) in enumerate(render.inline):
            node: Any = safe_documents((root / file).read_text(), str(file))[doc]
            for part in path:
                node = node[part] if isinstance(node, list) and isinstance(part, int) else \
                    (node.get(part) if isinstance(node, dict) else None)
            if isinstance(node, str):  # values embedded in a ConfigMap
                node = (safe_documents(node, f"{file}: {'.'.join(map(str, path))}") or [None])[0]
            if isinstance(node, dict):
                inline = tmp / f"inline-{i}.yaml"
                inline.write_text(_dump(node))
                args += ["-f", str(inline)]
        try:
            run = subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if run.returncode != 0:
            return (run.stderr.strip().splitlines() or ["exit status " + str(run.returncode)])[0][:300]
        try:
            return [d for d in safe_documents(run.stdout, "the output of helm template") if isinstance(d, dict)]
        except Exception as exc:  # noqa: BLE001
            return f"its output does not parse ({str(exc).splitlines()[0][:200]})"


def _dump(values: dict[str, Any]) -> str:
    return json.dumps(values)  # JSON is YAML: no style to keep in a file helm reads once


def _check(rendered: list[Any], render: HelmRender, release: str, target: Target, pc: PlannedChange) -> None:
    key = pc.key
    where = f"helm template {render.chart} (release {release})"
    obj = next((d for d in rendered if d.get("kind") == key.kind and (d.get("metadata") or {}).get("name")
                == key.workload), None)
    items = ((kube.pod_spec(obj) or {}).get("initContainers" if pc.init else "containers") or []) if obj else []
    container = next((c for c in items if isinstance(c, dict) and c.get("name") == key.container), None)
    if container is None:
        raise PatchError(f"{where} does not render {key}; nothing was written")
    check_rendered_resources(container.get("resources") or {}, pc, where, "another values layer or the template")
    placement = pc.change.placement
    if placement is None:
        return
    for field_name, words in (("command", placement.command), ("args", placement.args)):
        if words is not None and [str(w) for w in container.get(field_name) or []] != list(words):
            raise PatchError(f"{where} renders {key} {field_name} without the new heap flag; nothing was written")
    if placement.node_options is not None:
        env = [e for e in container.get("env") or [] if isinstance(e, dict) and e.get("name") == "NODE_OPTIONS"]
        if not env or env[-1].get("value") != placement.node_options:
            raise PatchError(f"{where} renders {key} NODE_OPTIONS = {env[-1].get('value') if env else None!r}, not "
                             f"{placement.node_options!r}; nothing was written")
