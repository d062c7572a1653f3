"""Backtest: recommend from a training window, replay the next window, and count what would have gone wrong.

For every strategy the same containers are scored on the test window:

* **would-OOM**: the hottest pod's working-set peak passed the recommended memory limit
  (an episode is a run of consecutive such steps);
* **CPU above request**: the share of pod samples using more CPU than the request, and
  the containers whose test p95 is above it (their pods compete for CPU they did not
  ask for);
* **throttled**: the share of samples above a recommended CPU limit (guaranteed QoS);
* **requested** cores and GiB (request x the pods running on average) and **slack**
  (requested minus used).

Replaying observed data understates what a capped container wanted; where the demand
is known (the synthetic generator's ``history(observed=False)``), pass it as the test
history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rightsizer.config import PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.recommend import STRATEGIES, recommend
from rightsizer.recommend.model import RecommendationSet
from rightsizer.units import DAY, GiB

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: at the top, every command's start-up
    import pandas as pd  # would take a second longer

DEFAULT_STRATEGIES = ("rightsizer", "max-plus-15", "vpa-like")


@dataclass
class Backtest:
    """Per strategy: a summary row, and one row per container scored."""

    summary: pd.DataFrame
    containers: pd.DataFrame
    train_window: str = ""
    test_window: str = ""
    recommendations: dict[str, RecommendationSet] = field(default_factory=dict)


def split(history: ClusterHistory, train_seconds: float, test_seconds: float) -> tuple[ClusterHistory, ClusterHistory]:
    """The last ``test_seconds`` of the history, and up to ``train_seconds`` before them.

    A window of N days holds N days minus one step on the grid, so training takes what is
    there when it is at least 90% of what was asked.
    """
    test_steps = round(test_seconds / history.step)
    train_steps = round(train_seconds / history.step)
    cut = history.n_steps - test_steps
    if test_steps < 1 or train_steps < 1 or cut < 0.9 * train_steps:
        have = history.n_steps * history.step / DAY
        raise RightsizerError(f"the history holds {have:.1f} days: too short for {train_seconds / DAY:g} days of "
                              f"training and {test_seconds / DAY:g} of test; shorten --train or --test")
    return history.window(max(0, cut - train_steps), cut), history.window(cut, history.n_steps)


def backtest(train: ClusterHistory, test: ClusterHistory, strategies: tuple[str, ...] = DEFAULT_STRATEGIES,
             policies: PolicySet | None = None) -> Backtest:
    """Recommend on ``train`` with each strategy and score the recommendations on ``test``."""
    import pandas as pd

    rows, recsets = score(train, test, strategies, policies)
    containers = pd.DataFrame(rows)
    if containers.empty:
        raise RightsizerError("no container has both a recommendation from the training window and data in the "
                              "test window")
    summary = containers.groupby("strategy", sort=False).agg(
        containers=("container", "size"),
        would_oom_containers=("oom_episodes", lambda s: int((s > 0).sum())),
        oom_episodes=("oom_episodes", "sum"),
        cpu_p95_above_request=("cpu_p95_above_request", "sum"),
        cpu_samples_above_request=("cpu_share_above_request", "mean"),
        throttled_samples=("throttled_share", "mean"),
        requested_cores=("requested_cores", "sum"),
        requested_gib=("requested_gib", "sum"),
        used_cores=("used_cores", "sum"),
        used_gib=("used_gib", "sum"),
    ).reset_index()
    summary["would_oom_pct"] = 100 * summary["would_oom_containers"] / summary["containers"]
    summary["cpu_above_request_pct"] = 100 * summary["cpu_p95_above_request"] / summary["containers"]
    summary["slack_cores"] = summary["requested_cores"] - summary["used_cores"]
    summary["slack_gib"] = summary["requested_gib"] - summary["used_gib"]
    return Backtest(summary, containers, train.describe_window(), test.describe_window(), recsets)


def score(train: ClusterHistory, test: ClusterHistory, strategies: tuple[str, ...] = DEFAULT_STRATEGIES,
          policies: PolicySet | None = None) -> tuple[list[dict[str, object]], dict[str, RecommendationSet]]:
    """One row per strategy and container scored, and each strategy's recommendations: what
    :func:`backtest` summarises, for a caller that adds up parts of a cluster itself."""
    for name in strategies:
        if name not in STRATEGIES:
            raise RightsizerError(f"unknown strategy {name!r}: choose from {', '.join(STRATEGIES)}")
    rows = []
    recsets = {}
    for name in strategies:
        recs = recommend(train, policies, strategy=name)
        recsets[name] = recs
        for rec in recs:
            if rec.requests is None or rec.key not in test.containers:
                continue
            rows.append({"strategy": name, **_score(rec, test)})
    return rows, recsets


def _score(rec, test: ClusterHistory) -> dict[str, object]:
    ch = test.containers[rec.key]
    n = test.n_steps
    cpu = ch.cpu_at_scrape  # demand at the resolution the cluster is scraped at, not the step's mean
    cpu_ok = cpu[np.isfinite(cpu)].astype(np.float64)
    peaks = ch.per_step("memory", n, "max").astype(np.float64)
    pods = ch.per_step("memory", n, "count").astype(np.float64)
    limit = rec.limits.memory if rec.limits and rec.limits.memory is not None else None
    over = np.nan_to_num(peaks, nan=0.0) > limit if limit is not None else np.zeros(n, dtype=bool)
    episodes = int(np.sum(over[1:] & ~over[:-1]) + (over[0] if len(over) else 0))
    request_cpu = rec.requests.cpu or 0.0
    request_mem = rec.requests.memory or 0.0
    cpu_limit = rec.limits.cpu if rec.limits else None
    mean_pods = float(pods.mean())
    used_mem = np.nan_to_num(ch.per_step("memory", n, "sum").astype(np.float64), nan=0.0)
    return {
        "namespace": rec.key.namespace,
        "kind": rec.key.kind,
        "workload": rec.key.workload,
        "container": rec.key.container,
        "oom_episodes": episodes,
        "cpu_share_above_request": float((cpu_ok > request_cpu).mean()) if len(cpu_ok) else 0.0,
        "cpu_p95_above_request": bool(len(cpu_ok) and np.percentile(cpu_ok, 95) > request_cpu),
        "throttled_share": float((cpu_ok > cpu_limit).mean()) if cpu_limit and len(cpu_ok) else 0.0,
        "requested_cores": request_cpu * mean_pods,
        "requested_gib": request_mem * mean_pods / GiB,
        "used_cores": float(np.nan_to_num(ch.per_step("cpu", n, "sum"), nan=0.0).mean()),
        "used_gib": float(used_mem.mean()) / GiB,
    }
