"""What each way of reading CPU at the scrape interval costs Prometheus, on one synthetic cluster.

    python bench/cpu_query_cost.py [--containers 0] [--days 2] [--repeat 7]

Runs each CPU query over the whole window at the report's 5-minute step and prints the
median of Prometheus' own evaluation time (``stats=all``), the series and the bytes
answered: the step's mean rate (what the report read before), the rate of each step's
last scrape interval (what it reads now), and the highest interval of each step (a
subquery at the scrape interval, weighed and left).  ``--containers 0`` is the curated
test cluster; its TSDB is cached like the tests' (``~/.cache/rightsizer/tsdb``).
"""

from __future__ import annotations

import argparse
import statistics

import requests

from rightsizer.sources import queries as q
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb

END = 1_790_000_000
STEP = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=0)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cluster = SyntheticCluster.generate(containers=args.containers or None, days=args.days, end=END, seed=1)
    scrape = cluster.spec.scrape_interval
    selector = f"container_cpu_usage_seconds_total{{{q.CONTAINERS_ONLY}}}"
    fine = f"irate({selector}[{2 * scrape}s])"
    queries = {
        "step's mean rate (before)": q.cpu_usage(q.Matchers(), STEP),
        "last scrape interval of each step (now)": q.cpu_scrape(q.Matchers(), scrape),
        "highest scrape interval of each step (subquery)": f"max_over_time({fine}[{STEP - 1}s:{scrape}s])",
    }
    start = END - (args.days - 1) * 86_400
    print("| CPU query | Prometheus evaluation, median (ms) | fastest (ms) | series | MB answered |")
    print("|---|---:|---:|---:|---:|")
    with PrometheusServer(build_tsdb(cluster)) as server:
        for name, query in queries.items():
            times = []
            for _ in range(args.repeat):
                answer = requests.post(f"{server.url}/api/v1/query_range", timeout=600,
                                       data={"query": query, "start": start, "end": END, "step": STEP, "stats": "all"},
                                       headers={"Accept-Encoding": "identity"})
                times.append(answer.json()["data"]["stats"]["timings"]["evalTotalTime"] * 1000)
            print(f"| {name} | {statistics.median(times):.0f} | {min(times):.0f} | "
                  f"{len(answer.json()['data']['result'])} | {len(answer.content) / 1e6:.1f} |")


if __name__ == "__main__":
    main()
