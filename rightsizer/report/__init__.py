"""Renderers for a RecommendationSet, registered by format name (``-o NAME``)."""

from __future__ import annotations

from collections.abc import Callable

from rightsizer.recommend.model import RecommendationSet
from rightsizer.report.formats import render_json
from rightsizer.report.table import render_table

FORMATS: dict[str, Callable[[RecommendationSet], str]] = {
    "table": render_table,
    "json": render_json,
}


def render(recs: RecommendationSet, fmt: str) -> str:
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(recs)


__all__ = ["FORMATS", "render"]
