"""Assembly: one ContainerHistory per workload container of a batch, from its range answers (pure: no I/O).

A batch holds tens of thousands of short series (a CronJob's pods live minutes): every
point of every series is placed at once, by the row key ``pod * n_steps + step``, rather
than series by series.

No usage query of ours yields NaN (the throttling ratio leaves out its 0/0 steps), so a NaN
in a usage answer is a broken exporter or store: it is placed as an infinity, which the
engine's sanity check sets aside and counts, rather than vanishing as a step without a
sample.  Restart counters are checked here (:mod:`rightsizer.sources.plausible`).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from rightsizer.history import (
    SERIES,
    ClusterHistory,
    ContainerEvent,
    ContainerHistory,
    ContainerKey,
    Resources,
    Samples,
    Workload,
)
from rightsizer.sources import plausible
from rightsizer.sources.matrix import Matrix, Series
from rightsizer.sources.prometheus.discovery import ContainerId, Discovery
from rightsizer.sources.prometheus.options import Grid


def assemble(d: Discovery, usage: dict[str, list[Matrix]], grid: Grid, cluster: str, source: str,
             restarts_from: int, scrape_interval: float | None = None) -> ClusterHistory:
    """The part of the history one batch's answers hold (``restarts_from``: the first step the restart
    counter was read at; ``scrape_interval``: the resolution of ``cpu_scrape``)."""
    ids = {name: [(answer, [container_id(labels, d) for labels in answer.labels]) for answer in usage.get(name, [])]
           for name in SERIES}
    # the pods: those cAdvisor saw (CPU or memory), in (workload container, pod) order
    seen = {cid for name in ("cpu", "cpu_scrape", "memory") for _, cids in ids[name] for cid in cids
            if cid is not None and cid[:2] in d.owners}
    # sorted as ContainerKey orders, by plain tuples: comparing dataclasses costs a Python call each
    keyed = sorted((_order(cid, d, cluster), cid[1], cid) for cid in seen)
    gid = {cid: i for i, (_, _, cid) in enumerate(keyed)}
    n = grid.n_steps

    def pods(cids: list[ContainerId | None]) -> np.ndarray:
        """Each series' pod in the batch, -1 for none."""
        return np.array([-1 if cid is None else gid.get(cid, -1) for cid in cids], dtype=np.int64)

    points = {name: _place([(answer, pods(cids)) for answer, cids in answers], grid.start, grid.step, n,
                           impossible_nan=True)
              for name, answers in ids.items()}
    every = _union([k for k, _ in points.values()])
    columns = {}
    for name, (keys, values) in points.items():
        column = np.full(len(every), np.nan, dtype=np.float32)
        column[np.searchsorted(every, keys)] = values
        columns[name] = column
    pod_of = (every // n).astype(np.int64)
    step_of = (every % n).astype(np.int32)
    set_aside = plausible.SetAside()
    events = _events([r for answer in usage.get("restarts", []) for r in answer.series()],
                     [r for answer in usage.get("reasons", []) for r in answer.series()], d, grid, restarts_from,
                     set_aside)
    containers: dict[ContainerKey, ContainerHistory] = {}
    bounds = np.searchsorted(pod_of, np.arange(len(keyed) + 1))
    first = 0
    while first < len(keyed):
        fields = keyed[first][0]
        last = first
        while last + 1 < len(keyed) and keyed[last + 1][0] == fields:
            last += 1
        lo, hi = bounds[first], bounds[last + 1]
        cids = [cid for _, _, cid in keyed[first : last + 1]]
        key = ContainerKey(*fields)
        ends = [int(step_of[bounds[i + 1] - 1]) if bounds[i + 1] > bounds[i] else -1
                for i in range(first, last + 1)]
        latest = cids[ends.index(max(ends))]  # the pod seen last: its settings are the current ones
        samples = Samples((pod_of[lo:hi] - first).astype(np.int32), step_of[lo:hi],
                          {name: column[lo:hi] for name, column in columns.items()})
        containers[key] = _container(key, cids, latest, samples, events, d)
        first = last + 1
    workloads = {k.workload_key: Workload(k.workload_key, d.hpas.get(k.workload_key)) for k in containers}
    pod_nodes = {(k.namespace, pod): d.pod_nodes[(k.namespace, pod)] for k, ch in containers.items()
                 for pod in ch.pods if (k.namespace, pod) in d.pod_nodes}
    return ClusterHistory(grid.start, grid.step, grid.n_steps, containers, workloads, d.nodes, pod_nodes,
                          source=source, missing={**d.set_aside.missing(), **set_aside.missing()},
                          scrape_interval=scrape_interval)


def _order(cid: ContainerId, d: Discovery, cluster: str) -> tuple[str, str, str, str, str]:
    """The fields of the container's ContainerKey, in its order."""
    kind, workload = d.owners[cid[:2]]
    return cid[0], kind, workload, cid[2], cluster


def _container(key: ContainerKey, cids: list[ContainerId], latest: ContainerId, samples: Samples,
               events: dict[ContainerId, list[ContainerEvent]], d: Discovery) -> ContainerHistory:
    pods = [cid[1] for cid in cids]
    req = d.requests.get(latest, {})
    lim = d.limits.get(latest, {})
    nodejs = next((d.nodejs[(key.namespace, p, key.container)] for p in reversed(pods)
                   if (key.namespace, p, key.container) in d.nodejs), None)
    if nodejs is None:
        nodejs = next((d.nodejs[(key.namespace, p, "")] for p in reversed(pods)
                       if (key.namespace, p, "") in d.nodejs and len(d.containers[(key.namespace, p)]) == 1),
                      None)
    return ContainerHistory(
        key=key,
        pods=pods,
        samples=samples,
        requests=Resources(req.get("cpu"), req.get("memory")),
        limits=Resources(lim.get("cpu"), lim.get("memory")),
        image=d.images.get(latest),
        events=sorted((e for cid in cids for e in events.get(cid, ())), key=lambda e: (e.time, e.pod)),
        nodejs_version=nodejs or None,
        init=latest in d.init,
    )


def container_id(labels: dict[str, str], d: Discovery) -> ContainerId | None:
    """The container a series belongs to; a prom-client series without a container label is attached
    to its pod's only container."""
    ns, pod, container = labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", "")
    if container:
        return ns, pod, container
    known = d.containers.get((ns, pod), set())
    return (ns, pod, next(iter(known))) if len(known) == 1 else None


def _events(restarts: list[Series], reasons: list[Series], d: Discovery, grid: Grid, first: int,
            set_aside: plausible.SetAside) -> dict[ContainerId, list[ContainerEvent]]:
    """Restarts from the counter's steps; the reason is the last-terminated reason right after.

    A counter value no container reaches, or a rise of more than one restart a second
    between two steps, is set aside (counted in ``set_aside``).
    """
    reason_at: dict[ContainerId, list[tuple[np.ndarray, str]]] = defaultdict(list)
    for r in reasons:
        cid = container_id(r.labels, d)
        if cid is not None:
            idx, _ = to_steps(r.times, r.values, grid.start, grid.step, grid.n_steps)
            reason_at[cid].append((idx, r.labels.get("reason", "")))
    out: dict[ContainerId, list[ContainerEvent]] = defaultdict(list)
    for r in restarts:
        cid = container_id(r.labels, d)
        if cid is None:
            continue
        idx, vals = to_steps(r.times, r.values, grid.start, grid.step, grid.n_steps)
        where = "/".join(cid)
        ok = [set_aside.keep("kube_pod_container_status_restarts_total", plausible.restart_count(v), where, v)
              for v in vals.tolist()]
        idx, vals = idx[ok], vals[ok]
        # a pod seen from the window's first step may have restarted before it: that is the baseline
        previous = float(vals[0]) if len(idx) and idx[0] == first else 0.0
        last = first
        for i, v in zip(idx.tolist(), vals.tolist(), strict=True):
            count = round(v - previous)
            if count > max(1, i - last) * grid.step:
                set_aside.keep("kube_pod_container_status_restarts_total", False, where, v)
                continue
            last = i
            previous = max(previous, v)
            if i == first or count <= 0:
                continue
            reason = next((name for steps, name in reason_at.get(cid, []) if i in set(steps.tolist())), "")
            t = grid.start + i * grid.step
            out[cid].extend(ContainerEvent(t, cid[1], reason) for _ in range(count))
        if not all(ok) and not out.get(cid):
            # the counter is unreadable: a last-terminated reason seen in the window is at least one restart
            out[cid].extend(ContainerEvent(grid.start + int(steps[0]) * grid.step, cid[1], name)
                            for steps, name in reason_at.get(cid, []) if len(steps))
    return out


def to_steps(times: np.ndarray, values: np.ndarray, start: float, step: float, n_steps: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(step indices, float32 values) of a range result's points on the grid.

    A timestamp off the grid (a skewed clock, a store that shifts evaluation times) goes to
    the nearest step; points outside the window are dropped, and of two points on one step
    the higher is kept, so a series holds at most one value per step.
    """
    times = np.asarray(times, dtype=np.float64)
    return _on_grid(np.zeros(len(times), dtype=np.int64), times, np.asarray(values), start, step, n_steps)


def _union(sorted_keys: list[np.ndarray]) -> np.ndarray:
    """The sorted union of sorted, duplicate-free key arrays (a merge, cheaper than hashing them again)."""
    if not sorted_keys:
        return np.zeros(0, dtype=np.int64)
    merged = np.sort(np.concatenate(sorted_keys), kind="stable")
    return merged[np.r_[True, merged[1:] != merged[:-1]]] if len(merged) else merged


def _place(answers: list[tuple[Matrix, np.ndarray]], start: float, step: float, n_steps: int,
           impossible_nan: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(row keys ``pod * n_steps + step``, float32 values) of every point of every answer at once
    (``answers``: each answer with its series' pods, -1 for a series of no pod of the batch); with
    ``impossible_nan``, a NaN point is an impossible value, placed as an infinity.

    The series are taken by pod, answer after answer (chunks of time, in order), so the keys
    come out sorted unless a pod has duplicate series.
    """
    if not answers:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    pods = np.concatenate([p for _, p in answers])
    lengths = np.concatenate([np.diff(m.bounds) for m, _ in answers])
    base = np.cumsum([0] + [len(m.times) for m, _ in answers])
    firsts = np.concatenate([m.bounds[:-1] + b for (m, _), b in zip(answers, base[:-1], strict=True)])
    order = np.argsort(pods, kind="stable")
    order = order[pods[order] >= 0]
    n = lengths[order]
    index = np.repeat(firsts[order] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
    values = np.concatenate([m.values for m, _ in answers])[index]
    if impossible_nan:
        values[np.isnan(values)] = np.inf
    times = np.concatenate([m.times for m, _ in answers])[index]
    return _on_grid(np.repeat(pods[order], n), times, values, start, step, n_steps)


def _on_grid(pods: np.ndarray, times: np.ndarray, values: np.ndarray, start: float, step: float, n_steps: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(sorted keys ``pod * n_steps + step``, float32 values): each point at its nearest step inside the
    window, the highest of the points on one step kept.

    Usage queries leave duplicate series to us (a container's cAdvisor series while it
    restarts, a target scraped by two jobs): ``max by`` on the server would cost Prometheus
    another pass over every step of every series, a third of its time.
    """
    idx = np.rint((times - start) / step).astype(np.int64)
    ok = (idx >= 0) & (idx < n_steps)
    keys = (pods * n_steps + idx)[ok]
    with np.errstate(over="ignore"):  # a value beyond float32 is an infinity: impossible, set aside later
        kept = values[ok].astype(np.float32)
    if len(keys) > 1 and not np.all(keys[1:] > keys[:-1]):  # sorted and distinct already, most often
        order = np.argsort(keys, kind="stable")
        keys, kept = keys[order], kept[order]
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        keys, kept = keys[first], np.fmax.reduceat(kept, first)  # fmax: NaN only where every point is NaN
    return keys, kept
