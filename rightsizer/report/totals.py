"""Sums over a set of recommendations: for the whole report and per namespace, in every format that shows them.

Requests are summed over the containers that have a recommendation, one pod of each (what
a reader can check against the rows); costs over all pods (what the bill says).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rightsizer.recommend.model import Recommendation


@dataclass(frozen=True)
class Totals:
    containers: int
    changed: int
    cpu: tuple[float, float]  # cores requested now, recommended
    memory: tuple[float, float]  # bytes requested now, recommended
    cost: tuple[float, float] | None  # USD a month now, recommended; None unless every container is priced


def totals(recs: Iterable[Recommendation]) -> Totals:
    recs = list(recs)
    sized = [r for r in recs if r.requests is not None]
    priced = bool(recs) and all(r.cost is not None for r in recs)
    return Totals(
        containers=len(recs),
        changed=sum(r.changed for r in recs),
        cpu=(sum(r.current_requests.cpu or 0 for r in sized), sum(r.requests.cpu or 0 for r in sized if r.requests)),
        memory=(sum(r.current_requests.memory or 0 for r in sized),
                sum(r.requests.memory or 0 for r in sized if r.requests)),
        cost=(sum(r.cost[0] for r in recs if r.cost), sum(r.cost[1] for r in recs if r.cost)) if priced else None,
    )


def by_namespace(recs: Iterable[Recommendation]) -> dict[str, Totals]:
    """Totals per namespace, in namespace order."""
    groups: dict[str, list[Recommendation]] = {}
    for r in sorted(recs, key=lambda r: r.key):
        groups.setdefault(r.key.namespace, []).append(r)
    return {ns: totals(members) for ns, members in groups.items()}
