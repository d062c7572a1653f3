"""The small-array median and percentile give numpy's floats exactly, ties and extreme percentiles included."""

import numpy as np
import pytest

from rightsizer.recommend.order import median, percentile


def _arrays(seed: int):
    rng = np.random.default_rng(seed)
    for i in range(3000):
        n = int(rng.integers(1, 400))
        values = rng.normal(size=n) * 10.0 ** float(rng.integers(-3, 10))
        if i % 3 == 0:
            values = np.round(values)  # ties
        yield rng, values


def test_median_is_numpys() -> None:
    for _, values in _arrays(1):
        assert median(values) == float(np.median(values))


def test_percentile_is_numpys() -> None:
    for rng, values in _arrays(2):
        for q in (0.0, 50.0, 95.0, 99.0, 99.9, 100.0, float(rng.uniform(0, 100))):
            assert percentile(values, q) == float(np.percentile(values, q)), (len(values), q)


def test_integers_and_float32_are_read_as_float64() -> None:
    counts = np.array([288, 287, 12, 288], dtype=np.int64)
    assert median(counts) == 287.5
    small = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    assert percentile(small, 95) == float(np.percentile(small.astype(np.float64), 95))


def test_no_values_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        median(np.zeros(0))
    with pytest.raises(ValueError, match="no values"):
        percentile(np.zeros(0), 95)
