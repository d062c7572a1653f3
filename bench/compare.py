"""Compare checkouts of rightsizer head to head: their reports run in turn against one Prometheus.

    python bench/compare.py CHECKOUT [CHECKOUT ...] [--containers 2000] [--rounds 3]

On a shared machine the speed drifts within the hour by more than most changes are
worth, so a version measured today cannot be compared with a figure of another day.
Here every round runs each checkout's ``rightsizer report`` once (``python -m rightsizer``
from its own directory, as ``bench/run.py --before`` does), one after the other against
the same Prometheus and the same benchmark cluster, and the medians are compared: the
wall, the report's own CPU (what it adds to Prometheus' work, the steadier figure) and
Prometheus' CPU during it (different versions send different queries).

Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from run import cluster_of, run_cli, window_of

from rightsizer.testing.testbed import PrometheusServer, build_tsdb

_FIGURES = ("wall_s", "cpu_s", "prometheus_cpu_s", "peak_rss_mb", "queries", "mb")


def compare(checkouts: list[Path], containers: int, days: float, rounds: int, workers: int
            ) -> dict[Path, list[dict[str, float]]]:
    """Each checkout's runs, in the order they ran (a round runs every checkout once)."""
    tsdb = build_tsdb(cluster_of(containers, days), workers=workers)
    window = window_of(days)
    runs: dict[Path, list[dict[str, float]]] = {c: [] for c in checkouts}
    with PrometheusServer(tsdb) as server, tempfile.TemporaryDirectory() as tmp:
        pid = server.process.pid if server.process else None
        for _ in range(rounds):
            for i, checkout in enumerate(checkouts):
                runs[checkout].append(run_cli(server.url, window, Path(tmp) / f"{i}.json", checkout, pid))
    return runs


def table(runs: dict[Path, list[dict[str, float]]], labels: list[str]) -> str:
    lines = [("| checkout | report wall (s) | report CPU (s) | Prometheus CPU (s) | peak RSS (MB) | queries "
              "| MB received | walls of the runs (s) |"),
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for label, rows in zip(labels, runs.values(), strict=True):
        median = {k: statistics.median(r[k] for r in rows) for k in _FIGURES}
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in rows)
        lines.append(f"| {label} | {median['wall_s']:.1f} | {median['cpu_s']:.1f} | "
                     f"{median['prometheus_cpu_s']:.1f} | {median['peak_rss_mb']:.0f} | {median['queries']:.0f} | "
                     f"{median['mb']:,.0f} | {walls} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="source trees to run (this one: .)")
    parser.add_argument("--containers", type=int, default=2000)
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes building the cluster when not cached")
    args = parser.parse_args()
    missing = [str(c) for c in args.checkouts if not (c / "rightsizer" / "__main__.py").is_file()]
    if missing:
        parser.error(f"not a rightsizer checkout (no rightsizer/__main__.py): {', '.join(missing)}")
    checkouts = [c.resolve() for c in args.checkouts]
    if len(set(checkouts)) != len(checkouts):
        parser.error("each checkout once: the same tree twice would be compared with itself")
    runs = compare(checkouts, args.containers, args.days, args.rounds, args.workers)
    rounds = f"{args.rounds} round{'s' if args.rounds != 1 else ''}"
    print(f"{args.containers:,} containers x {args.days:g} days, {rounds}, medians:\n")
    print(table(runs, [str(c) for c in args.checkouts]))


if __name__ == "__main__":
    main()
