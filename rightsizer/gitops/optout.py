"""Workloads the policy file opts out of edits (``exclude:`` in rightsizer.yaml), set aside before locating.

The ``rightsizer.io/ignore: "true"`` annotation is the opt-out that lives in the manifest;
this one lives with the policy, for teams that cannot (or would rather not) annotate a
chart's output.  Either way the workload is listed as left alone, never silently dropped.
"""

from __future__ import annotations

from rightsizer.config import PolicySet
from rightsizer.patch import PlannedChange


def set_aside(changes: list[PlannedChange], policies: PolicySet | None) -> tuple[list[PlannedChange], dict[str, str]]:
    """The changes to make, and what the policy file excludes (container -> why)."""
    if policies is None or not policies.exclude:
        return changes, {}
    kept, left = [], {}
    for pc in changes:
        pattern = policies.excluded(pc.key.workload_key)
        if pattern is None:
            kept.append(pc)
        else:
            left[str(pc.key)] = f"{pc.key}: left alone: {policies.source} excludes it ({pattern})"
    return kept, left
