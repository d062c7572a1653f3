"""The entry points the CLI and notebooks share: where history comes from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from rightsizer.config import PolicySet
from rightsizer.cost.pricing import Pricing
from rightsizer.errors import RightsizerError, SnapshotError
from rightsizer.history import ClusterHistory
from rightsizer.recommend import RecommendationSet, recommend_parts
from rightsizer.scope import Scope
from rightsizer.sources.client import PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, Progress, iter_prometheus_history
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
    return ClusterHistory.combine(iter_history(prometheus_url=prometheus_url, snapshot=snapshot, demo=demo,
                                               settings=settings, options=options, scope=scope, progress=progress))


def iter_history(
    *,
    prometheus_url: str | None = None,
    snapshot: str | Path | None = None,
    demo: bool = False,
    settings: PrometheusSettings | None = None,
    options: FetchOptions | None = None,
    scope: Scope | None = None,
    progress: Progress | None = None,
) -> Iterator[ClusterHistory]:
    """:func:`load_history` in parts of whole workloads (``options.batch_pods`` pods each, from Prometheus;
    a snapshot is one part), for runs whose memory must not grow with the cluster.

    >>> sum(len(part) for part in iter_history(demo=True)) == len(load_history(demo=True))
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
        yield from iter_prometheus_history(settings or PrometheusSettings(str(prometheus_url)), options, scope,
                                           progress)
        return
    path = Path(snapshot) if snapshot else DEMO_SNAPSHOT
    if demo and not path.exists():
        raise SnapshotError(f"the demo snapshot is missing at {path}: regenerate it with "
                            "python scripts/make-demo-snapshot.py")
    history = scope.apply(load_snapshot(path))
    if not history.containers:
        raise RightsizerError(f"no container in {path.name} matches {scope.describe()}")
    yield history


def recommend_priced(parts: Iterable[ClusterHistory], pricing: Pricing, policies: PolicySet | None = None,
                     strategy: str = "rightsizer") -> RecommendationSet:
    """Recommendations with their monthly costs, now and recommended, one part of the cluster in memory at a
    time: each part is priced on the nodes it ran on while it is still held.

    >>> recs = recommend_priced(iter_history(demo=True), Pricing.bundled())
    >>> recs.pricing.startswith("prices from")
    True
    """
    recs = recommend_parts(parts, policies, strategy=strategy, each=lambda part_recs, part: pricing.price(part_recs,
                                                                                                          part))
    recs.pricing = pricing.describe()
    return recs


__all__ = ["DEMO_SNAPSHOT", "iter_history", "load_history", "recommend_priced", "save_snapshot"]
