"""Accuracy: backtest the default policy against the baselines on a large seeded synthetic cluster.

    python bench/accuracy.py [--containers 300] [--days 21] [--seeds 5,6] [--margins rules]

Each strategy is trained on the first 14 days of what Prometheus would have shown (usage
capped by CPU limits, peaks cut by OOMKills) and scored on the last 7 days of what the
containers really wanted (the generator's demand, CPU at the 60 s scrape interval), so a
strategy that copies a capped figure is caught.  Prints a Markdown table per seed for docs/benchmarks.md, and the bar:
fewer would-OOM containers than either baseline (at most 0.5%), at most 3% of containers
with test p95 CPU above the request, and less requested memory than max-plus-15.  Then the same on real traces
(bench/realtrace.py: the Bitbrains VMs, with their own bar).  ``--margins rules`` scores the
rules that decide where memory margins cannot be learned, on both.
"""

from __future__ import annotations

import argparse
import sys
import time

import realtrace  # bench/realtrace.py: the real-trace part

from rightsizer.backtest import backtest, split
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.units import DAY

END = 1_790_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=300)
    parser.add_argument("--days", type=float, default=21)
    parser.add_argument("--test-days", type=float, default=7)
    parser.add_argument("--seeds", default="5,6,7")
    parser.add_argument("--margins", choices=("learned", "rules"), help="memory.margins for rightsizer (default: "
                        "the policy's)")
    args = parser.parse_args()
    memory = {"margins": args.margins} if args.margins else None
    policies = realtrace.policies(memory)
    failures = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        began = time.perf_counter()
        cluster = SyntheticCluster.generate(containers=args.containers, days=args.days, end=END, seed=seed)
        train_days = args.days - args.test_days
        train, _ = split(cluster.history(), train_days * DAY, args.test_days * DAY)
        # scored at the scrape interval: a request must cover demand at the resolution the cluster is scraped at
        scrape = cluster.spec.scrape_interval
        _, test = split(cluster.history(step=scrape, observed=False), train_days * DAY, args.test_days * DAY)
        summary = backtest(train, test, policies=policies).summary.set_index("strategy")
        elapsed = time.perf_counter() - began
        print(f"\nSeed {seed}: {args.containers} containers, trained on {train_days:g} days, tested on "
              f"{args.test_days:g} days of demand ({elapsed:.0f} s).\n")
        print("| strategy | would-OOM containers | % | CPU p95 > request | % | requested cores | requested GiB "
              "| slack cores | slack GiB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, row in summary.iterrows():
            print(f"| {name} | {row.would_oom_containers:.0f} | {row.would_oom_pct:.2f} | "
                  f"{row.cpu_p95_above_request:.0f} | {row.cpu_above_request_pct:.1f} | {row.requested_cores:,.1f} | "
                  f"{row.requested_gib:,.1f} | {row.slack_cores:,.1f} | {row.slack_gib:,.1f} |")
        ours = summary.loc["rightsizer"]
        checks = {
            "fewer would-OOM than each baseline (or none)": all(
                ours.would_oom_containers < summary.loc[b].would_oom_containers or ours.would_oom_containers == 0
                for b in ("max-plus-15", "vpa-like")),
            "would-OOM <= 0.5%": ours.would_oom_pct <= 0.5,
            "CPU p95 above request <= 3%": ours.cpu_above_request_pct <= 3,
            "memory below max-plus-15": ours.requested_gib < summary.loc["max-plus-15"].requested_gib,
        }
        print()
        for name, ok in checks.items():
            print(f"- {'met' if ok else 'MISSED'}: {name}")
            failures += not ok
    failures += realtrace.report(realtrace.TRACES, weeks=5, memory=memory)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
