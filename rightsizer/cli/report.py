"""``rightsizer report``: recommendations for every container in scope."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from rightsizer.api import recommend_priced
from rightsizer.history import ClusterHistory
from rightsizer.notify import notify
from rightsizer.recommend import STRATEGIES, find
from rightsizer.recommend.model import RecommendationSet
from rightsizer.report import find as find_renderer
from rightsizer.report import formats

from .app import EXIT_CHANGES
from .console import check_format, emit, say, setup_logging
from .options import (
    POLICY,
    PolicyOptions,
    PricingOptions,
    SourceFlags,
    WindowOptions,
    history_parts,
)


def report(
    *,
    source: SourceFlags,
    window: WindowOptions,
    fmt: Annotated[str, typer.Option(
        "-o", "--format", help=f"Output format: {', '.join(formats(RecommendationSet))}.")] = "table",
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
    notify_to: Annotated[str | None, typer.Option("--notify", help="Post a summary to slack or teams (webhook "
                         "URL from RIGHTSIZER_SLACK_WEBHOOK_URL or RIGHTSIZER_TEAMS_WEBHOOK_URL).")] = None,
    prices: PricingOptions,
) -> None:
    """Recommend CPU and memory requests and limits for every container in scope.

    Examples:

      rightsizer report --demo

      rightsizer report --prometheus-url http://localhost:9090 -n 'shop|payments' -o json --output recs.json

    Credentials come from the environment: RIGHTSIZER_PROMETHEUS_TOKEN (or _TOKEN_FILE), or
    RIGHTSIZER_PROMETHEUS_USER with RIGHTSIZER_PROMETHEUS_PASSWORD (or _PASSWORD_FILE).
    """
    setup_logging(source.run.verbose)
    check_format(RecommendationSet, fmt)
    policies = policy.policies()
    needs = find(strategy).needs
    if find_renderer(RecommendationSet, fmt).needs_history:  # its pictures show the step's mean CPU too
        needs = replace(needs, cpu_mean=True)
    parts = history_parts(source, window.seconds(), needs)
    history = None
    if find_renderer(RecommendationSet, fmt).needs_history:  # html's pictures need the samples: hold them all
        parts = iter([history := ClusterHistory.combine(parts)])
    recs = recommend_priced(parts, prices.pricing(), policies, strategy)
    emit(recs, fmt, output, f" ({len(recs)} containers)", history=history, plots=plots)
    if notify_to:
        notify(recs, notify_to)
    if fail_on_change and any(r.changed for r in recs):
        say(f"{sum(r.changed for r in recs)} containers would change (--fail-on-change)")
        raise typer.Exit(EXIT_CHANGES)
