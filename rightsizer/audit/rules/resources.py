"""Requests and limits: requests set, no CPU limit, a memory request near the measured peak."""

from __future__ import annotations

from collections.abc import Iterator

from rightsizer.audit.model import Finding
from rightsizer.audit.registry import ContainerRule, Context
from rightsizer.audit.rules.quantities import bytes_of, cores, cpu_text, memory_text, percent
from rightsizer.audit.views import ContainerView, WorkloadView

#: a throttled share of CPU periods above this adds latency a user sees: the finding is an error
THROTTLED_ERROR = 0.05
#: a memory request below this share of the measured peak leaves the pod first in line for eviction
REQUEST_BELOW_PEAK = 0.8
#: a memory request above this multiple of the measured peak reserves memory nothing uses
REQUEST_ABOVE_PEAK = 2.0

_FIX_REQUESTS = "run `rightsizer report` (or `patch`) for requests sized from measured use"


def _measured(container: ContainerView) -> list[str]:
    e = container.evidence
    if e is None:
        return []
    out = []
    if e.cpu_p95 is not None:
        out.append(f"measured CPU p95 {cpu_text(e.cpu_p95)}")
    if e.memory_peak is not None:
        out.append(f"measured memory peak {memory_text(e.memory_peak)}")
    return out


class RequestsMissing(ContainerRule):
    name = "requests-missing"
    severity = "warning"
    summary = "A container without CPU or memory requests"
    why = ("The scheduler places a pod by its requests: without them it lands on a full node, is the first "
           "evicted under memory pressure (BestEffort), and an HPA on utilization cannot compute it.")
    pod_spec = False

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        missing = [r for r in ("cpu", "memory") if container.quantity("requests", r) is None]
        if not missing:
            return
        yield ctx.finding(
            self, workload, container.resources.at("requests"),
            f"no {' and no '.join(f'{r} request' for r in missing)}", container=container,
            evidence=[f"resources.requests.{r} is not set" for r in missing] + _measured(container),
            fix=f"set requests.{' and requests.'.join(missing)}; {_FIX_REQUESTS}")


class CpuLimit(ContainerRule):
    name = "cpu-limit"
    severity = "warning"
    summary = "A CPU limit is set"
    why = ("A CPU limit throttles the container whenever it uses its quota within a 100 ms period, even on an "
           "idle node: latency rises while cores sit unused. A sufficient request protects neighbours instead.")
    pod_spec = False

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        limit = container.quantity("limits", "cpu")
        if limit is None:
            return
        evidence = [f"resources.limits.cpu: {limit}"]
        severity = None
        e = container.evidence
        if e is not None and e.throttled_share is not None:
            evidence.append(f"throttled in {percent(e.throttled_share)} of CPU periods over the window (worst 5% "
                            f"of steps above {percent(e.throttled_p95 or 0.0)})")
            severity = "error" if e.throttled_share >= THROTTLED_ERROR else None
        request = cores(container.quantity("requests", "cpu"))
        fix = "remove limits.cpu" + (f" and keep requests.cpu ({cpu_text(request)}) at the measured need"
                                     if request is not None else " and set requests.cpu to the measured need")
        yield ctx.finding(self, workload, container.resources.at("limits", "cpu"), f"CPU limit {limit}",
                          container=container, evidence=evidence, fix=fix, severity=severity)


class MemoryRequestVsPeak(ContainerRule):
    name = "memory-request-vs-peak"
    severity = "warning"
    summary = "A memory request far from the measured peak (needs a source)"
    why = ("Memory cannot be throttled: a request below the working-set peak over-commits the node and makes the "
           "pod an eviction or OOM-kill candidate; one far above it reserves memory no pod can use.")
    pod_spec = False

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        e = container.evidence
        request = bytes_of(container.quantity("requests", "memory"))
        if e is None or e.memory_peak is None or request is None or e.memory_peak <= 0:
            return
        limit = bytes_of(container.quantity("limits", "memory"))
        evidence = [f"resources.requests.memory: {container.quantity('requests', 'memory')}",
                    f"measured working-set peak {memory_text(e.memory_peak)} over {e.pods} pods"]
        if e.oom_kills:
            evidence.append(f"{e.oom_kills} OOM kills in the window"
                            + (f" (limit {memory_text(limit)})" if limit is not None else ""))
        place = container.resources.at("requests", "memory")
        if e.oom_kills or request < REQUEST_BELOW_PEAK * e.memory_peak:
            yield ctx.finding(
                self, workload, place,
                f"memory request {memory_text(request)} is {request / e.memory_peak:.0%} of the measured peak"
                + (f"; {e.oom_kills} OOM kills" if e.oom_kills else ""), container=container, evidence=evidence,
                fix="raise requests.memory (and limits.memory) to cover the peak; `rightsizer report` sizes them",
                severity="error" if e.oom_kills else None)
        elif request > REQUEST_ABOVE_PEAK * e.memory_peak:
            yield ctx.finding(
                self, workload, place,
                f"memory request {memory_text(request)} is {request / e.memory_peak:.1f}x the measured peak",
                container=container, evidence=evidence, severity="info",
                fix="lower requests.memory towards the peak plus a margin; `rightsizer report` sizes it")
