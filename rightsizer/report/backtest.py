"""Renderings of a backtest: one row per strategy."""

from __future__ import annotations

import json

from rich.table import Table

from rightsizer.backtest import Backtest
from rightsizer.report.console import DEFAULT_WIDTH, draw
from rightsizer.report.documents import json_text
from rightsizer.report.registry import register

_COLUMNS = (
    ("strategy", "Strategy", "{}"),
    ("containers", "Containers", "{:,}"),
    ("would_oom_containers", "Would OOM", "{:,}"),
    ("would_oom_pct", "Would OOM %", "{:.1f}"),
    ("cpu_p95_above_request", "CPU p95 > request", "{:,}"),
    ("cpu_above_request_pct", "CPU p95 > request %", "{:.1f}"),
    ("cpu_samples_above_request", "CPU samples > request", "{:.1%}"),
    ("requested_cores", "Requested cores", "{:,.1f}"),
    ("requested_gib", "Requested GiB", "{:,.1f}"),
    ("slack_cores", "Slack cores", "{:,.1f}"),
    ("slack_gib", "Slack GiB", "{:,.1f}"),
)


@register("table", Backtest, console=True)
def backtest_table(result: Backtest, width: int, color: bool) -> str:
    """Never narrower than DEFAULT_WIDTH: squeezed, eleven numeric columns would wrap every header."""
    table = Table(title=f"backtest: trained on {result.train_window}\n          tested on {result.test_window}",
                  title_justify="left", header_style="bold")
    for _, title, _ in _COLUMNS:
        table.add_column(title, justify="left" if title == "Strategy" else "right")
    for row in result.summary.to_dict(orient="records"):
        table.add_row(*(fmt_.format(row[key]) for key, _, fmt_ in _COLUMNS))
    return draw(table, width=max(width, DEFAULT_WIDTH), color=color)


@register("json", Backtest)
def backtest_json(result: Backtest) -> str:
    doc = {
        "train_window": result.train_window,
        "test_window": result.test_window,
        "strategies": json.loads(result.summary.to_json(orient="records")),
        "containers": json.loads(result.containers.to_json(orient="records")),
    }
    return json_text(doc)


@register("csv", Backtest)
def backtest_csv(result: Backtest) -> str:
    return result.summary.to_csv(index=False)
