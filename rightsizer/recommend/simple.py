"""The first recommender: a CPU percentile and the memory peak, each with a margin.

Deliberately plain, so the spine (source -> recommendation -> report) can be checked end
to end against the generator's ground truth; censoring by CPU limits, OOMKills,
trends, HPAs and the Node.js heap belong to the full engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rightsizer.history import ClusterHistory, ContainerHistory, Resources
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.timeparse import format_duration

MiB = 2**20


@dataclass(frozen=True)
class SimplePolicy:
    cpu_percentile: float = 95.0
    cpu_margin: float = 0.10  # relative, added to the percentile
    memory_margin: float = 0.15  # relative, added to the peak
    min_cpu: float = 0.010  # cores
    min_memory: float = 32 * MiB  # bytes
    cpu_granularity: float = 0.005  # cores: round up to 5m
    memory_granularity: float = MiB  # bytes: round up to 1Mi
    min_samples: int = 12  # an hour of 5-minute steps


def recommend(history: ClusterHistory, policy: SimplePolicy | None = None) -> RecommendationSet:
    """A recommendation for every container of ``history`` (or the reason there is none)."""
    policy = policy or SimplePolicy()
    items = [recommend_container(ch, history.step, policy) for ch in history]
    return RecommendationSet(items, window=history.describe_window(), source=history.source,
                             missing=dict(history.missing))


def _round_up(value: float, granularity: float) -> float:
    return round(math.ceil(value / granularity - 1e-9) * granularity, 9)


def recommend_container(ch: ContainerHistory, step: float, policy: SimplePolicy) -> Recommendation:
    cpu = ch.samples["cpu"]
    cpu = cpu[np.isfinite(cpu)]
    memory = ch.samples["memory"]
    memory = memory[np.isfinite(memory)]
    rec = Recommendation(ch.key, ch.requests, ch.limits, None, None, samples=len(ch.samples), pods=len(ch.pods))
    if len(cpu) < policy.min_samples or len(memory) < policy.min_samples:
        rec.reasons.append(f"not enough history: {min(len(cpu), len(memory))} samples, "
                           f"{policy.min_samples} needed ({format_duration(policy.min_samples * step)})")
        return rec
    p = float(np.percentile(cpu, policy.cpu_percentile))
    cpu_request = max(policy.min_cpu, _round_up(p * (1 + policy.cpu_margin), policy.cpu_granularity))
    peak = float(memory.max())
    memory_value = max(policy.min_memory, _round_up(peak * (1 + policy.memory_margin), policy.memory_granularity))
    rec.requests = Resources(cpu_request, memory_value)
    rec.limits = Resources(None, memory_value)
    rec.reasons.append(
        f"cpu request {format_cpu(cpu_request)}: p{policy.cpu_percentile:g} of {len(cpu)} samples "
        f"({format_cpu(p)}) + {policy.cpu_margin:.0%}"
    )
    rec.reasons.append("no cpu limit: a limit throttles bursts, the request already guarantees the share")
    rec.reasons.append(
        f"memory request = limit {format_memory(memory_value)}: peak working set {format_memory(_round_up(peak, MiB))}"
        f" + {policy.memory_margin:.0%}"
    )
    if ch.oom_kills:
        rec.reasons.append(f"{len(ch.oom_kills)} OOMKill(s) in the window: the peak seen is a lower bound")
    return rec
