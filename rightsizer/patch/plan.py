"""What to change, container by container: the one road from a ``RecommendationSet`` to edits.

Recommendations computed now and a reviewed report file (loaded by ``patch.reportfile``
into the same ``RecommendationSet``) both become :class:`PlannedChange`s here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rightsizer.errors import RightsizerError
from rightsizer.history import ContainerKey
from rightsizer.patch.manifests import ContainerChange
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.model import Recommendation


@dataclass
class PlannedChange:
    key: ContainerKey
    init: bool
    change: ContainerChange
    hpa: tuple[str, int] | None = None  # (resource, new target utilization)
    flag_in: str = "NODE_OPTIONS"  # where the recommendation says node reads the heap flag from


def plan(recs: Iterable[Recommendation]) -> list[PlannedChange]:
    """The edits the changed recommendations call for."""
    out = []
    for rec in recs:
        if not rec.changed or rec.requests is None or rec.limits is None:
            continue
        change = ContainerChange()
        for res, fmt in (("cpu", format_cpu), ("memory", format_memory)):
            new = getattr(rec.requests, res)
            if new is not None and new != getattr(rec.current_requests, res):
                change.requests[res] = fmt(new)
            new_limit = getattr(rec.limits, res)
            if new_limit != getattr(rec.current_limits, res):
                change.limits[res] = fmt(new_limit) if new_limit is not None else None
        if rec.nodejs is not None:
            change.heap_mib = rec.nodejs.max_old_space_size_mib
            change.known_node_options = rec.nodejs.node_options or None
        hpa = (rec.hpa.resource, int(rec.hpa.target)) if rec.hpa and rec.hpa.target != rec.hpa.current_target else None
        out.append(PlannedChange(rec.key, rec.init, change, hpa, rec.nodejs.flag_in if rec.nodejs else "NODE_OPTIONS"))
    return out


def not_planned(recs: Iterable[Recommendation]) -> dict[str, str]:
    """Why each recommendation that ``plan`` leaves out makes no edit (for a reviewed file: every entry counts)."""
    out = {}
    for rec in recs:
        if rec.requests is None or rec.limits is None:
            why = "; ".join(rec.reasons) or "no recommendation"
            out[str(rec.key)] = f"{rec.key}: not applied: no recommended values ({why})"
        elif not rec.changed:
            out[str(rec.key)] = f"{rec.key}: not applied: the recommended values are the current ones"
    return out


def one_cluster(changes: list[PlannedChange]) -> list[PlannedChange]:
    """A GitOps checkout describes one cluster: recommendations from several would fight over the same files."""
    clusters = sorted({c.key.cluster for c in changes})
    if len(clusters) > 1:
        raise RightsizerError(f"the recommendations come from {len(clusters)} clusters ({', '.join(clusters)}): "
                              "a repository is changed for one cluster at a time; choose it with --cluster NAME")
    return changes
