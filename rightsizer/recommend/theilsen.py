"""The Theil-Sen line: the median of the slopes between every pair of points.

Robust to a spike day (one odd point moves few of the pairwise slopes), and exact for the
handful of daily values a trend is fitted on.  Written here rather than taken from
``scipy.stats.theilslopes``, which computes the same line (with ``method="separate"``)
but spends most of its time validating arguments and a confidence interval unused here:
over a 2,000-container report, two thirds of the recommendation time.
"""

from __future__ import annotations

import numpy as np

from rightsizer.recommend.order import median


def theil_sen(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the line through ``(x, y)``: the median pairwise slope, and the median
    of ``y`` less the slope times the median of ``x``.  Pairs with equal ``x`` have no slope; with
    none left the line is flat."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    dx = x[np.newaxis, :] - x[:, np.newaxis]
    dy = y[np.newaxis, :] - y[:, np.newaxis]
    apart = dx > 0
    slope = median(dy[apart] / dx[apart]) if apart.any() else 0.0
    return slope, median(y) - slope * median(x)
