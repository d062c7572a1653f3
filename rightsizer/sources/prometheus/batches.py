"""Batch planning: which pods' usage is asked for together (pure: no I/O).

A batch holds up to ``batch_pods`` pods' worth of history and always whole workloads, so
a workload's pods are read, and recommended, together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

#: the least a pod counts for in a batch, however short it lived: its series' labels and
#: bookkeeping cost about a fiftieth of a full window's points
MIN_POD_SHARE = 0.02
PodId = tuple[str, str]  # (namespace, pod)


@dataclass(frozen=True)
class Batch:
    """The namespaces (and, when a namespace is cut, the pods) of one batch, with the workloads it holds."""

    namespaces: tuple[str, ...]
    pods: tuple[str, ...]
    workloads: list[str]  # "namespace/kind/name"


def plan_batches(selected: dict[str, list[str]], owners: dict[PodId, tuple[str, str]],
                 lived: dict[PodId, float], limit: int, narrowed: bool) -> list[Batch]:
    """Batches of up to ``limit`` pods' worth of history of the ``selected`` pods (by namespace).

    A pod counts for the share of the window it lived (``lived``: the samples
    kube-state-metrics wrote for it, relative to the longest-lived pod; at least
    :data:`MIN_POD_SHARE`): what a batch holds is points, and a CronJob's or a rollout's
    pods of a few minutes hold few.  Counted as whole pods, the many short-lived pods of
    a busy namespace would cut it into long pod lists that Prometheus parses again in
    every query.  Small namespaces are grouped; a namespace larger than a batch (or every
    namespace, when the scope is ``narrowed`` to some workloads) is cut into pod lists,
    whole workloads at a time.
    """
    longest = max(lived.values(), default=0.0) or 1.0

    def worth(ns: str, pods: list[str]) -> float:
        return sum(max(MIN_POD_SHARE, lived.get((ns, pod), longest) / longest) for pod in pods)

    batches: list[Batch] = []
    group: list[str] = []
    group_workloads: list[str] = []
    size = 0.0
    for ns in sorted(selected):
        by_workload: dict[str, list[str]] = defaultdict(list)
        for pod in selected[ns]:
            kind, name = owners[(ns, pod)]
            by_workload[f"{ns}/{kind}/{name}"].append(pod)
        sizes = {workload: worth(ns, its_pods) for workload, its_pods in by_workload.items()}
        ns_size = sum(sizes.values())
        if narrowed or ns_size > limit:
            chunk: list[str] = []
            names: list[str] = []
            chunk_size = 0.0
            for workload, its_pods in sorted(by_workload.items()):
                its_size = sizes[workload]
                if chunk and chunk_size + its_size > limit:
                    batches.append(Batch((ns,), tuple(sorted(chunk)), names))
                    chunk, names, chunk_size = [], [], 0.0
                chunk.extend(its_pods)
                names.append(workload)
                chunk_size += its_size
            if chunk:
                batches.append(Batch((ns,), tuple(sorted(chunk)), names))
            continue
        if group and size + ns_size > limit:
            batches.append(Batch(tuple(group), (), group_workloads))
            group, group_workloads, size = [], [], 0.0
        group.append(ns)
        group_workloads.extend(sorted(by_workload))
        size += ns_size
    if group:
        batches.append(Batch(tuple(group), (), group_workloads))
    return batches
