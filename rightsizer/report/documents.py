"""Machine-readable renderings (json, yaml, csv); their shape is documented in docs/output.md and kept stable."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from ruamel.yaml import YAML

from rightsizer import __version__
from rightsizer.recommend.model import RISKS, RecommendationSet
from rightsizer.report.registry import register
from rightsizer.secrets import redact_urls


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None``: JSON has no such numbers.

    ``json.dumps`` would print ``NaN`` and ``Infinity``, which no strict parser accepts; a
    value that is not a number is an unknown value, which JSON spells ``null``.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def json_text(document: Any) -> str:
    """A document as indented JSON that every parser accepts (non-finite numbers as ``null``)."""
    return json.dumps(finite(document), indent=2, allow_nan=False) + "\n"


def recommendations_document(recs: RecommendationSet) -> dict[str, Any]:
    """The recommendations as one JSON-ready document: what ``-o json`` and ``-o yaml`` print and ``patch`` reads."""
    return finite({
        "version": __version__,
        "source": redact_urls(recs.source),
        "window": recs.window,
        "strategy": recs.strategy,
        "missing": recs.missing,
        "dropped": recs.dropped,
        "pricing": recs.pricing,
        "summary": {
            "containers": len(recs),
            "changed": sum(r.changed for r in recs),
            "without_recommendation": sum(r.requests is None for r in recs),
            "risk": {level: sum(r.risk == level for r in recs if r.requests is not None) for level in RISKS},
            "monthly_cost": None if any(r.cost is None for r in recs) else {
                "currency": "USD",
                "current": round(sum(r.cost[0] for r in recs if r.cost), 2),
                "recommended": round(sum(r.cost[1] for r in recs if r.cost), 2),
            },
        },
        "recommendations": [r.to_dict() for r in recs],
    })


@register("json", RecommendationSet)
def render_json(recs: RecommendationSet) -> str:
    return json_text(recommendations_document(recs))


@register("yaml", RecommendationSet)
def render_yaml(recs: RecommendationSet) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # keep the documented key order
    buffer = io.StringIO()
    yaml.dump(recommendations_document(recs), buffer)
    return buffer.getvalue()


CSV_COLUMNS = (
    "cluster", "namespace", "kind", "workload", "container", "init_container",
    "current_cpu_request", "current_cpu_limit", "current_memory_request", "current_memory_limit",
    "recommended_cpu_request", "recommended_cpu_limit", "recommended_memory_request", "recommended_memory_limit",
    "changed", "risk", "confidence", "max_old_space_size", "node_options", "hpa", "hpa_target_utilization",
    "current_monthly_cost", "recommended_monthly_cost",
    "oom_kills", "pods", "samples", "reasons", "risk_reasons",
)


@register("csv", RecommendationSet)
def render_csv(recs: RecommendationSet) -> str:
    """One row per container; quantities as Kubernetes strings, empty when unset; reasons joined by ' | '."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rec in recs:
        d = rec.to_dict()
        row: dict[str, Any] = {k: d[k] for k in ("cluster", "namespace", "kind", "workload", "container", "changed",
                                                 "risk", "confidence", "oom_kills", "pods", "samples")}
        row["init_container"] = d["init_container"]
        for side in ("current", "recommended"):
            for key, value in (d[side] or {}).items():
                row[f"{side}_{key}"] = value
        if d["nodejs"]:
            row["max_old_space_size"] = d["nodejs"]["max_old_space_size"]
            row["node_options"] = d["nodejs"]["node_options"]
        if d["hpa"]:
            row["hpa"] = d["hpa"]["name"]
            row["hpa_target_utilization"] = d["hpa"]["target_utilization"]
        if d["cost"]:
            row["current_monthly_cost"] = d["cost"]["current_monthly"]
            row["recommended_monthly_cost"] = d["cost"]["recommended_monthly"]
        row["reasons"] = " | ".join(d["reasons"])
        row["risk_reasons"] = " | ".join(d["risk_reasons"])
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
