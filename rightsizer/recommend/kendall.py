"""Kendall's rank correlation test: is a series of daily values trending, or only noisy?

The trend rules test every slope large enough to matter (a few hundred containers of a
thousand).  ``scipy.stats.kendalltau`` gives the same p-value, but spends about a
millisecond a call validating its arguments and choosing a method, a tenth of a report's
recommending time, on series of a few dozen days whose test takes microseconds.  The two
methods are scipy's, chosen the same way (tests/test_kendall.py checks them against it):

* without ties and with at most 33 values, or with at most one pair out of order either
  way, the exact distribution of the number of out-of-order pairs over all orderings;
* otherwise the normal approximation of the score, its variance corrected for ties.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: the most values the exact distribution is used for (the count of orderings grows as n!)
EXACT_MAX = 33


def kendall_p(x: np.ndarray, y: np.ndarray) -> float:
    """The two-sided p-value of Kendall's tau-b between ``x`` and ``y`` (NaN when either is constant)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    upper = np.triu_indices(n, k=1)
    sx = np.sign(x[np.newaxis, :] - x[:, np.newaxis])[upper]
    sy = np.sign(y[np.newaxis, :] - y[:, np.newaxis])[upper]
    score = int(np.sum(sx * sy))  # pairs in the same order less pairs in the opposite order
    x_ties, y_ties = _tie_sizes(x), _tie_sizes(y)
    pairs = n * (n - 1) // 2
    untied_x, untied_y = pairs - _pairs(x_ties), pairs - _pairs(y_ties)
    if n < 2 or not untied_x or not untied_y:
        return math.nan
    if not len(x_ties) and not len(y_ties):
        discordant = (pairs - score) // 2
        fewer = min(discordant, pairs - discordant)
        if n <= EXACT_MAX or fewer <= 1:
            return _exact_p(n, fewer)
    return _normal_p(n, score, x_ties, y_ties)


def _tie_sizes(values: np.ndarray) -> np.ndarray:
    """The size of every group of equal values that has more than one member."""
    counts = np.unique(values, return_counts=True)[1]
    return counts[counts > 1].astype(np.float64)


def _pairs(sizes: np.ndarray) -> int:
    """How many pairs lie within groups of these sizes."""
    return int(np.sum(sizes * (sizes - 1) / 2))


def _normal_p(n: int, score: int, x_ties: np.ndarray, y_ties: np.ndarray) -> float:
    """The p-value of the score under its normal approximation, with the variance's tie corrections."""
    m = n * (n - 1.0)

    def groups(t: np.ndarray) -> tuple[float, float, float]:
        return _pairs(t), float(np.sum(t * (t - 1) * (t - 2))), float(np.sum(t * (t - 1) * (2 * t + 5)))

    (xt, x0, x1), (yt, y0, y1) = groups(x_ties), groups(y_ties)
    variance = (m * (2 * n + 5) - x1 - y1) / 18 + 2 * xt * yt / m
    if n > 2:
        variance += x0 * y0 / (9 * m * (n - 2))
    if variance <= 0:
        return math.nan
    return math.erfc(abs(score) / math.sqrt(variance) / math.sqrt(2))


def _exact_p(n: int, fewer: int) -> float:
    """Twice the chance that a random ordering of ``n`` values has at most ``fewer`` pairs out of order."""
    if n <= 2 or 4 * fewer == n * (n - 1):
        return 1.0
    cumulative = _orderings_by_inversions(n, fewer)
    return min(1.0, 2 * sum(cumulative) / math.factorial(n))


@lru_cache(maxsize=256)
def _orderings_by_inversions(n: int, most: int) -> tuple[int, ...]:
    """How many orderings of ``n`` values have exactly 0, 1, ... ``most`` pairs out of order (exact integers).

    Placing the j-th value among j-1 adds 0 to j-1 inversions, so each count is a sum of a
    window of the previous row's counts.
    """
    row = [1] + [0] * most
    for j in range(2, n + 1):
        running = [0] * (most + 2)
        for k in range(most + 1):
            running[k + 1] = running[k] + row[k]
        row = [running[k + 1] - running[max(0, k - j + 1)] for k in range(most + 1)]
    return tuple(row)
