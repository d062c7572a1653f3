"""One measured `report` run in a fresh process: wall time, peak RSS, queries and bytes.

Run by bench/run.py; prints one JSON line.  A fresh process per run keeps the peak RSS
the report's own, not the benchmark harness'.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from rightsizer.recommend import recommend
from rightsizer.report import render
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, load_prometheus_history


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--step", type=float, default=300)
    parser.add_argument("--end", type=float, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    settings = PrometheusSettings(args.url)
    client = PrometheusClient(settings)
    history = load_prometheus_history(settings, FetchOptions(window=args.window, step=args.step, end=args.end),
                                      client=client)
    fetched = time.perf_counter()
    render(recommend(history), "json")
    done = time.perf_counter()
    print(json.dumps({
        "containers": len(history),
        "samples": sum(len(ch.samples) for ch in history),
        "fetch_s": fetched - started,
        "total_s": done - started,
        "queries": client.queries,
        "bytes": client.bytes_received,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
