"""Benchmark `rightsizer report` against a real Prometheus holding synthetic clusters of several sizes.

    python bench/run.py [--containers 50,100] [--days 2] [--repeat 3]

For each size: generate and backfill the cluster (cached by generator version and spec,
the build time is shown only when it was built now), start Prometheus on 127.0.0.1, run
the report in a fresh process `--repeat` times and keep the median, and read
Prometheus' own peak RSS.  Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rightsizer.sources.synthetic import SyntheticCluster
from rightsizer.testbed import PrometheusServer, build_tsdb, cache_key, default_cache_dir

END = 1_790_000_000  # fixed, so the cached TSDBs are reused between runs
HERE = Path(__file__).resolve().parent


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 2**20
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", default="50,100")
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in (int(x) for x in args.containers.split(",")):
        cluster = SyntheticCluster.generate(containers=n, days=args.days, end=END, seed=7)
        cached = (default_cache_dir() / cache_key(cluster) / "complete").exists()
        began = time.perf_counter()
        tsdb = build_tsdb(cluster)
        build = time.perf_counter() - began
        with PrometheusServer(tsdb) as server:
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, str(HERE / "measure_report.py"), "--url", server.url,
                     "--window", str(args.days * 86_400 - 300), "--end", str(END)],
                    capture_output=True, text=True, check=True,
                )
                runs.append(json.loads(out.stdout))
            prom_rss = peak_rss_mb(server.process.pid) if server.process else float("nan")
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((n, median, prom_rss, None if cached else build))
        print(f"{n} containers: {median['total_s']:.2f}s", file=sys.stderr)
    print(f"Machine: {machine()}. History: {args.days:g} days at a 60 s scrape interval, "
          f"report at 5-minute steps; median of {args.repeat} runs.\n")
    print("| containers | samples | report wall (s) | of which fetch (s) | queries | MB received "
          "| report peak RSS (MB) | Prometheus peak RSS (MB) | backfill (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, m, prom_rss, build in rows:
        built = f"{build:.0f}" if build is not None else "cached"
        print(f"| {n} | {m['samples']:,.0f} | {m['total_s']:.2f} | {m['fetch_s']:.2f} | {m['queries']:.0f} "
              f"| {m['bytes'] / 1e6:.1f} | {m['peak_rss_mb']:.0f} | {prom_rss:.0f} | {built} |")


if __name__ == "__main__":
    main()
