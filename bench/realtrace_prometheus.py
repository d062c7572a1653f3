"""The real traces read the way a user's report reads them: through a real Prometheus.

    python bench/realtrace_prometheus.py [--traces DIR] [--test-days 7] [--config FILE]

``bench/realtrace.py`` hands the Bitbrains VMs to the engine in memory.  A user's report
reads cAdvisor's counters and kube-state-metrics from Prometheus instead, where the scrape
interval is measured, CPU is a ``rate()`` of a counter and memory the peak of each step.
This writes every VM's training days as those series (one Deployment, one pod, one
container per VM, scraped every 300 s as the traces were sampled), backfills them with
``promtool``, serves them from ``prometheus`` on 127.0.0.1, runs ``rightsizer report`` over
the training days, and scores its JSON on the test week like the in-memory replay: the
two must agree, VM by VM, or the benchmark measures something users do not get.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from realtrace import STEP, TRACES, load, read_vm, train_test, truth  # bench/realtrace.py: the traces, their truth

from rightsizer.backtest import backtest
from rightsizer.config import PolicySet
from rightsizer.quantity import parse_cpu, parse_memory
from rightsizer.testing.testbed import PrometheusServer
from rightsizer.units import DAY

NAMESPACE = "bitbrains"


def write_openmetrics(traces: Path, until: float, path: Path) -> None:
    """Every VM's samples before ``until`` as cAdvisor and kube-state-metrics series (OpenMetrics text, each
    family contiguous as promtool wants)."""
    families = ("container_cpu_usage_seconds", "container_memory_working_set_bytes", "kube_pod_owner",
                "kube_replicaset_owner", "kube_pod_info", "kube_pod_container_info")
    parts: dict[str, list[str]] = {f: [] for f in families}
    for file in sorted(traces.glob("*.csv.gz")):
        name = file.name.split(".")[0]
        vm = read_vm(file)
        vm = vm[vm["time"] < until].drop_duplicates("time").sort_values("time")
        if vm.empty:
            continue
        times = [str(int(t)) for t in vm["time"]]
        deployment, replicaset = f"vm-{name}", f"vm-{name}-7d4b9c"
        pod, uid, node = f"{replicaset}-x{name}", f"uid-{name}", f"node-{int(name) % 10}"
        cadvisor = (f'job="kubelet",metrics_path="/metrics/cadvisor",namespace="{NAMESPACE}",pod="{pod}",'
                    f'container="main",node="{node}",id="/kubepods/burstable/pod{uid}/main",image="vm:1"')
        # the traces hold 5-minute means of cores: the counter grows by mean x interval at each sample; a
        # sample without CPU is left out (the replay leaves it out too), not counted as idle
        cpu = vm["cpu"].to_numpy()
        seconds = np.cumsum(np.where(np.isfinite(cpu), cpu, 0.0) * STEP)
        parts["container_cpu_usage_seconds"].append("".join(
            f"container_cpu_usage_seconds_total{{{cadvisor}}} {v:.4f} {t}\n"
            for v, t, ok in zip(seconds, times, np.isfinite(cpu), strict=True) if ok))
        memory = vm["memory"].to_numpy()
        parts["container_memory_working_set_bytes"].append("".join(
            f"container_memory_working_set_bytes{{{cadvisor}}} {v:.0f} {t}\n"
            for v, t in zip(memory, times, strict=True) if np.isfinite(v)))
        ksm = f'job="kube-state-metrics",namespace="{NAMESPACE}"'
        for family, labels in (
            ("kube_pod_owner", (f'pod="{pod}",uid="{uid}",owner_kind="ReplicaSet",owner_name="{replicaset}",'
                                'owner_is_controller="true"')),
            ("kube_replicaset_owner", (f'replicaset="{replicaset}",owner_kind="Deployment",'
                                       f'owner_name="{deployment}",owner_is_controller="true"')),
            ("kube_pod_info", (f'pod="{pod}",uid="{uid}",node="{node}",created_by_kind="ReplicaSet",'
                               f'created_by_name="{replicaset}"')),
            ("kube_pod_container_info", (f'pod="{pod}",uid="{uid}",container="main",image="vm:1",'
                                         f'container_id="containerd://{uid}"')),
        ):
            prefix = f"{family}{{{ksm},{labels}}} 1 "
            parts[family].append("".join(f"{prefix}{t}\n" for t in times))
    with open(path, "w") as out:
        for family in families:
            out.write(f"# TYPE {family} {'counter' if family == 'container_cpu_usage_seconds' else 'gauge'}\n")
            out.writelines(parts[family])
        out.write("# EOF\n")


def report_through_prometheus(traces: Path, until: float, days: float, config: Path | None, workdir: Path
                              ) -> tuple[dict, float]:
    """``rightsizer report -o json`` over the ``days`` before ``until``, read from a Prometheus holding the
    traces; (the report, seconds the report took)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise SystemExit("promtool is not installed: apt-get install prometheus (it brings promtool)")
    text, blocks = workdir / "traces.om", workdir / "blocks"
    write_openmetrics(traces, until, text)
    done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "-q",
                           "--max-block-duration=10000h", str(text), str(blocks)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"promtool could not backfill the traces: {done.stderr.strip()}")
    text.unlink()
    output = workdir / "report.json"
    with PrometheusServer(blocks) as prometheus:
        began = time.perf_counter()
        # the grid's last step is the one stamped at or before --end: a second before the first test step is the
        # last training step, as in the replay; ``days`` (all of the training days) gives the same number of steps
        command = [sys.executable, "-m", "rightsizer", "report", "-q", "--prometheus-url", prometheus.url,
                   "--window", f"{days:g}d", "--end", str(int(until) - 1), "-o", "json", "--output", str(output)]
        if config is not None:
            command += ["--config", str(config)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"rightsizer report failed: {done.stderr.strip()}")
    return json.loads(output.read_text()), seconds


@dataclass
class Reads:
    """Each VM's (CPU request in cores, memory limit in bytes) from both reads, its test week's truth (p95 cores,
    peak bytes), and the report's reasons."""

    through_prometheus: dict[str, tuple[float, float]]
    in_memory: dict[str, tuple[float, float]]
    truth: dict[str, tuple[float, float]]
    reasons: dict[str, list[str]]  # the report's, per VM
    seconds: float  # the report's own run through Prometheus

    def differences(self, resource: str) -> np.ndarray:
        """Per VM, how far the read through Prometheus is from the in-memory one ("cpu" or "memory"), relative."""
        which = ("cpu", "memory").index(resource)
        return np.array([self.through_prometheus[w][which] / self.in_memory[w][which] - 1
                         for w in sorted(set(self.through_prometheus) & set(self.in_memory))])

    def over(self, values: dict[str, tuple[float, float]]) -> tuple[set[str], set[str]]:
        """(the VMs whose test peak passes the limit, those whose test p95 CPU passes the request)."""
        return ({w for w in self.truth if w in values and self.truth[w][1] > values[w][1]},
                {w for w in self.truth if w in values and self.truth[w][0] > values[w][0]})

    def row(self, name: str, values: dict[str, tuple[float, float]]) -> str:
        """One line of the table: would-OOM VMs, VMs over the request, and the oracle ratios."""
        scored = [w for w in self.truth if w in values]
        cores = sum(self.truth[w][0] for w in scored)
        peaks = sum(self.truth[w][1] for w in scored)
        oom, cpu = self.over(values)
        return (f"| {name} | {len(scored)} | {len(oom)} | {len(cpu)} | "
                f"{sum(values[w][0] for w in scored) / cores:.2f} | {sum(values[w][1] for w in scored) / peaks:.2f} |")


def read_both(traces: Path, test_days: float = 7.0, config: Path | None = None) -> Reads:
    """Recommend on all but the last ``test_days`` of the traces through Prometheus and in memory."""
    train, test = train_test(load(traces), test_days)
    recs = backtest(train, test, ("rightsizer",), PolicySet.load(config)).recommendations["rightsizer"]
    with tempfile.TemporaryDirectory(prefix="rightsizer-realtrace-") as tmp:
        # the first test step's stamp: the samples before it are the training days
        report, seconds = report_through_prometheus(traces, test.start, train.n_steps * STEP / DAY, config, Path(tmp))
    live = report["recommendations"]
    return Reads({r["workload"]: (parse_cpu(r["recommended"]["cpu_request"]),
                                  parse_memory(r["recommended"]["memory_limit"])) for r in live},
                 {r.key.workload: (r.requests.cpu, r.limits.memory) for r in recs}, truth(test),
                 {r["workload"]: r["reasons"] for r in live}, seconds)


def show(traces: Path, reads: Reads) -> None:
    """The table of docs/benchmarks.md, and how far the two reads are apart VM by VM."""
    cpu, memory = abs(reads.differences("cpu")), abs(reads.differences("memory"))
    print(f"\nReal traces ({traces.name}) through Prometheus: the report read {len(reads.through_prometheus)} "
          f"containers in "
          f"{reads.seconds:.0f} s.\n")
    print("| read | VMs | would-OOM VMs | test p95 CPU > request | cores / oracle | GiB / oracle |")
    print("|---|---:|---:|---:|---:|---:|")
    print(reads.row("through Prometheus", reads.through_prometheus))
    print(reads.row("in memory", reads.in_memory))
    print(f"\nVM by VM: CPU requests differ by more than 2% for {int((cpu > 0.02).sum())} of {len(cpu)} "
          f"(at most {cpu.max():.1%}); memory limits by more than 2% for {int((memory > 0.02).sum())}, by more "
          f"than 10% for {int((memory > 0.10).sum())} (at most {memory.max():.1%}).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--test-days", type=float, default=7.0)
    parser.add_argument("--config", type=Path, help="a policy file for both reads (e.g. memory.margins: rules)")
    args = parser.parse_args()
    if not args.traces.is_dir():
        print(f"no traces at {args.traces}: pass --traces DIR", file=sys.stderr)
        return 1
    show(args.traces, read_both(args.traces, args.test_days, args.config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
