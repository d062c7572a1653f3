"""What a recommendation is, independent of how it was computed (the VPA's model/logic split)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rightsizer.history import ContainerKey, Resources
from rightsizer.quantity import format_cpu, format_memory


@dataclass
class Recommendation:
    key: ContainerKey
    current_requests: Resources
    current_limits: Resources
    requests: Resources | None  # None: no recommendation (see reasons)
    limits: Resources | None
    reasons: list[str] = field(default_factory=list)
    samples: int = 0
    pods: int = 0

    @property
    def changed(self) -> bool:
        return self.requests is not None and (
            self.requests != self.current_requests or self.limits != self.current_limits
        )

    def quantities(self, which: str) -> dict[str, str | None]:
        """``current`` or ``recommended`` values as Kubernetes quantity strings (None: not set)."""
        req, lim = ((self.current_requests, self.current_limits) if which == "current"
                    else (self.requests, self.limits))
        return {
            "cpu_request": _cpu(req.cpu if req else None),
            "cpu_limit": _cpu(lim.cpu if lim else None),
            "memory_request": _mem(req.memory if req else None),
            "memory_limit": _mem(lim.memory if lim else None),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.key.cluster or None,
            "namespace": self.key.namespace,
            "kind": self.key.kind,
            "workload": self.key.workload,
            "container": self.key.container,
            "current": self.quantities("current"),
            "recommended": self.quantities("recommended") if self.requests is not None else None,
            "changed": self.changed,
            "reasons": list(self.reasons),
            "pods": self.pods,
            "samples": self.samples,
        }


def _cpu(value: float | None) -> str | None:
    return None if value is None else format_cpu(value)


def _mem(value: float | None) -> str | None:
    return None if value is None else format_memory(value)


@dataclass
class RecommendationSet:
    """The recommendations of one run, with what they were computed from."""

    items: list[Recommendation]
    window: str = ""
    source: str = ""
    missing: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Recommendation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_frame(self) -> pd.DataFrame:
        """One row per container: current and recommended values in cores and bytes, and reasons."""
        rows = []
        for r in self.items:
            rows.append({
                "cluster": r.key.cluster,
                "namespace": r.key.namespace,
                "kind": r.key.kind,
                "workload": r.key.workload,
                "container": r.key.container,
                "cpu_request": r.current_requests.cpu,
                "cpu_request_new": r.requests.cpu if r.requests else None,
                "cpu_limit": r.current_limits.cpu,
                "cpu_limit_new": r.limits.cpu if r.limits else None,
                "memory_request": r.current_requests.memory,
                "memory_request_new": r.requests.memory if r.requests else None,
                "memory_limit": r.current_limits.memory,
                "memory_limit_new": r.limits.memory if r.limits else None,
                "changed": r.changed,
                "pods": r.pods,
                "samples": r.samples,
                "reasons": "; ".join(r.reasons),
            })
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()  # type: ignore[no-any-return]
