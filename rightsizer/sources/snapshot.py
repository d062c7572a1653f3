"""A ClusterHistory in one Parquet file, for offline runs, notebooks and the bundled demo.

Samples are one table (container, pod, step and the usage columns as float32, so it
compresses well and loads straight into numpy); everything else (keys, pods, requests,
limits, events, HPAs, nodes, the scrape interval) is a JSON document in the file's
key-value metadata under
``rightsizer.snapshot``, with a schema version so an old rightsizer refuses a newer
file instead of misreading it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rightsizer.errors import SnapshotError
from rightsizer.fileio import atomic_path
from rightsizer.history import (
    SERIES,
    ClusterHistory,
    ContainerEvent,
    ContainerHistory,
    ContainerKey,
    Hpa,
    Node,
    Resources,
    Samples,
    Workload,
    WorkloadKey,
)
from rightsizer.sources import plausible

SCHEMA_VERSION = 1
#: usage columns a snapshot of schema 1 may lack, having been written before they existed (read as NaN)
_ADDED_LATER = ("cpu_scrape",)
_META_KEY = b"rightsizer.snapshot"


def save_snapshot(history: ClusterHistory, path: str | Path) -> None:
    """Write ``history`` to ``path`` atomically (the old file stays until the new one is complete)."""
    keys = sorted(history.containers)
    cols: dict[str, list[np.ndarray]] = {name: [] for name in ("container", "pod", "step", *SERIES)}
    containers_meta = []
    for i, key in enumerate(keys):
        ch = history.containers[key]
        n = len(ch.samples)
        cols["container"].append(np.full(n, i, dtype=np.int32))
        cols["pod"].append(ch.samples.pod.astype(np.int32))
        cols["step"].append(ch.samples.step.astype(np.int32))
        for name in SERIES:
            cols[name].append(ch.samples[name].astype(np.float32))
        containers_meta.append({
            "key": _key_dict(key),
            "pods": ch.pods,
            "requests": {"cpu": ch.requests.cpu, "memory": ch.requests.memory},
            "limits": {"cpu": ch.limits.cpu, "memory": ch.limits.memory},
            "image": ch.image,
            "events": [[e.time, e.pod, e.reason] for e in ch.events],
            "nodejs_version": ch.nodejs_version,
            "init": ch.init,
        })
    meta = {
        "schema_version": SCHEMA_VERSION,
        "created": time.time(),
        "start": history.start,
        "step": history.step,
        "n_steps": history.n_steps,
        "source": history.source,
        "containers": containers_meta,
        "workloads": [{"key": _wkey_dict(w.key), "hpa": None if w.hpa is None else {
            "name": w.hpa.name, "min_replicas": w.hpa.min_replicas, "max_replicas": w.hpa.max_replicas,
            "utilization_targets": dict(w.hpa.utilization_targets)}} for w in history.workloads.values()],
        "nodes": [[n.name, n.instance_type, n.capacity_type] for n in history.nodes.values()],
        "pod_nodes": [[ns, pod, node] for (ns, pod), node in sorted(history.pod_nodes.items())],
        "missing": history.missing,
        "scrape_interval": history.scrape_interval,
    }
    arrays = {name: (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32 if name in SERIES
                                                                 else np.int32))
              for name, parts in cols.items()}
    table = pa.table(arrays).replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def load_snapshot(path: str | Path) -> ClusterHistory:
    """Read a snapshot written by :func:`save_snapshot`, with a clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"snapshot {path} does not exist (record one with: rightsizer snapshot -o {path.name})")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"{path} is not a readable Parquet file ({_first_line(exc)}): corrupt or not a "
                            "snapshot; record a new one with: rightsizer snapshot") from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise SnapshotError(f"{path} is a Parquet file but not a rightsizer snapshot (no {_META_KEY.decode()} "
                            "metadata)")
    try:
        meta = json.loads(raw)
        version = int(meta["schema_version"])
    except (ValueError, KeyError, TypeError):
        raise SnapshotError(f"{path}: the snapshot metadata is corrupt") from None
    if version > SCHEMA_VERSION:
        raise SnapshotError(f"{path} has snapshot schema {version}, newer than this rightsizer reads "
                            f"({SCHEMA_VERSION}): upgrade rightsizer")
    missing_cols = [c for c in ("container", "pod", "step", *SERIES)
                    if c not in table.column_names and c not in _ADDED_LATER]
    if missing_cols:
        raise SnapshotError(f"{path}: the snapshot lacks the columns {', '.join(missing_cols)}")
    try:
        _check_grid(meta)
        return _from_table(table, meta)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotError(f"{path}: the snapshot is inconsistent ({exc.__class__.__name__}: {exc})") from None


#: the most steps a snapshot's grid may have (10 years at one minute): a larger n_steps is corrupt, not a
#: cluster, and would allocate arrays of its size
MAX_STEPS = 10 * 365 * 24 * 60


def _check_grid(meta: dict[str, Any]) -> None:
    """Refuse a time grid no recording makes (a hand-edited or corrupt file) before anything is sized by it."""
    start, step, n_steps = float(meta["start"]), float(meta["step"]), meta["n_steps"]
    if not math.isfinite(start) or not math.isfinite(step) or step < 1:
        raise ValueError(f"start {start:g} and step {step:g} must be finite, the step 1 s or more")
    if not isinstance(n_steps, int) or not 0 < n_steps <= MAX_STEPS:
        raise ValueError(f"n_steps {n_steps!r} must be a whole number from 1 to {MAX_STEPS:,}")
    interval = meta.get("scrape_interval")
    if interval is not None and not (isinstance(interval, int | float) and 1 <= interval <= 3600):
        raise ValueError(f"scrape_interval {interval!r} must be 1 to 3600 seconds")
    for cm in meta["containers"]:
        for section in ("requests", "limits"):
            for name, value in (cm.get(section) or {}).items():
                if value is not None and not (isinstance(value, int | float) and 0 <= value < 1e15):
                    raise ValueError(f"{section}.{name} {value!r} of {cm['key']} is not a quantity")


def _from_table(table: pa.Table, meta: dict[str, Any]) -> ClusterHistory:
    container = table.column("container").to_numpy()
    order = np.argsort(container, kind="stable")
    container = container[order]
    columns = {name: table.column(name).to_numpy()[order] for name in ("pod", "step", *SERIES)
               if name in table.column_names}
    bounds = np.searchsorted(container, np.arange(len(meta["containers"]) + 1))
    n_steps = int(meta["n_steps"])
    containers: dict[ContainerKey, ContainerHistory] = {}
    for i, cm in enumerate(meta["containers"]):
        sl = slice(bounds[i], bounds[i + 1])
        pods = list(cm["pods"])
        pod_col, step_col = columns["pod"][sl], columns["step"][sl]
        if len(pod_col) and (pod_col.max() >= len(pods) or step_col.min() < 0 or step_col.max() >= n_steps):
            raise ValueError(f"container {i} has samples outside its pods or the time grid")
        key = ContainerKey(**cm["key"])
        containers[key] = ContainerHistory(
            key=key,
            pods=pods,
            samples=Samples.from_rows(pod_col, step_col, {name: columns[name][sl] for name in SERIES
                                                          if name in columns}),
            requests=Resources(**cm["requests"]),
            limits=Resources(**cm["limits"]),
            image=cm.get("image"),
            events=[ContainerEvent(float(t), str(p), str(r)) for t, p, r in cm.get("events", [])],
            nodejs_version=cm.get("nodejs_version"),
            init=bool(cm.get("init", False)),
        )
    set_aside = plausible.SetAside()
    workloads = {}
    for wm in meta.get("workloads", []):
        key = WorkloadKey(**wm["key"])
        hpa = wm.get("hpa")
        workloads[key] = Workload(key, None if hpa is None else _hpa(hpa, str(key), set_aside))
    return ClusterHistory(
        start=float(meta["start"]),
        step=float(meta["step"]),
        n_steps=n_steps,
        containers=containers,
        workloads=workloads,
        nodes={n[0]: Node(n[0], n[1], n[2]) for n in meta.get("nodes", [])},
        pod_nodes={(ns, pod): node for ns, pod, node in meta.get("pod_nodes", [])},
        source=str(meta.get("source", "")),
        missing={**dict(meta.get("missing", {})), **set_aside.missing()},
        scrape_interval=None if meta.get("scrape_interval") is None else float(meta["scrape_interval"]),
    )


def _hpa(hpa: dict[str, Any], where: str, set_aside: plausible.SetAside) -> Hpa:
    """An HPA of the metadata, its impossible bounds and targets set aside (a hand-edited or foreign file)."""
    bounds = {}
    for bound in ("min", "max"):
        value = hpa[f"{bound}_replicas"]
        ok = value is None or (isinstance(value, int | float) and plausible.replicas(value))
        bounds[bound] = int(value) if ok and value is not None else None
        set_aside.keep(f"kube_horizontalpodautoscaler_spec_{bound}_replicas", ok, where, value)
    targets = {str(name): float(value) for name, value in dict(hpa.get("utilization_targets") or {}).items()
               if set_aside.keep("kube_horizontalpodautoscaler_spec_target_metric",
                                 isinstance(value, int | float) and plausible.utilization(value), where, value)}
    return Hpa(str(hpa["name"]), bounds["min"], bounds["max"], targets)


def _key_dict(key: ContainerKey) -> dict[str, str]:
    return {"namespace": key.namespace, "kind": key.kind, "workload": key.workload, "container": key.container,
            "cluster": key.cluster}


def _wkey_dict(key: WorkloadKey) -> dict[str, str]:
    return {"namespace": key.namespace, "kind": key.kind, "name": key.name, "cluster": key.cluster}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
