from __future__ import annotations

import numpy as np
import pytest

from rightsizer.backtest import backtest, split
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Samples
from rightsizer.testing.synthetic import SyntheticCluster
from rightsizer.units import DAY, MiB


def two_phase(train_memory: float, test_peak: float) -> ClusterHistory:
    """One container: flat in training, one spike in the test window."""
    steps = 2 * 288 * 5  # 10 days at 5 minutes
    memory = np.full(steps, train_memory)
    memory[-100] = test_peak
    memory[-50] = test_peak
    key = ContainerKey("ns", "Deployment", "api", "app")
    samples = Samples.from_rows(np.zeros(steps), np.arange(steps), {"cpu": np.full(steps, 0.2), "memory": memory})
    return ClusterHistory(1_790_000_000.0, 300.0, steps, {key: ContainerHistory(key, ["api-1"], samples)})


def test_split_takes_the_last_days_for_testing():
    history = two_phase(100 * MiB, 100 * MiB)
    train, test = split(history, 7 * DAY, 3 * DAY)
    assert (test.n_steps, train.n_steps) == (3 * 288, 7 * 288)
    assert test.start > train.end
    with pytest.raises(RightsizerError, match="too short"):
        split(history, 14 * DAY, 7 * DAY)


def test_a_spike_above_the_recommended_limit_is_a_would_oom():
    train, test = split(two_phase(100 * MiB, 200 * MiB), 6 * DAY, 4 * DAY)
    result = backtest(train, test, ("rightsizer",))
    row = result.containers.iloc[0]
    assert row.oom_episodes == 2, "two separate steps above the limit: two episodes"
    assert result.summary.iloc[0].would_oom_containers == 1
    calm_train, calm_test = split(two_phase(100 * MiB, 105 * MiB), 6 * DAY, 4 * DAY)
    assert backtest(calm_train, calm_test, ("rightsizer",)).summary.iloc[0].would_oom_containers == 0


def test_unknown_strategy():
    train, test = split(two_phase(100 * MiB, 100 * MiB), 6 * DAY, 4 * DAY)
    with pytest.raises(RightsizerError, match="unknown strategy"):
        backtest(train, test, ("magic",))


def test_the_default_dominates_the_baselines_on_the_generators_demand():
    cluster = SyntheticCluster.generate(days=21, end=1_790_000_000, seed=31)
    train, _ = split(cluster.history(), 14 * DAY, 7 * DAY)
    _, test = split(cluster.history(observed=False), 14 * DAY, 7 * DAY)
    summary = backtest(train, test).summary.set_index("strategy")
    ours = summary.loc["rightsizer"]
    for baseline in ("max-plus-15", "vpa-like"):
        assert ours.would_oom_containers <= summary.loc[baseline].would_oom_containers
        assert ours.cpu_p95_above_request < summary.loc[baseline].cpu_p95_above_request
    assert ours.requested_gib < summary.loc["max-plus-15"].requested_gib
    assert ours.cpu_above_request_pct <= 10
