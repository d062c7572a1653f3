"""Accuracy on real traces: the Bitbrains "rnd" VMs (GWA-T-12, August 2013), each VM taken as one container.

    python bench/realtrace.py [--traces ../shared/realworld/traces/bitbrains-rnd-2013-8] [--test-days 7]

Every strategy is trained on all but the last ``--test-days`` days and replayed on them,
scored as ``rightsizer backtest`` scores a cluster, plus the oracle ratios: requested
cores over the sum of each VM's test-week p95, requested GiB over the sum of each VM's
test-week peak (1.0 is the least that would have served the test week).  The traces are
real behaviour the project's generator lacks (step changes, plateaus that end, bursts
with no daily rhythm, idle weeks, a 31-hour gap), so tuning on the generator alone shows
here.  The files are read in place, never copied into the project.

One week of 100 VMs is a small sample: a single VM more or less passing its limit moves the
count by one.  ``--weeks N`` also replays the N test weeks that end 0, 2, 4, ... days
before the end of the traces (each trained on everything before it) and prints each
week's figures and their totals, so a change is judged on several weeks, not fitted to
the last one.  ``--risk`` sets ``memory.risk`` for the frontier of margins against OOMs, and
``--margins rules`` replays the rules that decide where the margins cannot be learned.
``--train-days 14`` trains on the 14 days before each test week only: what a Prometheus
with its default 15-day retention holds, and so what most reports learn from.  ``--jitter 0.002`` also
counts the VMs whose memory limit moves when the data moves by that much noise.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rightsizer.backtest import Backtest, backtest, split
from rightsizer.config import PolicySet
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Samples, Workload
from rightsizer.units import DAY, GiB


def _traces() -> Path:
    """``../shared/realworld/`` from the project root (or from a directory above it, for a checkout kept deeper)."""
    for root in Path(__file__).resolve().parents[1:]:
        found = root.parent / "shared" / "realworld" / "traces" / "bitbrains-rnd-2013-8"
        if found.is_dir():
            return found
    return Path(__file__).resolve().parents[2] / "shared" / "realworld" / "traces" / "bitbrains-rnd-2013-8"


TRACES = _traces()
STEP = 300.0


def read_vm(path: Path) -> pd.DataFrame:
    """One VM's trace: unix seconds, cores used, working-set bytes (the header says ms; the values are seconds)."""
    with gzip.open(path, "rt") as f:
        frame = pd.read_csv(f, sep=";", skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    per_core = frame["CPU capacity provisioned [MHZ]"] / frame["CPU cores"].clip(lower=1)
    return pd.DataFrame({
        "time": frame["Timestamp [ms]"].astype(np.int64),
        "cpu": frame["CPU usage [MHZ]"] / per_core,
        "memory": frame["Memory usage [KB]"] * 1024.0,
    })


def load(traces: Path) -> ClusterHistory:
    """All VMs of ``traces`` on one 5-minute grid; each VM a Deployment with one container and one pod."""
    vms = {p.name.split(".")[0]: read_vm(p) for p in sorted(traces.glob("*.csv.gz"))}
    if not vms:
        raise SystemExit(f"no *.csv.gz traces in {traces}")
    start = min(int(v["time"].min()) for v in vms.values())
    stop = max(int(v["time"].max()) for v in vms.values())
    start = start - start % int(STEP)
    n_steps = (stop - start) // int(STEP) + 2
    containers: dict[ContainerKey, ContainerHistory] = {}
    workloads: dict = {}
    for name, vm in vms.items():
        steps = np.ceil((vm["time"].to_numpy() - start) / STEP).astype(np.int64)  # stamped with the interval's end
        frame = pd.DataFrame({"step": steps, "cpu": vm["cpu"], "memory": vm["memory"]})
        frame = frame.groupby("step").agg({"cpu": "mean", "memory": "max"}).reset_index()
        key = ContainerKey("bitbrains", "Deployment", f"vm-{name}", "main")
        samples = Samples.from_rows(np.zeros(len(frame)), frame["step"].to_numpy(),
                                    {"cpu": frame["cpu"].to_numpy(), "memory": frame["memory"].to_numpy()})
        containers[key] = ContainerHistory(key, [f"vm-{name}-0"], samples)
        workloads[key.workload_key] = Workload(key.workload_key)
    return ClusterHistory(float(start), STEP, int(n_steps), containers, workloads, source=f"traces {traces.name}")


def truth(test: ClusterHistory) -> dict[str, tuple[float, float]]:
    """Per VM (workload name), its test week's p95 cores and peak bytes: the least that would have served it."""
    out = {}
    for ch in test:
        cpu = ch.samples["cpu"][np.isfinite(ch.samples["cpu"])]
        mem = ch.samples["memory"][np.isfinite(ch.samples["memory"])]
        out[ch.key.workload] = (float(np.percentile(cpu, 95)) if len(cpu) else 0.0,
                                float(mem.max()) if len(mem) else 0.0)
    return out


def oracle(test: ClusterHistory) -> tuple[float, float]:
    """(sum of each VM's test p95 cores, sum of each VM's test peak GiB): the least that would have served."""
    least = truth(test).values()
    return sum(cores for cores, _ in least), sum(peak for _, peak in least) / GiB


def train_test(history: ClusterHistory, test_days: float = 7.0, train_days: float | None = None
               ) -> tuple[ClusterHistory, ClusterHistory]:
    """The last ``test_days`` of ``history``, and the ``train_days`` before them (all of them by default)."""
    return split(history, (train_days or history.n_steps * STEP / DAY - test_days) * DAY, test_days * DAY)


#: overrides of rightsizer's memory policy (``memory.risk``, ``memory.margins``), None for the defaults
Memory = dict[str, object] | None


def policies(memory: Memory) -> PolicySet | None:
    """rightsizer's policies with ``memory`` overriding its memory policy (None: the defaults)."""
    return PolicySet(overrides={"memory": memory}) if memory else None


def run(history: ClusterHistory, test_days: float = 7.0, memory: Memory = None, train_days: float | None = None
        ) -> tuple[Backtest, tuple[float, float], float]:
    """Backtest every strategy on the traces (trained on ``train_days`` before the test days, or all of them);
    (result, oracle cores and GiB, seconds)."""
    began = time.perf_counter()
    train, test = train_test(history, test_days, train_days)
    result = backtest(train, test, policies=policies(memory))
    return result, oracle(test), time.perf_counter() - began


def rolling(history: ClusterHistory, weeks: int, test_days: float = 7.0, memory: Memory = None,
            train_days: float | None = None) -> pd.DataFrame:
    """One row per strategy and test week: the week ending ``2 x i`` days before the end, trained on the
    ``train_days`` before it (all of them by default)."""
    per_day = round(DAY / STEP)
    rows = []
    for i in range(weeks):
        stop = history.n_steps - 2 * i * per_day
        train, test = train_test(history.window(0, stop), test_days, train_days)
        cores, gib = oracle(test)
        summary = backtest(train, test, policies=policies(memory)).summary
        for row in summary.itertuples():
            rows.append({"week ends": f"-{2 * i} d", "strategy": row.strategy,
                         "would-OOM VMs": row.would_oom_containers, "CPU p95 > request": row.cpu_p95_above_request,
                         "cores / oracle": row.requested_cores / cores, "GiB / oracle": row.requested_gib / gib})
    return pd.DataFrame(rows)


def steadiness(result: Backtest, traces: Path, jitter: float, test_days: float = 7.0, memory: Memory = None,
               train_days: float | None = None) -> tuple[int, int, float]:
    """How far rightsizer's memory limits in ``result`` move when every memory sample of the traces is multiplied
    by ``1 + jitter x N(0, 1)`` (fixed seed): (VMs moved by more than 5%, by more than 10%, the largest move).  A
    model whose values follow the noise of the data makes a weekly job propose changes nothing real asked for."""
    from rightsizer.recommend import recommend

    noisy = load(traces)  # a copy of its own: scaled in place
    rng = np.random.default_rng(1)
    for ch in noisy:
        values = ch.samples["memory"]  # a view
        values *= 1 + jitter * rng.standard_normal(len(values))
    train, _ = train_test(noisy, test_days, train_days)
    moved = {r.key: r.limits.memory for r in recommend(train, policies=policies(memory))}
    moves = np.array([abs(moved[r.key] / r.limits.memory - 1) for r in result.recommendations["rightsizer"]])
    return int((moves > 0.05).sum()), int((moves > 0.10).sum()), float(moves.max())


def rolling_table(frame: pd.DataFrame) -> list[str]:
    """The Markdown table of the rolling weeks: each week's figures per strategy, then the totals."""
    strategies = list(dict.fromkeys(frame["strategy"]))
    lines = ["| test week ends | " + " | ".join(f"{s}: OOM / CPU over / cores x / GiB x" for s in strategies) + " |",
             "|---|" + "---:|" * len(strategies)]
    for week, part in frame.groupby("week ends", sort=False):
        cells = [f"{r['would-OOM VMs']:.0f} / {r['CPU p95 > request']:.0f} / {r['cores / oracle']:.2f} / "
                 f"{r['GiB / oracle']:.2f}"
                 for _, r in part.set_index("strategy").loc[strategies].iterrows()]
        lines.append(f"| {week} | " + " | ".join(cells) + " |")
    totals = frame.groupby("strategy", sort=False).agg(oom=("would-OOM VMs", "sum"), cpu=("CPU p95 > request", "sum"),
                                                       cores=("cores / oracle", "mean"), gib=("GiB / oracle", "mean"))
    lines.append("| **all weeks** (sums; mean ratios) | " + " | ".join(
        f"**{totals.loc[s, 'oom']:.0f} / {totals.loc[s, 'cpu']:.0f} / {totals.loc[s, 'cores']:.2f} / "
        f"{totals.loc[s, 'gib']:.2f}**"
        for s in strategies) + " |")
    return lines


def table(result: Backtest, floor: tuple[float, float]) -> list[str]:
    """The Markdown table of docs/benchmarks.md."""
    cores, gib = floor
    lines = [("| strategy | would-OOM VMs | test p95 CPU > request | requested cores | / oracle | requested GiB "
             "| / oracle |"), "|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in result.summary.set_index("strategy").iterrows():
        lines.append(f"| {name} | {row.would_oom_containers:.0f} | {row.cpu_p95_above_request:.0f} | "
                     f"{row.requested_cores:,.1f} | {row.requested_cores / cores:.2f} | {row.requested_gib:,.1f} | "
                     f"{row.requested_gib / gib:.2f} |")
    lines.append(f"| oracle | 0 | 0 | {cores:,.1f} | 1.00 | {gib:,.1f} | 1.00 |")
    return lines


def checks(result: Backtest, floor: tuple[float, float]) -> dict[str, bool]:
    """The bar for real traces."""
    s = result.summary.set_index("strategy")
    ours, base = s.loc["rightsizer"], [s.loc[b] for b in ("max-plus-15", "vpa-like")]
    return {
        "fewer would-OOM VMs than both baselines": all(ours.would_oom_containers < b.would_oom_containers
                                                        or ours.would_oom_containers == 0 for b in base),
        "fewer VMs with test p95 CPU above the request than both baselines": all(
            ours.cpu_p95_above_request < b.cpu_p95_above_request or ours.cpu_p95_above_request == 0 for b in base),
        "requested GiB <= 1.3x the oracle": ours.requested_gib <= 1.3 * floor[1],
        "requested GiB <= max-plus-15's": ours.requested_gib <= s.loc["max-plus-15"].requested_gib,
        "requested cores <= 1.15x the oracle": ours.requested_cores <= 1.15 * floor[0],
    }


def report(traces: Path, test_days: float = 7.0, weeks: int = 1, memory: Memory = None,
           train_days: float | None = None, jitter: float = 0.0) -> int:
    """Print the table and the bar (and the rolling weeks' table); the number of checks missed (1 when the traces
    are not there)."""
    if not traces.is_dir():
        print(f"no traces at {traces}: pass --traces DIR", file=sys.stderr)
        return 1
    history = load(traces)
    result, floor, elapsed = run(history, test_days, memory, train_days)
    print(f"\nReal traces ({traces.name}): {result.summary.containers.iloc[0]} VMs, trained on "
          f"{result.train_window}, tested on {result.test_window} ({elapsed:.0f} s).\n")
    print("\n".join(table(result, floor)))
    print()
    failures = 0
    for name, ok in checks(result, floor).items():
        print(f"- {'met' if ok else 'MISSED'}: {name}")
        failures += not ok
    if jitter:
        over5, over10, largest = steadiness(result, traces, jitter, test_days, memory, train_days)
        print(f"\nWith {jitter:.1%} noise in every memory sample, {over5} VMs' memory limits moved by more than 5%, "
              f"{over10} by more than 10% (the largest by {largest:.0%}).")
    if weeks > 1:
        print(f"\nThe {weeks} test weeks ending 0 to {2 * (weeks - 1)} days before the end (OOM: would-OOM VMs; "
              "CPU over: VMs with test p95 CPU above the request; cores x and GiB x: requested over the oracle):\n")
        print("\n".join(rolling_table(rolling(history, weeks, test_days, memory, train_days))))
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--test-days", type=float, default=7.0)
    parser.add_argument("--weeks", type=int, default=5, help="test weeks replayed, 2 days apart (1: the last only)")
    parser.add_argument("--risk", type=float, help="memory.risk for rightsizer (default: the policy's)")
    parser.add_argument("--margins", choices=("learned", "rules"), help="memory.margins for rightsizer (default: the "
                        "policy's); rules: what decides in a cluster too small or a history too short to learn from")
    parser.add_argument("--train-days", type=float, help="days of training before each test week (default: all)")
    parser.add_argument("--jitter", type=float, default=0.0, help="also count the VMs whose memory limit moves when "
                        "every memory sample moves by this relative noise (e.g. 0.002; the last test week only)")
    args = parser.parse_args()
    memory = {k: v for k, v in (("risk", args.risk), ("margins", args.margins)) if v is not None}
    return 1 if report(args.traces, args.test_days, args.weeks, memory, args.train_days, args.jitter) else 0


if __name__ == "__main__":
    sys.exit(main())
