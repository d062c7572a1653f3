"""Benchmark `rightsizer report` end to end against a real Prometheus holding synthetic clusters.

    python bench/run.py [--containers 200,1000,2000] [--days 14] [--repeat 3] [--workers 2]

For each size: generate and backfill the cluster (cached by generator version and spec;
the build time is shown only when it was built now), start Prometheus on 127.0.0.1, and

1. run the report once in this package's own measuring script, which records the exact
   requests it sends (and warms Prometheus' page cache, as a server in use has it);
2. replay those requests with plain HTTP (bench/floor.py): the PromQL floor;
3. run the real CLI, ``rightsizer report ... -o json --output FILE``, ``--repeat`` times in
   a fresh process and keep the median wall time, peak RSS and CPU seconds (the child's
   ``ru_maxrss``, ``ru_utime + ru_stime``) and the CPU Prometheus used meanwhile (from
   ``/proc``); queries and bytes come from its ``--verbose`` log.  After each run but the
   first, the floor is replayed again at the concurrency found fastest: the machine's speed drifts,
   so each run is compared with a floor measured next to it, and "wall / floor" is the
   median of those ratios;
4. read Prometheus' own peak RSS (``VmHWM``).

Prints Markdown for docs/benchmarks.md, and draws time and memory against containers
to ``--chart`` (PNG) when it is given: a run of one size must not replace the chart of
three that the docs show (``make bench`` draws it there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from floor import floor, replay

from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.testing.testbed import PrometheusServer, build_tsdb, builds_on, cache_key, default_cache_dir

END = 1_790_000_000  # fixed, so the cached TSDBs are reused between runs
HERE = Path(__file__).resolve().parent
_FETCH_LOG = re.compile(r"read (\d+) containers with (\d+) queries, ([\d.]+) MB")


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


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cli(url: str, window: str, out: Path, source: Path | None = None, server_pid: int | None = None
            ) -> dict[str, float]:
    """One `rightsizer report` in a fresh process: wall seconds, peak RSS, its CPU seconds and
    (``server_pid``) Prometheus' during it, queries and MB from its log.

    On two cores both processes share the machine: the wall is about the sum of their CPU
    over two, so the report's own CPU is what it adds to Prometheus' work, a steadier
    figure than the wall when the machine's speed drifts.  ``source`` runs the report of
    another checkout (``python -m rightsizer`` from there), for the before/after table.
    """
    cli = [str(Path(sys.executable).with_name("rightsizer"))] if source is None else \
        [sys.executable, "-m", "rightsizer"]
    command = [*cli, "report", "--prometheus-url", url, "--window", window, "--end", str(END),
               "-o", "json", "--output", str(out), "--quiet", "--verbose"]
    env = dict(os.environ, PYTHONPATH=str(source)) if source is not None else None
    log = out.with_suffix(".log")
    server_before = cpu_seconds(server_pid) if server_pid else float("nan")
    began = time.perf_counter()
    with open(log, "w") as err:
        # from the checkout's own directory: `python -m` puts the working directory first on sys.path
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=source)
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage: its peak RSS, nobody else's
    wall = time.perf_counter() - began
    server_cpu = cpu_seconds(server_pid) - server_before if server_pid else float("nan")
    stderr = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"report failed:\n{stderr[-3000:]}")
    match = _FETCH_LOG.search(stderr)
    errors = stderr.count("retrying in") + stderr.count("leaving out")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "prometheus_cpu_s": server_cpu, "containers": float(match[1]) if match else 0,
            "queries": float(match[2]) if match else stderr.count(" series in "),
            "mb": float(match[3]) if match else float("nan"), "errors": float(errors)}


def window_of(days: float) -> str:
    """The report's ``--window`` for a cluster of ``days``: its whole history but the first step."""
    return f"{int(days * 86_400 - 300)}s"


def cluster_of(n: int, days: float) -> SyntheticCluster:
    """The benchmark cluster of ``n`` containers (whole days as an int: the cache key is the spec's repr)."""
    return SyntheticCluster.generate(containers=n, days=int(days) if float(days).is_integer() else days, end=END,
                                     seed=7)


def measure(n: int, days: float, repeat: int, workers: int, smaller: SyntheticCluster | None,
            before: Path | None, levels: tuple[int, ...]) -> dict[str, float | str]:
    cluster = cluster_of(n, days)
    cached = (default_cache_dir() / cache_key(cluster) / "complete").exists()
    began = time.perf_counter()
    # the same seed for more containers begins with the smaller cluster's workloads: build on its blocks
    base = smaller if smaller is not None and builds_on(cluster, smaller) else None
    tsdb = build_tsdb(cluster, workers=workers, extends=base)
    build = time.perf_counter() - began
    window = window_of(days)
    with PrometheusServer(tsdb) as server, tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "queries.json"
        stages = json.loads(subprocess.run(
            [sys.executable, str(HERE / "measure_report.py"), "--url", server.url, "--window", window[:-1],
             "--end", str(END), "--record", str(record)],
            capture_output=True, text=True, check=True).stdout)
        sent = [tuple(x) for x in json.loads(record.read_text())]
        floor_s, level = floor(server.url, sent, levels)  # type: ignore[arg-type]
        # the machine's speed drifts within the hour: each run is paired with a floor measured next to it
        runs, floors = [], [floor_s]
        server_pid = server.process.pid if server.process else None
        for i in range(repeat):
            runs.append(run_cli(server.url, window, Path(tmp) / "report.json", server_pid=server_pid))
            if i:
                floors.append(replay(server.url, sent, level)[0])  # type: ignore[arg-type]
        first = run_cli(server.url, window, Path(tmp) / "before.json", before, server_pid) if before else None
        prom_rss = peak_rss_mb(server_pid) if server_pid else float("nan")
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratios = [r["wall_s"] / f for r, f in zip(runs, floors, strict=True)]
    ratio = statistics.median(ratios)
    print(f"{n} containers: {median['wall_s']:.1f}s (floor {statistics.median(floors):.1f}s; each run over its "
          f"own floor: {', '.join(f'{x:.2f}' for x in ratios)}), {median['peak_rss_mb']:.0f} MB", file=sys.stderr)
    return {**median, "containers": n, "pods": stages["pods"],
            "fetch_s": stages["fetch_s"], "recommend_s": stages["recommend_s"],
            "floor_s": statistics.median(floors), "ratio": ratio,
            "floor_concurrency": level, "prometheus_rss_mb": prom_rss,
            "build": "cached" if cached else f"{build:.0f}",
            "before_wall_s": first["wall_s"] if first else float("nan"),
            "before_rss_mb": first["peak_rss_mb"] if first else float("nan"),
            "before_cpu_s": first["cpu_s"] if first else float("nan")}


def table(rows: list[dict[str, float | str]], days: float, repeat: int) -> str:
    lines = [(f"Machine: {machine()}. History: {days:g} days at a 60 s scrape interval, report at 5-minute "
              f"steps; median of {repeat} runs."), "",
             ("| containers | pods | report wall (s) | PromQL floor (s) | wall / floor | report CPU (s) "
              "| Prometheus CPU in the report (s) | queries | MB received "
              "| report peak RSS (MB) | Prometheus peak RSS (MB) | query errors | backfill (s) |"),
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['containers']:,} | {r['pods']:,} | {r['wall_s']:.1f} | {r['floor_s']:.1f} "
                     f"| {float(r['ratio']):.2f} | {r['cpu_s']:.1f} | {r['prometheus_cpu_s']:.1f} "
                     f"| {r['queries']:.0f} | {r['mb']:.0f} "
                     f"| {r['peak_rss_mb']:.0f} | {r['prometheus_rss_mb']:.0f} | {r['errors']:.0f} | {r['build']} |")
    lines += ["", "```", *text_chart(rows), "```"]
    if any(r["before_wall_s"] == r["before_wall_s"] for r in rows):  # not NaN: the earlier checkout was run too
        lines += ["", ("| containers | before (`--before`): wall (s) | CPU (s) | peak RSS (MB) | now: wall (s) | CPU (s) "
                       "| peak RSS (MB) |"),
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['containers']:,} | {r['before_wall_s']:.1f} | {r['before_cpu_s']:.1f} | {r['before_rss_mb']:.0f} "
                  f"| {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} |" for r in rows]
    return "\n".join(lines)


def text_chart(rows: list[dict[str, float | str]]) -> list[str]:
    """Bars of wall time and peak RSS per size, scaled to the largest."""
    out = []
    top_s = max(float(r["wall_s"]) for r in rows)
    top_mb = max(float(r["peak_rss_mb"]) for r in rows)
    for r in rows:
        s, mb = float(r["wall_s"]), float(r["peak_rss_mb"])
        out.append(f"{r['containers']:>6,} containers  time {'#' * round(40 * s / top_s):<40} {s:6.1f} s")
        out.append(f"{'':>17}  RSS  {'=' * round(40 * mb / top_mb):<40} {mb:6.0f} MB")
    return out


def chart(rows: list[dict[str, float | str]], path: Path) -> None:
    from matplotlib.figure import Figure

    n = [float(r["containers"]) for r in rows]
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(n, [float(r["wall_s"]) for r in rows], "o-", label="rightsizer report")
    left.plot(n, [float(r["floor_s"]) for r in rows], "s--", label="PromQL floor")
    left.set_xlabel("containers")
    left.set_ylabel("seconds")
    left.legend(frameon=False)
    right.plot(n, [float(r["peak_rss_mb"]) for r in rows], "o-", label="report peak RSS")
    right.plot(n, [float(r["prometheus_rss_mb"]) for r in rows], "s--", label="Prometheus peak RSS")
    right.set_xlabel("containers")
    right.set_ylabel("MB")
    right.legend(frameon=False)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", default="200,1000,2000")
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="backfill processes")
    parser.add_argument("--chart", type=Path, help="draw time and memory against containers to this PNG")
    parser.add_argument("--before", type=Path, help="a checkout of an earlier version to run once per size too")
    parser.add_argument("--floor-concurrency", default="1,2,4", help="requests in flight tried for the floor")
    args = parser.parse_args()
    rows = []
    smaller = None
    for n in sorted(int(x) for x in args.containers.split(",")):
        levels = tuple(int(x) for x in args.floor_concurrency.split(","))
        rows.append(measure(n, args.days, args.repeat, args.workers, smaller, args.before, levels))
        smaller = cluster_of(n, args.days)
    print(table(rows, args.days, args.repeat))
    if args.chart is not None:
        chart(rows, args.chart)


if __name__ == "__main__":
    main()
