"""Machine-readable renderings; their shape is documented in docs/output.md and kept stable."""

from __future__ import annotations

import json
from typing import Any

from rightsizer import __version__
from rightsizer.recommend.model import RISKS, RecommendationSet


def report_document(recs: RecommendationSet) -> dict[str, Any]:
    return {
        "version": __version__,
        "source": recs.source,
        "window": recs.window,
        "strategy": recs.strategy,
        "missing": recs.missing,
        "dropped": recs.dropped,
        "summary": {
            "containers": len(recs),
            "changed": sum(r.changed for r in recs),
            "without_recommendation": sum(r.requests is None for r in recs),
            "risk": {level: sum(r.risk == level for r in recs if r.requests is not None) for level in RISKS},
        },
        "recommendations": [r.to_dict() for r in recs],
    }


def render_json(recs: RecommendationSet) -> str:
    return json.dumps(report_document(recs), indent=2) + "\n"
