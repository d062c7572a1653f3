"""``rightsizer snapshot``: record a cluster's history into one Parquet file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.needs import EVERY_STEP
from rightsizer.report.table import missing_note
from rightsizer.sources.snapshot import save_snapshot

from .console import say, setup_logging
from .options import (
    ConnectionOptions,
    GridOptions,
    OfflineOptions,
    PrometheusOptions,
    RunOptions,
    ScopeOptions,
    SourceFlags,
    WindowOptions,
    history_parts,
)


def snapshot(
    *,
    output: Annotated[Path, typer.Option("-o", "--output", help="Parquet file to write (atomically).")],
    prometheus: PrometheusOptions,
    scope: ScopeOptions,
    window: WindowOptions,
    grid: GridOptions,
    connection: ConnectionOptions,
    run: RunOptions,
) -> None:
    """Record a cluster's history from Prometheus into one Parquet file, for offline runs and notebooks.

    Example:

      rightsizer snapshot --prometheus-url http://localhost:9090 --window 14d -o cluster.parquet
    """
    setup_logging(run.verbose)
    if not prometheus.prometheus_url:
        raise RightsizerError("snapshot records from Prometheus: pass --prometheus-url URL "
                              "(or set RIGHTSIZER_PROMETHEUS_URL)")
    history = ClusterHistory.combine(history_parts(
        SourceFlags(prometheus, OfflineOptions(), scope, grid, connection, run), window.seconds(), EVERY_STEP))
    save_snapshot(history, output)
    say(f"wrote {output}: {len(history)} containers, {history.describe_window()}")
    if history.missing:
        say(missing_note(history.missing), end="")
