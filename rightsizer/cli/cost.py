"""``rightsizer cost``: what the workloads cost now and right-sized, on demand and with spot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.cost.estimate import UTILIZATION, CostReport, estimate_cost
from rightsizer.history import ClusterHistory
from rightsizer.recommend import find, recommend

from .console import check_format, emit, listed, setup_logging
from .options import (
    PolicyOptions,
    PricingOptions,
    SourceFlags,
    WindowOptions,
    history_parts,
)


def cost(
    *,
    source: SourceFlags,
    window: WindowOptions,
    prices: PricingOptions,
    repo: Annotated[Path | None, typer.Option(
        "--repo", help="GitOps checkout: its manifests tell local storage, disruption budgets, overrides.")] = None,
    utilization: Annotated[float | None, typer.Option(
        "--utilization", min=0.1, max=1.0, help="How full nodes are planned (default by profile: 0.9/0.8/0.7).")
    ] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help=f"{listed(CostReport)}.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write to FILE (atomically).")] = None,
    policy: PolicyOptions,
) -> None:
    """What the workloads cost now and right-sized, and how much less with spot instances (and at what risk).

    Examples:

      rightsizer cost --demo

      rightsizer cost --prometheus-url http://localhost:9090 --region eu-west-1 --repo ./gitops -o json
    """
    setup_logging(source.run.verbose)
    check_format(CostReport, fmt)
    policies = policy.policies()
    history = ClusterHistory.combine(history_parts(
        source, window.seconds(), find("rightsizer").needs))
    recs = recommend(history, policies)
    fill = utilization if utilization is not None else UTILIZATION[policies.profile]
    estimate = estimate_cost(history, recs, prices.load_catalog(), prices.region, prices.instance_type, repo, fill)
    emit(estimate, fmt, output)
