"""Checks an edit must pass before anything is written.

Two checks: every edited file parses and equals the original with exactly the intended
values changed (compared as data, so nothing else moved); and where a kustomization
renders the workload, ``kubectl kustomize`` renders the edited tree and the container's
effective resources must be the recommended ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rightsizer import kube
from rightsizer.errors import QuantityError
from rightsizer.fileio import scratch_directory
from rightsizer.patch.plan import PlannedChange
from rightsizer.patch.repotree import copy_into
from rightsizer.patch.styles import InPlaceStyle
from rightsizer.patch.styles.postrender import rendered_container
from rightsizer.patch.target import Target
from rightsizer.patch.yamltext import PatchError
from rightsizer.quantity import parse_quantity
from rightsizer.yamlsafety import safe_documents

if TYPE_CHECKING:
    from rightsizer.patch.locate import Locator

#: seconds kubectl may take to render with remote resources (``--allow-remote-resources``), and without
REMOTE_TIMEOUT = 30.0
LOCAL_TIMEOUT = 120.0
#: a proxy that refuses every connection: kubectl reaches nothing when remote resources are not allowed
_NOWHERE = "http://127.0.0.1:9"

#: an anchor or alias token in YAML text (a rough test, to explain a refusal)
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])[&*][A-Za-z0-9_.-]+|<<\s*:")

#: (document index, resource, new target utilization, the change asking for it)
HpaEdit = tuple[int, str, int, PlannedChange]


def _normal(value: Any, under_resources: bool = False) -> Any:
    """Data for comparison: quantities as exact numbers, empty mappings as absent (None stays: a delete)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            n = _normal(v, under_resources or k in ("requests", "limits"))
            if n != {}:
                out[k] = n
        return out
    if isinstance(value, list):
        return [_normal(v, under_resources) for v in value]
    if under_resources and isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_quantity(value)
        except QuantityError:
            return value
    return value


def _intend_hpa(hpa: dict[str, Any], resource: str, value: int) -> None:
    spec = hpa["spec"]
    if "targetCPUUtilizationPercentage" in spec and resource == "cpu":
        spec["targetCPUUtilizationPercentage"] = value
    for metric in spec.get("metrics") or []:
        res = metric.get("resource") or {}
        if res.get("name") == resource and "averageUtilization" in (res.get("target") or {}):
            res["target"]["averageUtilization"] = value


def verify_file(old: str, new: str, where: str, targets: list[tuple[Target, PlannedChange]],
                hpas: list[HpaEdit]) -> None:
    """The edited text parses and is, as data, the original plus what each style intends."""
    try:
        after = safe_documents(new, where)
    except Exception as exc:  # noqa: BLE001
        raise PatchError(f"{where}: the edited file does not parse ({exc}); nothing was written") from None
    expected = _unshared(safe_documents(old, where))
    for target, pc in targets:
        assert isinstance(target.style, InPlaceStyle)
        target.style.intend(expected, target, pc)
    for doc_index, resource, value, _ in hpas:
        _intend_hpa(expected[doc_index], resource, value)
    if _normal(after) != _normal(expected):
        if _ALIAS.search(old):
            raise PatchError(f"{where}: the values to edit are shared through a YAML anchor (&name, *name or <<:), "
                             "so the edit would change other places too; nothing was written to it: edit it by hand")
        raise PatchError(f"{where}: the edit would change more than the intended values; nothing was written "
                         "(please report this file's layout)")


def _unshared(value: Any) -> Any:
    """A copy in which no object appears twice: an alias or a merge key makes one loaded object appear in several
    places, and what an edit intends for one place must not be intended for the others."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


def check_kustomize(locator: Locator, files: dict[Path, tuple[str | None, str]],
                    by_file: dict[Path, list[tuple[Target, PlannedChange]]], remote_timeout: float | None) -> None:
    """Render every overlay an edit goes through, on a copy of what it reads with the edits made, and check it.

    The copy holds only the kustomization directories and files the overlays read (regular
    files inside the repository, within the size limit), and is removed however the check
    ends.  Remote resources are fetched only with ``remote_timeout`` (``--allow-remote-resources``);
    otherwise kubectl runs with no way out (proxies to a closed port, git limited to local files).
    """
    roots: dict[Path, list[tuple[Target, PlannedChange]]] = {}
    for targets in by_file.values():
        for t, pc in targets:
            if t.kustomization:
                roots.setdefault(t.kustomization, []).append((t, pc))
    if not roots or not files:
        return
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise PatchError("kubectl not found: it renders the kustomizations to check the edit (install kubectl)")
    wanted = {path for root in roots for path in locator.kustomize.needed(root)}
    with scratch_directory("rightsizer-kustomize-") as tmp:
        copy_root = tmp / "repo"
        copy_into(locator.files.repo, locator.files.listing, wanted, copy_root)
        for path, (_, new) in files.items():
            (copy_root / path).parent.mkdir(parents=True, exist_ok=True)
            (copy_root / path).write_text(new, encoding="utf-8", newline="")
        for root, pcs in roots.items():
            rendered = _render(kubectl, copy_root, root, remote_timeout)
            for target, pc in pcs:
                _check_rendered(rendered, root, target, pc)


def _render(kubectl: str, copy_root: Path, root: Path, remote_timeout: float | None) -> list[Any]:
    env = dict(os.environ)
    if remote_timeout is None:
        env.update({name: _NOWHERE for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")})
        env.update(NO_PROXY="", no_proxy="", GIT_ALLOW_PROTOCOL="file")
    timeout = remote_timeout if remote_timeout is not None else LOCAL_TIMEOUT
    try:
        run = subprocess.run([kubectl, "kustomize", str(copy_root / root)], capture_output=True, text=True,
                             check=False, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise PatchError(f"kubectl kustomize {root} did not finish within {timeout:g} s"
                         f"{' (a remote resource that does not answer?)' if remote_timeout is not None else ''}; "
                         "nothing was written") from None
    if run.returncode != 0:
        raise PatchError(f"kubectl kustomize {root} fails after the edit: {run.stderr.strip()[:300]}; "
                         "nothing was written")
    return safe_documents(run.stdout, f"the output of kubectl kustomize {root}")


def _check_rendered(rendered: list[Any], root: Path, target: Target, pc: PlannedChange) -> None:
    """The container (or, for a release's values, the values mapping) as rendered carries the new values."""
    key = pc.key
    kind, name = (target.rendered[0], target.rendered[1]) if target.rendered else (key.kind, key.workload)
    obj = next((d for d in rendered if isinstance(d, dict) and d.get("kind") == kind
                and (d.get("metadata") or {}).get("name") == name), None)
    if target.rendered is not None:
        holder: Any = obj
        for part in target.rendered[2]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, list):  # a HelmRelease's postRenderers: the container as its patch sets it
            holder = rendered_container(holder, key.kind, key.workload, key.container, pc.init)
    else:
        items = (kube.pod_spec(obj) or {}).get("initContainers" if pc.init else "containers") or []
        holder = next((c for c in items if c.get("name") == key.container), None)
    if not isinstance(holder, dict):
        raise PatchError(f"kubectl kustomize {root} does not render {key}; nothing was written")
    check_rendered_resources(holder.get("resources") or {}, pc, f"kubectl kustomize {root}", "another patch")


def check_rendered_resources(resources: dict[str, Any], pc: PlannedChange, renderer: str, overrider: str) -> None:
    """The rendered ``resources`` of ``pc``'s container must carry exactly the recommended values: an edit that
    a later layer (``overrider``) overrides would be a pull request that changes nothing."""
    for section, values in (("requests", pc.change.requests), ("limits", pc.change.limits)):
        for name, value in values.items():
            got = (resources.get(section) or {}).get(name)
            if (value is None) != (got is None) or (value is not None and parse_quantity(got) != parse_quantity(value)):
                raise PatchError(f"{renderer} renders {pc.key} {section}.{name} = {got!r}, not {value!r}: "
                                 f"{overrider} overrides it; nothing was written")
