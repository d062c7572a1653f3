"""The memory rules (what decides where margins cannot be learned), checked against laws whose truth is known."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from rightsizer.config import PolicySet
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Samples
from rightsizer.recommend import recommend
from rightsizer.recommend.memory import weekly_bound
from rightsizer.units import DAY, MiB

STEP = 300.0
START = 1_790_035_200.0 + STEP  # steps are stamped with their end: the first begins at a UTC midnight


@pytest.mark.parametrize("days", [7, 14, 23])
@pytest.mark.parametrize("risk", [0.2, 0.05])
def test_the_weekly_bound_is_passed_at_about_the_risk(days, risk):
    """Daily peaks drawn from a log-normal law: the next 7 days' highest passes the bound at most at ``risk``."""
    rng = np.random.default_rng(days)
    trials = 3000
    passed = 0
    for _ in range(trials):
        peaks = np.exp(rng.normal(20.0, 0.4, days + 7))
        passed += peaks[days:].max() > weekly_bound(peaks[:days], risk)
    rate = passed / trials
    assert rate <= risk + 3 * math.sqrt(risk * (1 - risk) / trials), "not passed more often than the risk"
    assert rate >= 0.6 * risk, "nor far more rarely: a bound that high would waste memory"


def test_the_weekly_bound_needs_five_days_with_data():
    assert weekly_bound(np.array([1.0, 2.0, 3.0, 4.0]), 0.2) is None
    assert weekly_bound(np.array([0.0, 0.0, 1.0, 2.0, 3.0, 4.0]), 0.2) is None, "days without data do not count"
    assert weekly_bound(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.2) > 5.0


def _daily_history(peaks: np.ndarray) -> ClusterHistory:
    """One container whose working set reaches ``peaks[d]`` once on day d and sits at half of it otherwise."""
    per_day = round(DAY / STEP)
    memory = np.repeat(peaks / 2, per_day)
    memory[np.arange(len(peaks)) * per_day + per_day // 2] = peaks
    n = len(memory)
    key = ContainerKey("ns", "Deployment", "batch", "app")
    samples = Samples.from_rows(np.zeros(n), np.arange(n), {"cpu": np.full(n, 0.2), "memory": memory})
    return ClusterHistory(START, STEP, n, {key: ContainerHistory(key, ["batch-1"], samples)})


def _passed(limit: float, mu: float, sigma: float) -> float:
    """The true chance that the next 7 daily peaks of the law pass ``limit``."""
    return 1 - NormalDist().cdf((math.log(limit) - mu) / sigma) ** 7


def test_a_bounded_bursty_series_is_not_doubled():
    """3x the day-to-day variation on top of the highest day gave such a series twice its peak and more."""
    mu, sigma = math.log(800 * MiB), 0.4
    peaks = np.exp(np.random.default_rng(3).normal(mu, sigma, 14))
    rec = recommend(_daily_history(peaks)).items[0]  # one container: too few to learn margins from
    limit = rec.limits.memory
    assert any("memory margin from the rules" in r for r in rec.reasons)
    assert any("log-normal" in r for r in rec.reasons), rec.reasons
    assert limit <= 1.6 * peaks.max(), "not doubled"
    assert _passed(limit, mu, sigma) <= 0.25, "and the next week still fits about as often as memory.risk says"


def test_a_steady_batch_keeps_a_few_times_its_swing():
    """A nightly batch whose input varies by a few percent: its next high day passes the last by a few swings."""
    mu, sigma = math.log(4 * 1024 * MiB), 0.04
    peaks = np.exp(np.random.default_rng(5).normal(mu, sigma, 14))
    rec = recommend(_daily_history(peaks)).items[0]
    swing = next(r for r in rec.reasons if r.startswith("daily peaks vary by"))
    assert "log-normal" not in swing
    margin = float(swing.rsplit("margin ", 1)[1].rstrip("%")) / 100
    assert margin > 0.10, "more than the policy's 10%"
    assert rec.limits.memory >= peaks.max() * (1 + margin) * 0.999


def test_the_bound_follows_the_policy_risk():
    # daily peaks at the law's own quantiles: no outlier for the peak to be
    mu, sigma = math.log(800 * MiB), 0.4
    peaks = np.exp(mu + sigma * np.array([NormalDist().inv_cdf((i + 0.5) / 14) for i in range(14)]))
    np.random.default_rng(7).shuffle(peaks)
    recs = [recommend(_daily_history(peaks), PolicySet(overrides={"memory": {"risk": risk}})).items[0]
            for risk in (0.2, 0.05, 0.01)]
    limits = [r.limits.memory for r in recs]
    assert limits[0] <= limits[1] < limits[2], "a lower risk buys more headroom"
    assert limits[0] >= peaks.max() * 1.2, "never under twice the margin: what a steady series may get"
    for rec, risk in zip(recs[1:], (0.05, 0.01), strict=True):
        assert _passed(rec.limits.memory, mu, sigma) <= risk * 1.2, "each at about its own risk"
