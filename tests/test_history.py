from __future__ import annotations

import numpy as np
import pytest

from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Samples
from rightsizer.scope import Scope
from rightsizer.timeparse import format_duration, parse_duration, parse_instant

KEY = ContainerKey("shop", "Deployment", "api", "app")


def history() -> ClusterHistory:
    # two pods: pod 0 at steps 0-2, pod 1 at steps 1-3 (a rollout overlap)
    samples = Samples.from_rows(
        pod=np.array([1, 0, 0, 1, 0, 1]),
        step=np.array([3, 0, 1, 1, 2, 2]),
        values={"cpu": np.array([0.4, 0.1, 0.2, 0.3, 0.25, 0.35]), "memory": np.array([4, 1, 2, 3, 2.5, 3.5])},
    )
    ch = ContainerHistory(KEY, ["api-a", "api-b"], samples)
    other = ContainerHistory(ContainerKey("batch", "CronJob", "etl", "etl"), ["etl-1"],
                             Samples.from_rows(np.zeros(1), np.zeros(1), {"cpu": np.ones(1)}))
    return ClusterHistory(1000.0, 300.0, 5, {KEY: ch, other.key: other})


def test_samples_are_sorted_and_missing_series_are_nan():
    s = history()[KEY].samples
    assert list(s.pod) == [0, 0, 0, 1, 1, 1] and list(s.step) == [0, 1, 2, 1, 2, 3]
    assert s["throttled"].dtype == np.float32 and np.isnan(s["throttled"]).all()
    assert s.has("cpu") and not s.has("heap_used")


def test_per_step_views_across_pods():
    h = history()
    ch = h[KEY]
    np.testing.assert_allclose(ch.per_step("cpu", h.n_steps, "max"), [0.1, 0.3, 0.35, 0.4, np.nan], rtol=1e-6)
    np.testing.assert_allclose(ch.per_step("cpu", h.n_steps, "sum"), [0.1, 0.5, 0.6, 0.4, np.nan], rtol=1e-6)
    assert list(ch.per_step("cpu", h.n_steps, "count")) == [1, 2, 2, 1, 0]
    with pytest.raises(ValueError, match="unknown aggregation"):
        ch.per_step("cpu", h.n_steps, "median")


def test_frames_for_notebooks():
    h = history()
    frame = h.to_frame()
    assert len(frame) == 7
    assert list(frame.columns[:7]) == ["cluster", "namespace", "kind", "workload", "container", "pod", "time"]
    assert set(frame["pod"]) == {"api-a", "api-b", "etl-1"}
    assert str(frame["time"].dt.tz) == "UTC"
    summary = h.containers_frame()
    assert list(summary["workload"]) == ["etl", "api"], "sorted by key"


def test_filter_and_scope():
    h = history()
    assert list(Scope(namespace="shop").apply(h).containers) == [KEY]
    assert list(Scope(workload="CronJob/.*").apply(h).containers) != [KEY]
    assert len(Scope(workload="a.*").apply(h)) == 1
    with pytest.raises(RightsizerError, match="--selector needs pod labels"):
        Scope(selector="app=api").apply(h)
    with pytest.raises(RightsizerError, match="invalid --workload regular expression"):
        Scope(workload="[")


def test_mismatched_sample_columns_are_refused():
    with pytest.raises(ValueError, match="expected 2"):
        Samples(np.zeros(2, np.int32), np.zeros(2, np.int32), {"cpu": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match="unknown series"):
        Samples(np.zeros(1, np.int32), np.zeros(1, np.int32), {"gpu": np.zeros(1, np.float32)})


@pytest.mark.parametrize(("text", "seconds"), [("14d", 1_209_600), ("5m", 300), ("1h30m", 5400), ("90", 90),
                                               ("2w", 1_209_600), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "fortnight", "5 m", "-5m", "0s", "m5"])
def test_bad_durations(bad):
    with pytest.raises(RightsizerError, match="invalid"):
        parse_duration(bad, flag="--window")


def test_instants_and_formatting():
    assert parse_instant("2026-11-01T00:00:00Z") == 1_793_491_200
    assert parse_instant("2026-11-01T01:00:00+01:00") == 1_793_491_200
    assert parse_instant("2026-11-01") == 1_793_491_200, "no zone means UTC"
    assert parse_instant("1793491200") == 1_793_491_200
    with pytest.raises(RightsizerError, match="ISO 8601"):
        parse_instant("yesterday")
    assert [format_duration(s) for s in (1_209_600, 300, 90, 5400)] == ["14d", "5m", "90s", "90m"]


def test_skewed_timestamps_land_on_the_nearest_step_once():
    from rightsizer.sources.prometheus import to_steps

    start, step = 1_000.0, 300.0
    times = [start - 200, start + 10, start + 290, start + 320, start + 610, start + 300 * 50]
    idx, vals = to_steps(np.array(times), np.array([9, 1, 2, 2.5, 3, 4.0]), start, step, n_steps=10)
    assert list(idx) == [0, 1, 2], "before the window and past its end are dropped; one value per step"
    assert list(vals) == [1.0, 2.5, 3.0], "the higher of two points on one step"
    # a duplicate series out of order (a restarting container's twin), with a NaN point
    times = np.array([start, start + 300, start + 600, start + 300, start, start + 600])
    idx, vals = to_steps(times, np.array([1, 5, np.nan, 7, 0.5, np.nan]), start, step, n_steps=10)
    assert list(idx) == [0, 1, 2]
    assert list(vals[:2]) == [1.0, 7.0] and np.isnan(vals[2]), "a number beats NaN; NaN only when all are"


def test_a_gap_in_the_history_changes_nothing_but_the_coverage():
    from rightsizer.history import ClusterHistory, Resources
    from rightsizer.recommend import recommend

    def history(with_gap: bool) -> ClusterHistory:
        steps = np.arange(2016)
        if with_gap:
            steps = steps[(steps < 800) | (steps >= 1088)]  # a day without scrapes
        cpu = 0.2 + 0.1 * (steps % 7 == 0)
        samples = Samples.from_rows(np.zeros(len(steps)), steps, {"cpu": cpu, "memory": np.full(len(steps), 1e8)})
        ch = ContainerHistory(KEY, ["api-a"], samples, Resources(1.0, 5e8), Resources(None, 5e8))
        return ClusterHistory(1_790_000_000.0, 300.0, 2016, {KEY: ch})

    with_gap, without = recommend(history(True)).items[0], recommend(history(False)).items[0]
    assert with_gap.requests == without.requests
    assert with_gap.confidence == without.confidence == 1.0
