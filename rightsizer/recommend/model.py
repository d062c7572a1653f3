"""What a recommendation is, independent of how it was computed (the VPA's model/logic split)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from rightsizer.history import ContainerKey, Resources
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.hpa import HpaAdvice
from rightsizer.recommend.node_heap import FlagPlacement, place_heap_flag

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: at the top, every command's start-up
    import pandas as pd  # would take a second longer

RISKS = ("low", "medium", "high")


@dataclass(frozen=True)
class NodeOptions:
    """The Node.js heap flag for the recommended memory limit.

    The engine knows no manifest: ``node_options`` is the flag merged into what it knows
    (nothing, by default) and ``flag_in`` is ``NODE_OPTIONS``.  Whoever reads the
    container's manifest calls :meth:`placed` with its NODE_OPTIONS, command and args, and
    writes the :class:`~rightsizer.recommend.node_heap.FlagPlacement` it gets back.
    """

    max_old_space_size_mib: int
    node_options: str  # the whole NODE_OPTIONS value, the container's other flags kept
    version: str | None
    flag_in: str = "NODE_OPTIONS"  # or "command" / "args": where node reads the flag from

    def placed(self, node_options: str | None, command: list[str] | None = None, args: list[str] | None = None
               ) -> tuple[NodeOptions, FlagPlacement]:
        """These options merged with a container's own, and the edits that write them."""
        placement = place_heap_flag(self.max_old_space_size_mib, node_options, command, args)
        merged = placement.node_options if placement.node_options is not None else (node_options or "")
        return replace(self, node_options=merged, flag_in=placement.where), placement


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
    confidence: float = 0.0  # 0..1, grows with the history behind it
    risk: str = "low"  # low, medium, high: how carefully a reviewer should look
    risk_reasons: list[str] = field(default_factory=list)
    nodejs: NodeOptions | None = None
    hpa: HpaAdvice | None = None
    oom_kills: int = 0  # in the window the recommendation was made from
    init: bool = False  # an init container
    cost: tuple[float, float] | None = None  # monthly $ (current, recommended), when prices were attached

    @property
    def changed(self) -> bool:
        if self.requests is None:
            return False
        return (self.requests != self.current_requests or self.limits != self.current_limits
                or (self.hpa is not None and self.hpa.target != self.hpa.current_target)
                or self.nodejs is not None)

    def raise_risk(self, level: str, why: str) -> None:
        if RISKS.index(level) > RISKS.index(self.risk):
            self.risk = level
        self.risk_reasons.append(why)

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
            "confidence": round(self.confidence, 3),
            "risk": self.risk,
            "risk_reasons": list(self.risk_reasons),
            "nodejs": None if self.nodejs is None else {
                "max_old_space_size": self.nodejs.max_old_space_size_mib,
                "node_options": self.nodejs.node_options,
                "flag_in": self.nodejs.flag_in,
                "version": self.nodejs.version,
            },
            "hpa": None if self.hpa is None else {
                "name": self.hpa.name,
                "resource": self.hpa.resource,
                "current_target_utilization": self.hpa.current_target,
                "target_utilization": self.hpa.target,
            },
            "init_container": self.init,
            "cost": None if self.cost is None else {
                "currency": "USD",
                "current_monthly": round(self.cost[0], 2),
                "recommended_monthly": round(self.cost[1], 2),
                "savings_monthly": round(self.cost[0] - self.cost[1], 2),
            },
            "oom_kills": self.oom_kills,
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
    strategy: str = "rightsizer"
    missing: dict[str, str] = field(default_factory=dict)  # left out by the source (partial result)
    pricing: str | None = None  # the price catalog behind each recommendation's cost, with its age
    dropped: dict[str, str] = field(default_factory=dict)  # containers no longer running, and why

    def __iter__(self) -> Iterator[Recommendation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_frame(self) -> pd.DataFrame:
        """One row per container: current and recommended values in cores and bytes, risk and reasons."""
        import pandas as pd
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
                "max_old_space_size_mib": r.nodejs.max_old_space_size_mib if r.nodejs else None,
                "cost_monthly": r.cost[0] if r.cost else None,
                "cost_monthly_new": r.cost[1] if r.cost else None,
                "hpa_target_new": r.hpa.target if r.hpa else None,
                "changed": r.changed,
                "confidence": r.confidence,
                "risk": r.risk,
                "pods": r.pods,
                "samples": r.samples,
                "reasons": "; ".join(r.reasons),
            })
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()  # type: ignore[no-any-return]
