"""One `report` run in this process, by stage, with the requests it sent recorded for the floor.

Run by bench/run.py; prints one JSON line.  The headline figures come from the real CLI
in a fresh process (bench/run.py); this run splits the time into fetching and the rest
and writes the exact requests to ``--record`` so bench/floor.py can replay them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rightsizer.recommend import find, recommend
from rightsizer.report import render
from rightsizer.sources.client import PrometheusClient, PrometheusSettings
from rightsizer.sources.prometheus import FetchOptions, load_prometheus_history


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--step", type=float, default=300)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    settings = PrometheusSettings(args.url)
    client = PrometheusClient(settings, record=True)
    options = FetchOptions(window=args.window, step=args.step, end=args.end, needs=find("rightsizer").needs)
    history = load_prometheus_history(settings, options, client=client)
    fetched = time.perf_counter()
    render(recommend(history), "json")
    done = time.perf_counter()
    args.record.write_text(json.dumps(client.sent))
    print(json.dumps({
        "containers": len(history),
        "pods": len({(key.namespace, pod) for key, ch in history.containers.items() for pod in ch.pods}),
        "fetch_s": fetched - started,
        "recommend_s": done - fetched,
    }))


if __name__ == "__main__":
    main()
