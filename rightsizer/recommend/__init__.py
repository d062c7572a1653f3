"""Recommendations: from a ClusterHistory to new requests and limits, each with its reasons and risk.

Strategies are registered by name (:mod:`rightsizer.recommend.strategy`); ``rightsizer``
(the default, :mod:`~rightsizer.recommend.engine`) is the full engine, the others are the
baselines the backtest compares it with (:mod:`~rightsizer.recommend.baselines`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rightsizer.config import PolicySet
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, WorkloadKey
from rightsizer.recommend import baselines  # noqa: F401  (registers the baselines, after the default it imports)
from rightsizer.recommend.engine import Context
from rightsizer.recommend.gather import gathered
from rightsizer.recommend.margins import ClusterSeries
from rightsizer.recommend.model import NodeOptions, Recommendation, RecommendationSet
from rightsizer.recommend.strategy import STRATEGIES, Strategy, find

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
    return recommend_parts([history], policies, strategy)


def recommend_parts(parts: Iterable[ClusterHistory], policies: PolicySet | None = None,
                    strategy: str = "rightsizer",
                    each: Callable[[RecommendationSet, ClusterHistory], None] | None = None) -> RecommendationSet:
    """:func:`recommend` over a history read in parts (batches of whole workloads), one part held at a time.

    ``each`` sees every part with its recommendations while the part is still in memory
    (the CLI prices them there).  A strategy that learns from the whole cluster (the
    default's memory margins) sees every part before recommending any
    (:mod:`~rightsizer.recommend.gather`).  The result is what :func:`recommend` gives for
    the whole history: recommendations are per workload, a part always holds whole ones,
    and they are listed by container key however the parts were cut.
    """
    run = find(strategy)
    policies = policies or PolicySet()
    cluster = None
    begun: dict[ContainerKey, object] = {}
    if run.learns_from_cluster:  # every part read before the first is recommended, one held at a time
        cluster = ClusterSeries()
        parts = gathered((_begin_part(part, policies, run, begun) for part in parts), cluster)
    items: list[Recommendation] = []
    missing: dict[str, str] = {}
    dropped: dict[str, str] = {}
    window = source = ""
    for part in parts:
        recs = _recommend_part(part, policies, run, cluster, begun)
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


def _begin_part(history: ClusterHistory, policies: PolicySet, run: Strategy, begun: dict[ContainerKey, object]
                ) -> ClusterHistory:
    """``history`` (one part), once the strategy has begun each of its containers' recommendation.

    Run as the part is read: the queries of the next parts are in flight meanwhile, where
    the same work after the last part would be a run's end with nothing else to do.
    """
    for key, containers in _by_workload(history, _gone(history, policies)).items():
        ctx = Context(history, policies.for_workload(key), history.workloads.get(key))
        for ch in containers:
            early = run.begin(ch, ctx)
            if early is not None:
                begun[ch.key] = early
    return history


def _recommend_part(history: ClusterHistory, policies: PolicySet, run: Strategy,
                    cluster: ClusterSeries | None = None, begun: Mapping[ContainerKey, object] | None = None
                    ) -> RecommendationSet:
    """The recommendations of one part: the strategy's rule per container, then its step per workload."""
    items: list[Recommendation] = []
    dropped = _gone(history, policies)
    for key, containers in _by_workload(history, dropped).items():
        ctx = Context(history, policies.for_workload(key), history.workloads.get(key), cluster, begun or {})
        recs = [run.container(ch, ctx) for ch in containers]
        run.workload(recs, ctx)
        items.extend(recs)
    return RecommendationSet(items, window=history.describe_window(), source=history.source, strategy=run.name,
                             missing=dict(history.missing), dropped=dropped)


def _by_workload(history: ClusterHistory, dropped: Mapping[str, str]) -> dict[WorkloadKey, list[ContainerHistory]]:
    """The containers still running (not in ``dropped``), by workload."""
    out: dict[WorkloadKey, list[ContainerHistory]] = {}
    for ch in history:
        if str(ch.key) not in dropped:
            out.setdefault(ch.key.workload_key, []).append(ch)
    return out


def _gone(history: ClusterHistory, policies: PolicySet) -> dict[str, str]:
    """Containers no longer running: removed from their workload, or a workload not seen lately."""
    seen_last: dict[ContainerKey, int] = {}  # each container's last step running (none: never ran in the window)
    last: dict[object, int] = {}
    for ch in history:
        active = ch.active_steps
        if len(active):
            seen_last[ch.key] = seen = int(active.max())
            last[ch.key.workload_key] = max(last.get(ch.key.workload_key, -1), seen)
    gone: dict[str, str] = {}
    for ch in history:
        if ch.key not in seen_last:
            continue
        steps = policies.for_workload(ch.key.workload_key).gone_after_hours * 3600 / history.step
        seen = seen_last[ch.key]
        workload_seen = last[ch.key.workload_key]
        if seen < workload_seen - steps and not ch.init:  # an init container runs only when a pod starts
            gone[str(ch.key)] = "no longer in the workload's pods"
        elif ch.key.kind not in _INTERMITTENT and workload_seen < history.n_steps - 1 - steps:
            gone[str(ch.key)] = "the workload has not run lately"
    return gone


__all__ = ["STRATEGIES", "NodeOptions", "Recommendation", "RecommendationSet", "Strategy", "find", "recommend",
           "recommend_parts"]
