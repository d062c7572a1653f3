"""Recommendations: from a ClusterHistory to new requests and limits, each with its reasons and risk.

Strategies are registered by name; ``rightsizer`` (the default) is the full engine, the
others are the baselines the backtest compares it with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rightsizer.config import PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, WorkloadKey
from rightsizer.recommend.baselines import max_plus_15, vpa_like
from rightsizer.recommend.engine import Context, apply_hpa, recommend_container
from rightsizer.recommend.model import NodeOptions, Recommendation, RecommendationSet

Strategy = Callable[[ContainerHistory, Context], Recommendation]

STRATEGIES: dict[str, Strategy] = {
    "rightsizer": recommend_container,
    "max-plus-15": max_plus_15,
    "vpa-like": vpa_like,
}

#: Kinds that run now and then, so a long gap does not mean they are gone.
_INTERMITTENT = ("CronJob", "Job")


def recommend(history: ClusterHistory, policies: PolicySet | None = None, strategy: str = "rightsizer"
              ) -> RecommendationSet:
    """A recommendation for every current container of ``history`` (or the reason there is none).

    >>> import rightsizer as rs
    >>> recs = rs.recommend(rs.load_history(demo=True))
    >>> recs.to_frame()[["workload", "container", "cpu_request_new", "risk"]].shape[1]
    4
    """
    if strategy not in STRATEGIES:
        raise RightsizerError(f"unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    policies = policies or PolicySet()
    run = STRATEGIES[strategy]
    items: list[Recommendation] = []
    dropped = _gone(history, policies)
    by_workload: dict[WorkloadKey, list[ContainerHistory]] = {}
    for ch in history:
        if str(ch.key) not in dropped:
            by_workload.setdefault(ch.key.workload_key, []).append(ch)
    for key, containers in by_workload.items():
        ctx = Context(history, policies.for_workload(key), history.workloads.get(key))
        recs = [run(ch, ctx) for ch in containers]
        if strategy == "rightsizer":
            apply_hpa(recs, ctx)
        items.extend(recs)
    return RecommendationSet(items, window=history.describe_window(), source=history.source, strategy=strategy,
                             missing=dict(history.missing), dropped=dropped)


def recommend_parts(parts: Iterable[ClusterHistory], policies: PolicySet | None = None,
                    strategy: str = "rightsizer",
                    each: Callable[[RecommendationSet, ClusterHistory], None] | None = None) -> RecommendationSet:
    """:func:`recommend` over a history read in parts (batches of whole workloads), one part held at a time.

    ``each`` sees every part with its recommendations while the part is still in memory
    (the CLI prices them there).  The result is what :func:`recommend` gives for the
    whole history: recommendations are per workload, and a part always holds whole ones.
    """
    items: list[Recommendation] = []
    missing: dict[str, str] = {}
    dropped: dict[str, str] = {}
    window = source = ""
    for part in parts:
        recs = recommend(part, policies, strategy)
        if each is not None:
            each(recs, part)
        items.extend(recs.items)
        missing.update(recs.missing)
        dropped.update(recs.dropped)
        if part.containers or not window:
            window, source = recs.window, recs.source
        del part, recs
    items.sort(key=lambda r: r.key)
    return RecommendationSet(items, window=window, source=source, strategy=strategy, missing=missing,
                             dropped=dropped)


def _gone(history: ClusterHistory, policies: PolicySet) -> dict[str, str]:
    """Containers no longer running: removed from their workload, or a workload not seen lately."""
    last: dict[object, int] = {}
    for ch in history:
        if len(ch.active_steps):
            seen = int(ch.active_steps.max())
            last[ch.key.workload_key] = max(last.get(ch.key.workload_key, -1), seen)
    gone: dict[str, str] = {}
    for ch in history:
        if not len(ch.active_steps):
            continue
        steps = policies.for_workload(ch.key.workload_key).gone_after_hours * 3600 / history.step
        seen = int(ch.active_steps.max())
        workload_seen = last[ch.key.workload_key]
        if seen < workload_seen - steps and not ch.init:  # an init container runs only when a pod starts
            gone[str(ch.key)] = "no longer in the workload's pods"
        elif ch.key.kind not in _INTERMITTENT and workload_seen < history.n_steps - 1 - steps:
            gone[str(ch.key)] = "the workload has not run lately"
    return gone


__all__ = ["STRATEGIES", "NodeOptions", "Recommendation", "RecommendationSet", "recommend", "recommend_parts"]
