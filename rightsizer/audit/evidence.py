"""What the metrics say about a container the repository defines: the measured side of each finding.

A container of the repository is matched to the history by namespace, kind, workload and
container name (a Helm workload's name as its template resolves it for any release; a
manifest that sets no namespace by a unique name).  The figures are those a reviewer
would look up by hand: the share of CPU periods throttled, the working-set peak, OOM kills,
restarts in a pod's first minutes, how long a new pod's memory takes to reach its usual
level and its CPU to come down to it, and the Node.js heap in use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rightsizer.history import ClusterHistory, ContainerHistory

#: a restart this soon after a pod's first sample is a failed start
START_WINDOW = 600.0
#: a pod whose memory stays under this share of its usual level is still starting
RAMP_LEVEL = 0.8
#: a pod whose CPU stays above this multiple of its usual level is still starting (loading, compiling, warming)
BURST_LEVEL = 2.0


@dataclass(frozen=True)
class Evidence:
    """Measured usage of one container over the source's window."""

    throttled_share: float | None  # throttled CFS periods / periods, over the window (with a CPU limit)
    throttled_p95: float | None  # the same per step, 95th percentile
    cpu_p95: float | None  # cores, at the finest resolution the history holds
    memory_peak: float | None  # bytes, working set
    oom_kills: int
    restarts: int
    start_restarts: int  # restarts within START_WINDOW of a pod's first sample
    start_ramp: float | None  # seconds a new pod takes to reach RAMP_LEVEL of its usual memory (median of pods)
    start_burst: float | None  # seconds a new pod's CPU stays above BURST_LEVEL times its usual (median of pods)
    nodejs: bool  # prom-client metrics or a node image
    heap_peak: float | None  # bytes of V8 heap used, at most
    pods: int


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)].astype(np.float64)


def measure(history: ClusterHistory, ch: ContainerHistory) -> Evidence:
    throttled = _finite(ch.samples["throttled"])
    cpu = _finite(ch.cpu_at_scrape)
    memory = _finite(ch.samples["memory"])
    heap = _finite(ch.samples["heap_used"])
    first = _first_steps(ch)
    start_restarts = 0
    for event in ch.events:
        if event.pod in first:
            started = history.start + first[event.pod] * history.step
            start_restarts += 0 <= event.time - started <= max(START_WINDOW, 2 * history.step)
    return Evidence(
        throttled_share=float(throttled.mean()) if len(throttled) else None,
        throttled_p95=float(np.percentile(throttled, 95)) if len(throttled) else None,
        cpu_p95=float(np.percentile(cpu, 95)) if len(cpu) else None,
        memory_peak=float(memory.max()) if len(memory) else None,
        oom_kills=len(ch.oom_kills),
        restarts=ch.restarts,
        start_restarts=start_restarts,
        start_ramp=_settling(ch, history.step, ch.samples["memory"], lambda v, usual: v >= RAMP_LEVEL * usual),
        start_burst=_settling(ch, history.step, ch.cpu_at_scrape, lambda v, usual: v <= BURST_LEVEL * usual),
        nodejs=ch.is_nodejs,
        heap_peak=float(heap.max()) if len(heap) else None,
        pods=len(ch.pods),
    )


def _first_steps(ch: ContainerHistory) -> dict[str, int]:
    """Each pod's first step, for pods that started inside the window (not at its first step)."""
    out = {}
    for index, pod in enumerate(ch.pods):
        steps = ch.samples.step[ch.samples.pod == index]
        if len(steps) and steps.min() > 0:
            out[pod] = int(steps.min())
    return out


def _settling(ch: ContainerHistory, step: float, values: np.ndarray, settled: Callable[[np.ndarray, float], np.ndarray]
              ) -> float | None:
    """Median over the pods started in the window of the time from their first sample to the first that is
    ``settled`` (given the pod's values and their median)."""
    times = []
    for index in range(len(ch.pods)):
        rows = (ch.samples.pod == index) & np.isfinite(values)
        steps, own = ch.samples.step[rows], values[rows].astype(np.float64)
        if len(steps) < 6 or steps.min() == 0:
            continue
        reached = np.flatnonzero(settled(own, float(np.median(own))))
        if len(reached):
            times.append((steps[reached[0]] - steps.min()) * step)
    return float(np.median(times)) if times else None


class EvidenceIndex:
    """The history's containers by name, for matching the repository's containers to them."""

    def __init__(self, history: ClusterHistory):
        self.history = history
        self.by_name: dict[tuple[str, str, str], list[ContainerHistory]] = defaultdict(list)
        for ch in history:
            self.by_name[(ch.key.kind, ch.key.workload, ch.key.container)].append(ch)
        self._cache: dict[int, Evidence] = {}

    def resolve(self, namespace: str | None, kind: str, pattern: re.Pattern[str], containers: list[str]
                ) -> tuple[str, str] | None:
        """(namespace, name) of the one workload of the history a name pattern (a Helm template's, for any
        release) matches with these containers, or None when none or several do."""
        found = {(ch.key.namespace, ch.key.workload) for ch in self.history
                 if ch.key.kind == kind and ch.key.container in containers and pattern.fullmatch(ch.key.workload)
                 and namespace in (None, ch.key.namespace)}
        return found.pop() if len(found) == 1 else None

    def find(self, namespace: str | None, kind: str, workload: str, container: str) -> Evidence | None:
        """The container's evidence: same namespace, or (none set in the repository) the only one so named."""
        candidates = self.by_name.get((kind, workload, container), [])
        chosen = [c for c in candidates if c.key.namespace == namespace] if namespace else candidates
        if len(chosen) != 1 and not (namespace and chosen):
            return None
        ch = chosen[0]
        if id(ch) not in self._cache:
            self._cache[id(ch)] = measure(self.history, ch)
        return self._cache[id(ch)]
