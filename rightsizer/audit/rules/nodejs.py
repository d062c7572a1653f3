"""Node.js: a ``--max-old-space-size`` that fits the memory limit, set once.

V8 does not size its heap from the container's limit on every Node version (see
:mod:`rightsizer.recommend.node_heap`): without the flag a heap can grow past the limit and
the kernel kills the process before V8 collects.  The flag is read where node reads it:
``command``/``args`` win over ``NODE_OPTIONS``, and ``--max-old-space-size-percentage``
is a share of the limit.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rightsizer.audit.model import Finding
from rightsizer.audit.registry import ContainerRule, Context
from rightsizer.audit.rules.quantities import bytes_of, memory_text
from rightsizer.audit.views import ContainerView, Place, WorkloadView
from rightsizer.config import NodePolicy
from rightsizer.history import is_node_image
from rightsizer.recommend.node_heap import heap_flags, size_heap
from rightsizer.units import MiB

#: ``node`` run as a command: the word itself (a path too), or a command inside a shell line
_NODE_COMMAND = re.compile(r"(^|[\s/;&|])node(js)?(\s|$)")
#: a heap above this share of the limit leaves too little for what lives outside it (code, stacks, Buffers)
HIGH_SHARE = 0.85
#: a heap below this share of the limit starves V8 while the memory it could use sits idle
LOW_SHARE = 0.5


@dataclass(frozen=True)
class HeapFlag:
    where: str  # NODE_OPTIONS, command or args
    mib: float
    place: Place


def _words(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def heap_settings(container: ContainerView, limit: float | None) -> list[HeapFlag]:
    """Every heap flag the container sets, in MiB (a percentage taken of ``limit``), the command line first."""
    out = []
    for where in ("command", "args"):
        words = [str(w) for w in container.spec.get(where) or [] if isinstance(w, str | int | float)]
        for unit, value in heap_flags(words):
            if unit == "MiB" or limit is not None:
                out.append(HeapFlag(where, value if unit == "MiB" else value / 100 * (limit or 0) / MiB,
                                    container.place.at(where)))
    options = container.env.get("NODE_OPTIONS")
    if options is not None:
        index = next(i for i, e in enumerate(container.spec.get("env") or [])
                     if isinstance(e, dict) and e.get("name") == "NODE_OPTIONS")
        for unit, value in heap_flags(_words(options)):
            if unit == "MiB" or limit is not None:
                out.append(HeapFlag("NODE_OPTIONS", value if unit == "MiB" else value / 100 * (limit or 0) / MiB,
                                    container.place.at("env", index, "value")))
    return out


def runs_node(container: ContainerView) -> str | None:
    """Why the container is taken for Node.js (None: nothing says so)."""
    if container.evidence is not None and container.evidence.nodejs:
        return "the source's Node.js metrics or image"
    if any(isinstance(e, dict) and e.get("name") == "NODE_OPTIONS" for e in container.spec.get("env") or []):
        return "NODE_OPTIONS is set"
    words = [str(w) for w in (container.spec.get("command") or []) + (container.spec.get("args") or [])]
    if any(_NODE_COMMAND.search(w) for w in words):
        return "its command runs node"
    image = container.spec.get("image")
    if is_node_image(image if isinstance(image, str) else None):
        return f"its image {image}"
    return None


class _NodeRule(ContainerRule):
    """The facts each Node.js rule reads: the memory limit and the flags."""

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        why = runs_node(container)
        limit = bytes_of(container.quantity("limits", "memory"))
        if why is None or limit is None:
            return
        flags = heap_settings(container, limit)
        evidence = [f"Node.js: {why}", f"resources.limits.memory: {container.quantity('limits', 'memory')}"]
        evidence += [f"{f.where}: --max-old-space-size={f.mib:.0f} ({f.mib * MiB / limit:.0%} of the limit)"
                     for f in flags]
        e = container.evidence
        if e is not None and e.heap_peak is not None:
            evidence.append(f"measured heap used peak {memory_text(e.heap_peak)}")
        yield from self.judge(workload, container, ctx, limit, flags, evidence)

    def judge(self, workload: WorkloadView, container: ContainerView, ctx: Context, limit: float,
              flags: list[HeapFlag], evidence: list[str]) -> Iterator[Finding]:
        raise NotImplementedError


def _suggested(limit: float) -> str:
    """The flag `patch` would write for ``limit`` with no heap metrics, and its share: the engine's sizing, which
    keeps room for the young generation and what lives outside the heap, not a bare share of the limit."""
    none = np.zeros(0)
    advice = size_heap(limit, none, none, none, NodePolicy())
    if advice.raised:
        return (f"--max-old-space-size={advice.max_old_space_mib} with the memory limit raised to "
                f"{memory_text(advice.memory_limit)} (the least heap V8 runs with, and room outside it, do not fit "
                f"in {memory_text(limit)})")
    return (f"--max-old-space-size={advice.max_old_space_mib} ({advice.max_old_space_mib * MiB / limit:.0%} of the "
            "limit, leaving room for the young generation and memory outside the heap)")


class NodeHeapMissing(_NodeRule):
    name = "node-heap-missing"
    severity = "warning"
    summary = "Node.js with a memory limit and no --max-old-space-size"
    why = ("Node 18 sizes its heap from the node's memory, not the container's: the heap can grow past the limit "
           "and the process is OOM-killed before V8 collects. An explicit flag below the limit, with room for "
           "what lives outside the heap, fits it.")

    def judge(self, workload: WorkloadView, container: ContainerView, ctx: Context, limit: float,
              flags: list[HeapFlag], evidence: list[str]) -> Iterator[Finding]:
        if flags:
            return
        place = container.place.at("env") if container.spec.get("env") else container.place
        yield ctx.finding(self, workload, place, f"no --max-old-space-size under a {memory_text(limit)} memory limit",
                          container=container, evidence=evidence,
                          fix=f"set NODE_OPTIONS={_suggested(limit)}; `rightsizer patch` writes it")


class NodeHeapTwice(_NodeRule):
    name = "node-heap-twice"
    severity = "warning"
    summary = "--max-old-space-size set twice with different values"
    why = ("Node takes the command line's flag over NODE_OPTIONS: two different values mean the one a reader "
           "changes may not be the one in force.")

    def judge(self, workload: WorkloadView, container: ContainerView, ctx: Context, limit: float,
              flags: list[HeapFlag], evidence: list[str]) -> Iterator[Finding]:
        if len({round(f.mib) for f in flags}) < 2:
            return
        used = flags[0]
        others = ", ".join(f"{f.where} {f.mib:.0f}" for f in flags[1:])
        yield ctx.finding(self, workload, flags[-1].place,
                          f"heap flag {used.mib:.0f} MiB in {used.where} (in force) and {others}",
                          container=container, evidence=evidence,
                          fix=f"keep one flag (node uses the {used.where} one) and remove the other")


class NodeHeapOverLimit(_NodeRule):
    name = "node-heap-over-limit"
    severity = "error"
    summary = "--max-old-space-size at or above the memory limit"
    why = ("The heap may grow to the flag before V8 collects, and the container dies at the limit first: an "
           "OOM kill instead of a garbage collection.")

    def judge(self, workload: WorkloadView, container: ContainerView, ctx: Context, limit: float,
              flags: list[HeapFlag], evidence: list[str]) -> Iterator[Finding]:
        if flags and flags[0].mib * MiB >= limit:
            yield ctx.finding(self, workload, flags[0].place,
                              f"heap {flags[0].mib:.0f} MiB is not below the {memory_text(limit)} memory limit",
                              container=container, evidence=evidence,
                              fix=f"set {_suggested(limit)}, or raise the limit to fit the heap the service "
                                  "needs")


class NodeHeapShare(_NodeRule):
    name = "node-heap-share"
    severity = "warning"
    summary = "--max-old-space-size above ~85% or below ~50% of the memory limit"
    why = ("Above ~85% of the limit, what lives outside the V8 heap (code, stacks, Buffers, the young "
           "generation) no longer fits and the container is OOM-killed; below ~50% V8 collects constantly while "
           "the memory paid for sits unused.")

    def judge(self, workload: WorkloadView, container: ContainerView, ctx: Context, limit: float,
              flags: list[HeapFlag], evidence: list[str]) -> Iterator[Finding]:
        if not flags or flags[0].mib * MiB >= limit:
            return
        share = flags[0].mib * MiB / limit
        fix = f"set {_suggested(limit)}; `rightsizer patch` sizes it from use"
        if share > HIGH_SHARE:
            yield ctx.finding(self, workload, flags[0].place, f"heap {flags[0].mib:.0f} MiB is {share:.0%} of the "
                              f"{memory_text(limit)} limit", container=container, evidence=evidence, fix=fix)
        elif share < LOW_SHARE:
            yield ctx.finding(self, workload, flags[0].place, f"heap {flags[0].mib:.0f} MiB is only {share:.0%} of "
                              f"the {memory_text(limit)} limit", container=container, evidence=evidence, fix=fix,
                              severity="info")
