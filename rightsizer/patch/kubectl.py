"""Strategic-merge patch files for ``kubectl patch``, for teams that do not keep manifests in Git."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from rightsizer import kube
from rightsizer.errors import RightsizerError
from rightsizer.fileio import write_text_atomic
from rightsizer.history import WorkloadKey
from rightsizer.patch.manifests import heap_placement
from rightsizer.patch.plan import PlannedChange
from rightsizer.patch.styles import dump_yaml, intend_container


def write_kubectl_patches(changes: list[PlannedChange], directory: Path) -> list[Path]:
    """One file per workload; apply with ``kubectl patch KIND NAME -n NS --patch-file FILE``.

    A removed limit is written as ``null``, which is how a strategic merge deletes a field.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise RightsizerError(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    by_workload: dict[WorkloadKey, list[PlannedChange]] = defaultdict(list)
    for pc in changes:
        by_workload[pc.key.workload_key].append(pc)
    written = []
    for key, pcs in sorted(by_workload.items()):
        spec: dict[str, list[dict[str, Any]]] = {}
        notes: list[str] = []
        for pc in pcs:
            item: dict[str, Any] = {"name": pc.key.container}
            notes += _place_heap(pc)
            intend_container(item, pc.change, null=True)
            spec.setdefault("initContainers" if pc.init else "containers", []).append(item)
        template: dict[str, Any] = {"template": {"spec": spec}}
        body = kube.wrap_template(key.kind, template)
        name = re.sub(r"[^a-z0-9.-]+", "-", f"{key.namespace}-{key.kind}-{key.name}".lower())
        path = directory / f"{name}.yaml"
        header = (f"# kubectl patch {key.kind.lower()} {key.name} -n {key.namespace} --type strategic "
                  f"--patch-file {path.name}\n") + "".join(f"# {note}\n" for note in notes)
        write_text_atomic(path, header + dump_yaml(body))
        written.append(path)
    return written


def _place_heap(pc: PlannedChange) -> list[str]:
    """The heap flag of a container whose manifest is not at hand, and what the reader must know about it.

    A strategic merge replaces the whole NODE_OPTIONS value, so the one written is the
    recommendation's (a reviewed report's, other flags and all).  Where the report says the
    flag is on node's command line, a NODE_OPTIONS flag would be overridden: nothing is
    written, and the header says what to change.
    """
    if pc.change.heap_mib is None:
        return []
    flag = f"--max-old-space-size={pc.change.heap_mib}"
    if pc.flag_in in ("command", "args"):
        pc.change.placement = None
        return [f"{pc.key.container}: set {flag} in its {pc.flag_in} by hand (a flag there overrides NODE_OPTIONS)"]
    pc.change.placement = heap_placement(pc.change, None)
    note = f"{pc.key.container}: NODE_OPTIONS replaces the container's whole value; add any flags it sets that are not here"
    return [note]
