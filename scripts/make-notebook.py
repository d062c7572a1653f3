#!/usr/bin/env python3
"""Write notebooks/explore.ipynb (without outputs: CI executes it, reviewers read the code).

The notebook is generated so that its cells stay reviewable as plain Python here.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    ("md", """# Exploring a cluster with rightsizer

This notebook runs on the bundled demo cluster (no Kubernetes, no Prometheus). To explore
yours, replace `demo=True` with `prometheus_url="http://..."` or `snapshot="cluster.parquet"`
(recorded with `rightsizer snapshot`)."""),
    ("code", """%matplotlib inline
import rightsizer as rs

history = rs.load_history(demo=True)
print(len(history), "containers,", history.describe_window())
history.containers_frame().head(10)"""),
    ("md", "## Recommendations\n\n`recommend()` returns a set that shows as a table; `to_frame()` gives the DataFrame."),
    ("code", """recs = rs.recommend(history)
frame = recs.to_frame()
frame[["namespace", "workload", "container", "cpu_request", "cpu_request_new",
       "memory_request", "memory_request_new", "risk"]].head(10)"""),
    ("md", "## The biggest savings\n\nRequested memory and CPU freed per pod, largest first."),
    ("code", """GiB = 2**30
savings = frame.assign(
    memory_saved_gib=(frame.memory_request.fillna(0) - frame.memory_request_new.fillna(0)) / GiB,
    cpu_saved=frame.cpu_request.fillna(0) - frame.cpu_request_new.fillna(0),
).sort_values("memory_saved_gib", ascending=False)
savings[["namespace", "workload", "container", "memory_saved_gib", "cpu_saved"]].head(8)"""),
    ("md", "## The riskiest changes\n\nEvery recommendation says why, and how carefully to review it."),
    ("code", """risky = [r for r in recs if r.risk == "high"] + [r for r in recs if r.risk == "medium"][:3]
for r in risky:
    print(f"{r.key}  risk={r.risk}")
    for why in r.risk_reasons:
        print("   -", why)"""),
    ("md", "## Usage against requests\n\nThe most changed container, and a CPU-throttled one whose usage was capped by its limit."),
    ("code", """top = savings.iloc[0]
key = next(k for k in history.containers if (k.workload, k.container) == (top.workload, top.container))
rs.plot_container(history, key, recs)"""),
    ("code", """throttled = next(r for r in recs if any("censored" in why for why in r.reasons))
print(*throttled.reasons, sep="\\n")
rs.plot_container(history, throttled.key, recs)"""),
    ("md", "## Node.js heap against the memory limit\n\n`--max-old-space-size` is sized to fit the recommended limit, leaving room for what lives outside the V8 heap."),
    ("code", """node = frame[frame.max_old_space_size_mib.notna()]
node.assign(limit_mib=node.memory_limit_new / 2**20)[
    ["workload", "container", "limit_mib", "max_old_space_size_mib"]]"""),
    ("code", """leaky = next(r for r in recs if r.oom_kills and r.nodejs)
print(leaky.key, "OOMKilled", leaky.oom_kills, "times;", leaky.nodejs.node_options)
rs.plot_container(history, leaky.key, recs)"""),
    ("md", "## What if: the CPU percentile\n\nThe same history under other policies: the totals move, the risk of throttling too."),
    ("code", """import pandas as pd

rows = []
for percentile in (80, 90, 95, 99):
    policy = rs.PolicySet(overrides={"cpu": {"percentile": percentile}})
    what_if = rs.recommend(history, policy).to_frame()
    rows.append({"cpu percentile": percentile, "requested cores": what_if.cpu_request_new.sum(),
                 "requested GiB": what_if.memory_request_new.sum() / GiB})
pd.DataFrame(rows)"""),
    ("md", "## Backtest a policy\n\nTrain on the first 10 days, replay the last 4, and compare with the baselines."),
    ("code", """result = rs.backtest(*rs.split(history, 10 * 86400, 4 * 86400))
result.summary[["strategy", "would_oom_containers", "cpu_above_request_pct", "requested_cores", "requested_gib"]]"""),
    ("code", """savings_policy = rs.PolicySet("savings")
rs.backtest(*rs.split(history, 10 * 86400, 4 * 86400), strategies=("rightsizer",),
            policies=savings_policy).summary[["strategy", "would_oom_containers", "requested_gib"]]"""),
]

if __name__ == "__main__":
    nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    target = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"
    nbformat.write(nb, target)
    print(f"wrote {target}")
