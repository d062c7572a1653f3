"""``rightsizer backtest``: recommend from one window, replay the next, compare with the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.backtest import Backtest, split
from rightsizer.backtest import backtest as run_backtest
from rightsizer.history import ClusterHistory
from rightsizer.needs import EVERY_STEP
from rightsizer.recommend import STRATEGIES
from rightsizer.timeparse import parse_duration

from .console import check_format, emit, listed, setup_logging
from .options import (
    POLICY,
    TIME,
    PolicyOptions,
    SourceFlags,
    history_parts,
)


def backtest(
    *,
    source: SourceFlags,
    train: Annotated[str, typer.Option("--train", rich_help_panel=TIME, help="Training window, e.g. 14d.")] = "10d",
    test: Annotated[str, typer.Option("--test", rich_help_panel=TIME, help="Test window after it, e.g. 7d.")] = "4d",
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", rich_help_panel=POLICY,
        help=f"Strategies to compare (repeatable; default all: {', '.join(STRATEGIES)}).")] = None,
    fmt: Annotated[str, typer.Option("-o", "--format", help=f"{listed(Backtest)}.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="Write the result to FILE (atomically).")] = None,
    policy: PolicyOptions,
) -> None:
    """Recommend from a training window, replay the window after it, and compare with baseline strategies.

    Counts the containers that would have been OOMKilled, the CPU used above the request, and
    what each strategy requests. The demo holds 14 days: the defaults train on 10 and test on 4.

    Examples:

      rightsizer backtest --demo

      rightsizer backtest --prometheus-url http://localhost:9090 --train 14d --test 7d -o json
    """
    setup_logging(source.run.verbose)
    check_format(Backtest, fmt)
    policies = policy.policies()
    train_s, test_s = parse_duration(train, flag="--train"), parse_duration(test, flag="--test")
    history = ClusterHistory.combine(history_parts(source, train_s + test_s, EVERY_STEP))
    training, testing = split(history, train_s, test_s)
    result = run_backtest(training, testing, tuple(strategy or STRATEGIES), policies)
    emit(result, fmt, output)
