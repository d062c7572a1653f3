"""Kendall's test against scipy's: the same p-value, exact and approximate, with and without ties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kendalltau

from rightsizer.recommend.kendall import EXACT_MAX, kendall_p


def scipy_p(x: np.ndarray, y: np.ndarray) -> float:
    return float(kendalltau(x, y).pvalue)


@pytest.mark.parametrize("ties", [False, True])
def test_the_p_value_is_scipys(ties):
    rng = np.random.default_rng(11 + ties)
    for _ in range(1500):
        n = int(rng.integers(3, 45))
        x = np.sort(rng.choice(200, n, replace=False)).astype(float)  # days: distinct
        y = np.cumsum(rng.normal(size=n)) + rng.uniform(0, 0.3) * np.arange(n)
        if ties:
            y = np.round(y * rng.choice([0.5, 1, 2]))
            if rng.random() < 0.2:
                x = np.round(x / 7)  # ties in x as well
        if np.ptp(y) == 0 or np.ptp(x) == 0:
            continue
        assert math.isclose(kendall_p(x, y), scipy_p(x, y), rel_tol=1e-9, abs_tol=1e-15), (x.tolist(), y.tolist())


def test_the_extremes_of_the_exact_method():
    for n in (3, 4, 10, EXACT_MAX, EXACT_MAX + 1, 60):
        x = np.arange(float(n))
        rising, one_swap, flat_middle = x.copy(), x.copy(), x.copy()
        one_swap[[0, 1]] = one_swap[[1, 0]]
        half = n // 2
        flat_middle[:half] = flat_middle[:half][::-1]  # about as many pairs in order as out of it
        for y in (rising, -rising, one_swap, flat_middle):
            assert math.isclose(kendall_p(x, y), scipy_p(x, y), rel_tol=1e-9, abs_tol=1e-300)
    assert kendall_p(np.arange(3.0), np.array([0.0, 2.0, 1.0])) == 1.0


def test_a_constant_series_has_no_p_value():
    assert math.isnan(kendall_p(np.arange(5.0), np.ones(5)))
    assert math.isnan(kendall_p(np.ones(5), np.arange(5.0)))
