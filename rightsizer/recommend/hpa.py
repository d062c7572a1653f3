"""HPA-managed workloads: keep the absolute scaling point when the request moves.

An HPA on CPU utilization scales when usage passes ``target% x request``.  Changing the
request alone moves that point: halve the request and the HPA scales out at half the
load.  So the new request comes with the target that keeps ``target x request``
constant, bounded to a sane range (and the reasons say when the bound moved it).
"""

from __future__ import annotations

from dataclasses import dataclass

from rightsizer.config import HpaPolicy


@dataclass(frozen=True)
class HpaAdvice:
    name: str
    resource: str  # "cpu" or "memory"
    current_target: float  # percent
    target: float  # percent, proposed
    clamped: bool  # the bounds kept the scaling point from being kept exactly


def keep_scaling_point(name: str, resource: str, target: float, current_request: float | None,
                       new_request: float, policy: HpaPolicy) -> HpaAdvice | None:
    if not policy.keep_scaling_point or current_request is None or new_request <= 0:
        return None
    exact = target * current_request / new_request
    bounded = min(max(exact, policy.min_target), policy.max_target)
    return HpaAdvice(name, resource, target, round(bounded), abs(bounded - exact) > 0.5)
