"""A reviewed report (``rightsizer report -o json``) read back into a ``RecommendationSet``.

A team reviews the JSON report, perhaps edits a value by hand, and applies exactly that:
the file becomes the same ``RecommendationSet`` a live run makes, so one ``plan`` serves
both roads and the change is always "current versus recommended" as the file states them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rightsizer.errors import QuantityError, RightsizerError
from rightsizer.history import ContainerKey, Resources
from rightsizer.patch.yamltext import PatchError
from rightsizer.quantity import parse_quantity
from rightsizer.recommend.hpa import HpaAdvice
from rightsizer.recommend.model import NodeOptions, Recommendation, RecommendationSet
from rightsizer.scope import Scope


def read_recommendations(path: Path, scope: Scope | None = None) -> RecommendationSet:
    """The recommendations of a report file, those in ``scope`` only; one clear error for a bad file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RightsizerError(f"recommendations file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise RightsizerError(f"recommendations file {path} is not a JSON report ({exc}); write one with "
                              "'rightsizer report -o json --output FILE'") from None
    recs = recommendations_from_report(doc)
    if scope is not None:
        recs.items = [r for r in recs if scope.key_ok(r.key)]
    return recs


def recommendations_from_report(doc: Any) -> RecommendationSet:
    """Decode the JSON document of a report; a malformed entry names its position."""
    if not isinstance(doc, dict) or not isinstance(doc.get("recommendations"), list):
        raise PatchError("not a rightsizer report: expected the JSON of 'rightsizer report -o json'")
    items = []
    for i, entry in enumerate(doc["recommendations"]):
        try:
            items.append(_recommendation(entry, i + 1))
        except (KeyError, TypeError, AttributeError, ValueError, QuantityError) as exc:
            raise PatchError(f"report entry {i + 1} is malformed ({exc.__class__.__name__}: {exc})") from None
    return RecommendationSet(items, str(doc.get("window") or ""), str(doc.get("source") or ""),
                             str(doc.get("strategy") or "rightsizer"), pricing=doc.get("pricing"))


def _resources(values: dict[str, Any], entry: int) -> tuple[Resources, Resources]:
    """(requests, limits) from ``{cpu_request, cpu_limit, memory_request, memory_limit}`` quantity strings."""
    def number(name: str) -> float | None:
        value = values[name]
        res = name.split("_")[0]
        return None if value is None else float(parse_quantity(value, what=f"{res} in report entry {entry}"))

    return (Resources(number("cpu_request"), number("memory_request")),
            Resources(number("cpu_limit"), number("memory_limit")))


def _recommendation(entry: dict[str, Any], number: int) -> Recommendation:
    key = ContainerKey(entry["namespace"], entry["kind"], entry["workload"], entry["container"],
                       entry.get("cluster") or "")
    current_requests, current_limits = _resources(entry["current"], number)
    requests: Resources | None = None
    limits: Resources | None = None
    if entry.get("recommended"):
        requests, limits = _resources(entry["recommended"], number)
    node = entry.get("nodejs")
    hpa = entry.get("hpa")
    cost = entry.get("cost")
    return Recommendation(
        key, current_requests, current_limits, requests, limits,
        reasons=list(entry.get("reasons") or []),
        samples=int(entry.get("samples") or 0), pods=int(entry.get("pods") or 0),
        confidence=float(entry.get("confidence") or 0.0), risk=str(entry.get("risk") or "low"),
        risk_reasons=list(entry.get("risk_reasons") or []),
        nodejs=None if not node else NodeOptions(int(node["max_old_space_size"]), str(node.get("node_options") or ""),
                                                 node.get("version"), _flag_in(node.get("flag_in"))),
        hpa=None if not hpa else HpaAdvice(str(hpa.get("name") or ""), hpa["resource"],
                                           hpa["current_target_utilization"], hpa["target_utilization"], False),
        oom_kills=int(entry.get("oom_kills") or 0),
        init=bool(entry.get("init_container")),
        cost=None if not cost else (float(cost["current_monthly"]), float(cost["recommended_monthly"])),
    )


def _flag_in(value: Any) -> str:
    """Where a report says node reads the heap flag from; anything else is NODE_OPTIONS (the engine's default)."""
    return str(value) if value in ("command", "args") else "NODE_OPTIONS"
