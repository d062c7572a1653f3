"""The entry points the CLI and notebooks share: where history comes from."""

from __future__ import annotations

from pathlib import Path

from rightsizer.errors import RightsizerError, SnapshotError
from rightsizer.history import ClusterHistory
from rightsizer.scope import Scope
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, Progress, load_prometheus_history
from rightsizer.sources.snapshot import load_snapshot, save_snapshot


def _demo_snapshot() -> Path:
    """The bundled demo: inside the installed package, or in fixtures/ of a source checkout."""
    packaged = Path(__file__).parent / "data" / "demo-cluster.parquet"
    return packaged if packaged.exists() else Path(__file__).parent.parent / "fixtures" / "demo-cluster.parquet"


DEMO_SNAPSHOT = _demo_snapshot()


def load_history(
    *,
    prometheus_url: str | None = None,
    snapshot: str | Path | None = None,
    demo: bool = False,
    settings: PrometheusSettings | None = None,
    options: FetchOptions | None = None,
    scope: Scope | None = None,
    progress: Progress | None = None,
) -> ClusterHistory:
    """Load history from exactly one source: a Prometheus URL (or ``settings``), a snapshot, or the demo.

    >>> h = load_history(demo=True)
    >>> len(h) > 10
    True
    """
    chosen = [name for name, given in (("a Prometheus URL", prometheus_url or settings),
                                        ("a snapshot", snapshot), ("the demo", demo)) if given]
    if len(chosen) != 1:
        raise RightsizerError(
            "choose one source: --prometheus-url URL (or RIGHTSIZER_PROMETHEUS_URL), --snapshot FILE, or --demo"
            + (f" (got {' and '.join(chosen)})" if chosen else "")
        )
    scope = scope or Scope()
    if prometheus_url or settings:
        return load_prometheus_history(settings or PrometheusSettings(str(prometheus_url)), options, scope, progress)
    path = Path(snapshot) if snapshot else DEMO_SNAPSHOT
    if demo and not path.exists():
        raise SnapshotError(f"the demo snapshot is missing at {path}: regenerate it with "
                            "python scripts/make-demo-snapshot.py")
    history = scope.apply(load_snapshot(path))
    if not history.containers:
        raise RightsizerError(f"no container in {path.name} matches {scope.describe()}")
    return history


__all__ = ["DEMO_SNAPSHOT", "load_history", "save_snapshot"]
