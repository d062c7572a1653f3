"""Renderers for a RecommendationSet, registered by format name (``-o NAME``)."""

from __future__ import annotations

from collections.abc import Callable

from rightsizer.history import ClusterHistory
from rightsizer.recommend.model import RecommendationSet
from rightsizer.report.formats import render_csv, render_json, render_yaml
from rightsizer.report.html import render_html
from rightsizer.report.markdown import render_markdown
from rightsizer.report.table import render_table

FORMATS: dict[str, Callable[[RecommendationSet], str]] = {
    "table": render_table,
    "json": render_json,
    "yaml": render_yaml,
    "csv": render_csv,
    "markdown": render_markdown,
    "html": render_html,
}


def render(recs: RecommendationSet, fmt: str, history: ClusterHistory | None = None, plots: int = 20) -> str:
    """The report as text; ``html`` draws pictures from ``history`` for up to ``plots`` containers."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "html":
        return render_html(recs, history, plots)
    return FORMATS[fmt](recs)


__all__ = ["FORMATS", "render"]
