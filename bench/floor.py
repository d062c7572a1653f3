"""The PromQL floor: how long Prometheus alone takes to answer the queries a report sends.

The report's own requests (recorded by ``PrometheusClient(record=True)``) are replayed
as they were sent (same API paths, form bodies and parameters, no compression), with
plain HTTP and no parsing: what remains is Prometheus' evaluation, its JSON encoding
and the transfer.  The fastest of a few concurrency levels is the floor.

    python bench/floor.py URL QUERIES.json [--concurrency 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests


def replay(url: str, sent: list[tuple[str, dict[str, str]]], concurrency: int) -> tuple[float, int]:
    """(wall seconds, bytes received) to answer every request with ``concurrency`` in flight."""
    session = requests.Session()
    session.headers["Accept-Encoding"] = "identity"
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
    session.mount("http://", adapter)

    def one(request: tuple[str, dict[str, str]]) -> int:
        path, form = request
        response = session.post(url.rstrip("/") + path, data=form, timeout=600)
        response.raise_for_status()
        return len(response.content)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        received = sum(pool.map(one, sent))
    return time.perf_counter() - began, received


def floor(url: str, sent: list[tuple[str, dict[str, str]]], levels: tuple[int, ...] = (1, 2, 4)
          ) -> tuple[float, int]:
    """(the fastest wall time over the concurrency levels, that level)."""
    times = {level: replay(url, sent, level)[0] for level in levels}
    best = min(times, key=lambda level: times[level])
    return times[best], best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("queries", type=Path)
    parser.add_argument("--concurrency", default="1,2,4")
    args = parser.parse_args()
    sent = [tuple(x) for x in json.loads(args.queries.read_text())]
    seconds, level = floor(args.url, sent, tuple(int(x) for x in args.concurrency.split(",")))  # type: ignore[arg-type]
    print(json.dumps({"floor_s": seconds, "concurrency": level, "queries": len(sent)}))


if __name__ == "__main__":
    main()
