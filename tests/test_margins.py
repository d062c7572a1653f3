"""Learned memory margins and leaks, checked against what each series really does next week."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer.config import MemoryPolicy, PolicySet
from rightsizer.history import ClusterHistory, ContainerEvent, ContainerHistory, ContainerKey, Samples
from rightsizer.recommend import margins, recommend
from rightsizer.recommend.leak import _fit, _typical_gap, detect
from rightsizer.units import DAY, MiB

START = 1_790_000_000 - 35 * DAY
STEP = 3600.0
HOURS = 24


def history(series: dict[str, np.ndarray], events: dict[str, list[ContainerEvent]] | None = None
            ) -> ClusterHistory:
    """One container per series (hourly working-set peaks, bytes), one pod each, CPU steady."""
    n = max(len(v) for v in series.values())
    containers = {}
    for name, memory in series.items():
        key = ContainerKey("ns", "Deployment", name, "app")
        steps = np.arange(len(memory))
        samples = Samples.from_rows(np.zeros(len(memory)), steps, {"cpu": np.full(len(memory), 0.1),
                                                                    "memory": memory})
        containers[key] = ContainerHistory(key, [f"{name}-0"], samples, events=(events or {}).get(name, []))
    return ClusterHistory(START, STEP, n, containers)


def bursty(rng: np.random.Generator, days: int, level: float, spread: float) -> np.ndarray:
    """A bounded service: a working set near ``level`` with an hour-long burst on about half the days, of up to
    ``spread`` above it (never more): its daily peaks swing with no rhythm."""
    out = level * (1 + 0.05 * rng.random(days * HOURS))
    for day in np.flatnonzero(rng.random(days) < 0.5):
        out[day * HOURS + rng.integers(HOURS)] = level * (1 + spread * rng.uniform(0.3, 1.0))
    return out


def split_at(series: dict[str, np.ndarray], days: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return ({k: v[: days * HOURS] for k, v in series.items()}, {k: v[days * HOURS:] for k, v in series.items()})


@pytest.fixture(scope="module")
def cluster() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    out = {f"svc-{i}": bursty(rng, 28, rng.uniform(200, 2000) * MiB, rng.uniform(0.2, 1.0)) for i in range(50)}
    # a step up two days before the end of training, which stays
    step = bursty(rng, 28, 500 * MiB, 0.1)
    step[19 * HOURS:] *= 1.6
    out["stepped"] = step
    # steady growth, 3% a day
    out["rising"] = bursty(rng, 28, 400 * MiB, 0.05) * (1 + 0.03 * np.arange(28 * HOURS) / HOURS)
    return out


def test_the_learned_margin_holds_next_week_at_about_the_policy_risk(cluster):
    train, test = split_at(cluster, 21)
    recs = {r.key.workload: r for r in recommend(history(train))}
    over = [k for k, r in recs.items() if test[k].max() > r.limits.memory]
    # the policy allows memory.risk of the containers over; a bounded bursty world should see far fewer
    assert len(over) <= MemoryPolicy().risk * len(recs), over
    assert all(any("memory margin learned from" in x for x in r.reasons) for r in recs.values())


def test_a_bounded_bursty_service_is_not_doubled(cluster):
    train, _ = split_at(cluster, 21)
    recs = {r.key.workload: r for r in recommend(history(train))}
    for name, r in recs.items():
        if name.startswith("svc-"):
            bound = train[name].max()
            assert r.limits.memory <= 1.6 * bound, f"{name}: {r.limits.memory / bound:.2f}x its bound"


def test_a_step_and_a_rise_are_caught(cluster):
    train, test = split_at(cluster, 21)
    recs = {r.key.workload: r for r in recommend(history(train))}
    for name in ("stepped", "rising"):
        assert recs[name].limits.memory >= test[name].max(), f"{name} would be OOMKilled next week"


def test_a_small_cluster_falls_back_to_the_rules_and_says_so(cluster):
    train, _ = split_at({k: cluster[k] for k in list(cluster)[:5]}, 21)
    for r in recommend(history(train)):
        assert any("memory margin from the rules" in x and "20 needed to learn margins" in x for x in r.reasons), r.reasons


def test_a_short_history_falls_back_to_the_rules_and_says_so(cluster):
    train, _ = split_at(cluster, 21)
    train["new"] = train["svc-0"][-4 * HOURS:]  # four days, at the end of the window
    train["new"] = np.r_[np.full(17 * HOURS, np.nan), train["new"]]
    recs = {r.key.workload: r for r in recommend(history(train))}
    assert any("too short to learn from" in x for x in recs["new"].reasons)
    assert any("memory margin learned" in x for x in recs["svc-0"].reasons)


def test_rules_only_when_the_policy_says_so(cluster):
    train, _ = split_at(cluster, 21)
    recs = recommend(history(train), PolicySet(overrides={"memory": {"margins": "rules"}}))
    assert not any("learned" in x for r in recs for x in r.reasons)


def test_a_model_that_cannot_be_fitted_never_fails_the_run(cluster, monkeypatch):
    def broken(quantile: float) -> object:
        raise ValueError("no model today")

    monkeypatch.setattr(margins, "_model", broken)
    train, _ = split_at(cluster, 21)
    recs = recommend(history(train))
    assert all(r.requests is not None for r in recs)
    assert all(any("could not be fitted (ValueError: no model today)" in x for x in r.reasons) for r in recs)


def test_a_leak_is_recognised_and_flagged(cluster):
    train, _ = split_at(cluster, 21)
    # climbs 10 MiB an hour from 300 MiB, restarted every 30 hours
    hours = np.arange(21 * HOURS)
    since = hours % 30
    train["leaky"] = (300 + 10 * since).astype(np.float64) * MiB
    restarts = [ContainerEvent(START + STEP * h, "leaky-0", "OOMKilled") for h in hours[since == 0][1:]]
    # a container restarted as often whose working set stays flat is no leak
    events = {"leaky": restarts, "svc-1": [ContainerEvent(e.time, "svc-1-0", "Error") for e in restarts]}
    h = history(train, events)
    leak = detect(h.containers[ContainerKey("ns", "Deployment", "leaky", "app")], h.start, h.step)
    assert leak is not None and leak.rate_per_hour == pytest.approx(10 * MiB, rel=0.05)
    assert leak.restart_every_hours == pytest.approx(30)
    assert detect(h.containers[ContainerKey("ns", "Deployment", "svc-1", "app")], h.start, h.step) is None
    recs = {r.key.workload: r for r in recommend(h)}
    assert recs["leaky"].risk == "high"
    assert "leak: restarts every 30 h; fix the code" in recs["leaky"].risk_reasons
    assert not any("leak" in x for x in recs["svc-1"].risk_reasons)


@pytest.mark.parametrize(("mib_per_hour", "leak_decides"), [(5, True), (2, False)])
def test_a_slow_leak_is_sized_for_until_the_next_run(cluster, mib_per_hour, leak_decides):
    """A climb a week long after each restart: its peak at the next run fits the limit, and the reasons say so,
    whether the leak raised the limit (a steep climb) or the margin already held it (a gentle one)."""
    train, _ = split_at(cluster, 21)
    hours = np.arange(21 * HOURS)
    since = hours % 100
    train["slow"] = (1000 + mib_per_hour * since).astype(np.float64) * MiB
    events = {"slow": [ContainerEvent(START + STEP * h, "slow-0", "Error") for h in hours[since == 0][1:]]}
    rec = {r.key.workload: r for r in recommend(history(train, events))}["slow"]
    assert rec.limits.memory >= (1000 + mib_per_hour * 7 * 24) * MiB, "the climb until the next run fits"
    leak = [x for x in rec.reasons if x.startswith(f"leak: working set climbs {mib_per_hour}Mi/h")]
    assert len(leak) == 1 and "by the next run (7 d)" in leak[0], rec.reasons
    assert leak[0].endswith("fits") == (not leak_decides), leak[0]
    assert rec.reasons[-1].endswith("the leak's peak at the next run") == leak_decides, rec.reasons[-1]


def test_the_calibration_is_computed_once_per_history(cluster, monkeypatch):
    calls = []
    real = margins.calibrate
    monkeypatch.setattr(margins, "calibrate", lambda *a, **k: calls.append(1) or real(*a, **k))
    train, _ = split_at(cluster, 21)
    recommend(history(train))
    assert len(calls) == 1


def test_the_reasons_name_what_decided_and_it_did(cluster):
    import re

    train, _ = split_at(cluster, 21)
    decided = {}
    for r in recommend(history(train)):
        (learned,) = [x for x in r.reasons if x.startswith("memory margin learned from")]
        found = re.search(r"\((the model|the floor) decided\): peak of the last 7 days (\d+)Mi x ([\d.]+)"
                          r"(?: \(.*; the model gave x ([\d.]+)\))?", learned)
        assert found, learned
        who, basis, ratio = found.group(1), int(found.group(2)), float(found.group(3))
        if who == "the floor":
            assert ratio >= float(found.group(4)), learned  # the floor was above what the model gave (rounded)
        final = r.reasons[-1]
        if "growth trend decided" in final:
            who = "the growth trend"
            assert r.limits.memory > basis * MiB * ratio
        else:
            assert r.limits.memory == pytest.approx(basis * MiB * ratio, rel=0.01), (learned, final)
        decided[r.key.workload] = who
    assert decided["rising"] == "the growth trend"
    assert {"the model", "the floor"} <= set(decided.values())


def test_the_leak_rules_fit_is_numpys_correlation_and_slope():
    """The per-stretch fit in closed form agrees with np.corrcoef and np.polyfit, and the typical gap with
    the median, on random stretches (even and uneven spacing, flat and noisy ones)."""
    rng = np.random.default_rng(7)
    for _ in range(2_000):
        n = int(rng.integers(6, 400))
        uneven = rng.random() < 0.5
        x = np.cumsum(rng.choice([1.0, 1.0, 1.0, 2.0, 5.0], size=n)) if uneven else np.arange(n, dtype=float)
        y = rng.normal(1e9, 1e8) + rng.normal(0, 1e7) * x + rng.normal(0, rng.choice([1e3, 1e6, 1e8]), size=n)
        r, slope = _fit(x, y)
        assert r == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-9, abs=1e-12)
        assert slope == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-7, abs=1e-6)
        times = 300.0 * x
        assert _typical_gap(times) == np.median(np.diff(times))
    assert _typical_gap(np.array([5.0])) == 3600.0
