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


@pytest.mark.parametrize("days", [5, 7, 14, 23])
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


def test_the_weekly_bound_is_the_prediction_bound_of_a_new_draw():
    """Five days whose logs are 0..4: mean 2, sample deviation sqrt(2.5); one day ahead at 2.5% is the 97.5%
    Student's t quantile with 4 degrees of freedom, 2.7764 in the tables, widened by sqrt(1 + 1/5)."""
    expected = math.exp(2 + 2.7764 * math.sqrt(2.5) * math.sqrt(1.2))
    assert weekly_bound(np.exp(np.arange(5.0)), 0.025, days=1) == pytest.approx(expected, rel=1e-4)


def test_the_weekly_bound_needs_five_days_with_data():
    assert weekly_bound(np.array([1.0, 2.0, 3.0, 4.0]), 0.2) is None
    assert weekly_bound(np.array([0.0, np.nan, np.inf, 1.0, 2.0, 3.0, 4.0]), 0.2) is None, "nor days without data"
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


MU, SIGMA = math.log(800 * MiB), 0.4


def _law_peaks(days: int = 14) -> np.ndarray:
    """Daily peaks at the law's own quantiles, in no order: no outlier for the window's peak to be."""
    peaks = np.exp(MU + SIGMA * np.array([NormalDist().inv_cdf((i + 0.5) / days) for i in range(days)]))
    np.random.default_rng(7).shuffle(peaks)
    return peaks


def _swing_reason(rec) -> str:
    return next(r for r in rec.reasons if r.startswith("daily peaks vary by"))


def test_a_bounded_bursty_series_is_not_doubled():
    """3x the day-to-day variation on top of the highest day gave such a series twice its peak and more."""
    peaks = _law_peaks()
    policy = PolicySet(overrides={"memory": {"risk": 0.05}})
    rec = recommend(_daily_history(peaks), policy).items[0]  # one container: too few to learn margins from
    assert any("memory margin from the rules" in r for r in rec.reasons)
    reason = _swing_reason(rec)
    assert "log-normal fit" in reason and "passes it with a 5% chance" in reason, reason
    variation = float(reason.split("vary by ", 1)[1].split("%", 1)[0]) / 100
    limit = rec.limits.memory
    assert limit < peaks.max() * (1 + 3 * variation) * 0.8, "well under what 3x the variation gave"
    assert limit <= 1.6 * peaks.max(), "not doubled"
    assert _passed(limit, MU, SIGMA) <= 0.05 * 1.2, "and the next week still fits as often as memory.risk says"


def test_an_outlier_peak_gets_twice_the_margin():
    """Where the law puts the next week's highest below the peak + 20%, the margin is twice memory.margin."""
    peaks = np.exp(np.random.default_rng(3).normal(MU, SIGMA, 14))
    rec = recommend(_daily_history(peaks)).items[0]
    assert "twice the 10% margin (a log-normal fit" in _swing_reason(rec)
    assert rec.limits.memory == pytest.approx(peaks.max() * 1.2, rel=0.002)
    assert _passed(rec.limits.memory, MU, SIGMA) <= 0.2


def test_a_steady_batch_keeps_a_few_times_its_swing():
    """A nightly batch whose input varies by a few percent: its next high day passes the last by a few swings."""
    peaks = np.exp(np.random.default_rng(5).normal(math.log(4 * 1024 * MiB), 0.04, 14))
    rec = recommend(_daily_history(peaks)).items[0]
    swing = _swing_reason(rec)
    assert "log-normal" not in swing
    margin = float(swing.rsplit("margin ", 1)[1].rstrip("%")) / 100
    assert margin > 0.10, "more than the policy's 10%"
    assert rec.limits.memory >= peaks.max() * (1 + margin) * 0.999


@pytest.mark.parametrize(("growth", "sigma", "risk"), [(1.04, 0.2, None), (1.06, 0.35, 0.02)])
def test_a_growing_series_gets_twice_the_margin_on_its_projection(growth, sigma, risk):
    """The law has no trend; the projection already holds the largest rise of a day above the line.  So twice
    the margin on the projection, even where the law, fitted to a noisy rise at a low risk, would allow more."""
    days = np.arange(14)
    peaks = 800 * MiB * np.exp(np.log(growth) * days + np.random.default_rng(11).normal(0, sigma, 14))
    policies = PolicySet(overrides={"memory": {"risk": risk}}) if risk else None
    rec = recommend(_daily_history(peaks), policies=policies).items[0]
    trend = next(r for r in rec.reasons if r.startswith("memory trend +"))
    assert "twice the 10% margin on the trend's projection" in _swing_reason(rec)
    projected = float(trend.split("up to ", 1)[1].split("Mi", 1)[0]) * MiB
    assert rec.limits.memory == pytest.approx(projected * 1.2, rel=0.002)
    if risk:
        assert weekly_bound(peaks, risk) > projected * 1.3, "the law would have allowed more: the case is the one"


# risks at which the law bounds the margin: above them twice the margin decides, below them 3x the swing
@pytest.mark.parametrize(("basis", "risks"), [("peak", (0.1, 0.05, 0.02)), ("daily-peaks", (0.2, 0.1, 0.05))])
def test_the_bound_follows_the_policy_risk(basis, risks):
    peaks = _law_peaks()
    recs = [recommend(_daily_history(peaks), PolicySet(overrides={"memory": {"risk": risk, "basis": basis}}))
            .items[0] for risk in risks]
    for rec, risk in zip(recs, risks, strict=True):
        assert f"passes it with a {risk * 100:g}% chance" in _swing_reason(rec), _swing_reason(rec)
        assert _passed(rec.limits.memory, MU, SIGMA) <= risk * 1.2, "each at about its own risk"
        assert rec.limits.memory == pytest.approx(weekly_bound(peaks, risk), rel=1e-3), "the basis + margin is the bound"
    limits = [r.limits.memory for r in recs]
    assert limits[0] < limits[1] < limits[2], "a lower risk buys more headroom"
