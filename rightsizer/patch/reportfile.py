"""A reviewed report (``rightsizer report -o json``) read back into a ``RecommendationSet``.

A team reviews the JSON report, perhaps edits a value by hand, and applies exactly that:
the file becomes the same ``RecommendationSet`` a live run makes, so one ``plan`` serves
both roads and the change is always "current versus recommended" as the file states them.

A hand edit can hold what no manifest should get (``-500m``, ``"lots"``, a request of
zero, a request above its limit): such an entry is read with no recommended values and the
reason naming the field, so ``patch`` lists it as not applied and applies the others.
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
from rightsizer.sources import plausible


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
            items.append(_recommendation(entry))
        except (KeyError, TypeError, AttributeError, ValueError, QuantityError) as exc:
            raise PatchError(f"report entry {i + 1} is malformed ({exc.__class__.__name__}: {exc})") from None
    return RecommendationSet(items, str(doc.get("window") or ""), str(doc.get("source") or ""),
                             str(doc.get("strategy") or "rightsizer"), pricing=doc.get("pricing"))


class _Refused(ValueError):
    """A value no manifest should get; the entry is kept, with nothing to apply."""


def _resources(values: dict[str, Any], section: str) -> tuple[Resources, Resources]:
    """(requests, limits) from ``{cpu_request, cpu_limit, memory_request, memory_limit}`` quantity strings."""
    def number(name: str) -> float | None:
        value = values[name]
        if value is None:
            return None
        field = f"{section} {name}"
        try:
            parsed = float(parse_quantity(value, what=field))
        except QuantityError as exc:
            raise _Refused(str(exc)) from None
        if not plausible.resource(name.split("_")[0], parsed) or (parsed == 0 and section == "recommended"):
            raise _Refused(f"{field} {value!r} is not a size to give a container (above zero, at most "
                           f"{plausible.MAX_CORES:g} cores or {plausible.MAX_BYTES / 2**40:g} TiB)")
        return parsed

    requests = Resources(number("cpu_request"), number("memory_request"))
    limits = Resources(number("cpu_limit"), number("memory_limit"))
    for res in ("cpu", "memory"):
        request, limit = getattr(requests, res), getattr(limits, res)
        if request is not None and limit is not None and request > limit:
            raise _Refused(f"{section} {res}_request {values[f'{res}_request']!r} is above its limit "
                           f"{values[f'{res}_limit']!r}")
    return requests, limits


def _recommendation(entry: dict[str, Any]) -> Recommendation:
    key = ContainerKey(entry["namespace"], entry["kind"], entry["workload"], entry["container"],
                       entry.get("cluster") or "")
    requests: Resources | None = None
    limits: Resources | None = None
    try:
        current_requests, current_limits = _resources(entry["current"], "current")
        if entry.get("recommended"):
            requests, limits = _resources(entry["recommended"], "recommended")
    except _Refused as exc:
        return Recommendation(key, Resources(None, None), Resources(None, None), None, None,
                              reasons=[f"refused: {exc}; correct it in the report file"])
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
