"""The Theil-Sen line against scipy's, and its robustness to a spike day."""

from __future__ import annotations

import numpy as np
from scipy.stats import theilslopes

from rightsizer.recommend.theilsen import theil_sen


def test_the_line_is_scipys_separate_median_line():
    rng = np.random.default_rng(3)
    for _ in range(500):
        n = int(rng.integers(2, 20))
        x = np.sort(rng.choice(40, n, replace=False)).astype(float) - 30
        y = rng.normal(size=n) * rng.choice([1.0, 1e9])
        if rng.random() < 0.3:
            y = np.round(y)  # ties in y
        fit = theilslopes(y, x)
        slope, intercept = theil_sen(y, x)
        assert np.isclose(slope, fit.slope, rtol=1e-12, atol=0)
        assert np.isclose(intercept, fit.intercept, rtol=1e-12, atol=1e-9)


def test_one_spike_day_does_not_tilt_the_line():
    days = np.arange(14.0)
    values = 100 + 2 * days
    values[5] = 10_000
    slope, intercept = theil_sen(values, days)
    assert slope == 2.0, "the spike's 13 slopes of 91 do not reach the median"
    assert abs(intercept - 100) <= 2, "nor does it move the level by more than one day's step"


def test_equal_x_have_no_slope():
    assert theil_sen(np.array([1.0, 5.0]), np.array([3.0, 3.0])) == (0.0, 3.0)
