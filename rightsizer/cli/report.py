"""``rightsizer report``: recommendations for every container in scope."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rightsizer.api import recommend_priced
from rightsizer.history import ClusterHistory
from rightsizer.recommend import STRATEGIES, find
from rightsizer.report import FORMATS, render
from rightsizer.report.table import build_table, dropped_note, missing_note

from .app import EXIT_CHANGES
from .console import emit, say, setup_logging
from .options import (
    POLICY,
    ConnectionOptions,
    GridOptions,
    OfflineOptions,
    PolicyOptions,
    PricingOptions,
    PrometheusOptions,
    RunOptions,
    ScopeOptions,
    SourceFlags,
    WindowOptions,
    history_parts,
)


def report(
    *,
    prometheus: PrometheusOptions,
    offline: OfflineOptions,
    scope: ScopeOptions,
    window: WindowOptions,
    grid: GridOptions,
    fmt: Annotated[str, typer.Option("-o", "--format", help=f"Output format: {', '.join(FORMATS)}.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write the report to FILE (atomically).")] = None,
    policy: PolicyOptions,
    strategy: Annotated[str, typer.Option(
        "--strategy", rich_help_panel=POLICY,
        help=f"Recommender: {', '.join(STRATEGIES)} (the others are baselines).")] = "rightsizer",
    plots: Annotated[int, typer.Option(
        "--plots", min=0, help="html: pictures for every container of a small cluster, else this many (most risk "
        "and change first).")] = 20,
    fail_on_change: Annotated[bool, typer.Option(
        "--fail-on-change", help="Exit with code 3 when any change is recommended (a CI gate).")] = False,
    prices: PricingOptions,
    connection: ConnectionOptions,
    run: RunOptions,
) -> None:
    """Recommend CPU and memory requests and limits for every container in scope.

    Examples:

      rightsizer report --demo

      rightsizer report --prometheus-url http://localhost:9090 -n 'shop|payments' -o json --output recs.json

    Credentials come from the environment: RIGHTSIZER_PROMETHEUS_TOKEN (or _TOKEN_FILE), or
    RIGHTSIZER_PROMETHEUS_USER with RIGHTSIZER_PROMETHEUS_PASSWORD (or _PASSWORD_FILE).
    """
    setup_logging(run.verbose)
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="'-o' / '--format'")
    policies = policy.policies()
    parts = history_parts(SourceFlags(prometheus, connection, offline, scope, grid, run), window.seconds(),
                          find(strategy).needs)
    history = None
    if fmt == "html":  # its pictures need the samples: hold them all
        parts = iter([history := ClusterHistory.combine(parts)])
    recs = recommend_priced(parts, prices.pricing(), policies, strategy)
    if output is not None:
        emit(render(recs, fmt, history, plots), output, f" ({len(recs)} containers)")
    elif fmt == "table":
        Console(width=None if sys.stdout.isatty() else 200).print(build_table(recs))
        note = dropped_note(recs.dropped) + missing_note(recs.missing)
        if note:
            say(note, end="")
    else:
        sys.stdout.write(render(recs, fmt, history, plots))
    if fail_on_change and any(r.changed for r in recs):
        say(f"{sum(r.changed for r in recs)} containers would change (--fail-on-change)")
        raise typer.Exit(EXIT_CHANGES)
