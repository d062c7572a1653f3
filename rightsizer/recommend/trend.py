"""Growth over the window, projected to the next scheduled run.

A weekly job that sizes for last week's usage is a week late for a growing service.  The
trend is fitted on one value per full day (the mean for CPU, less noisy than a daily
percentile; the peak for memory), with weekend days scaled by the weekend/weekday ratio
when the workload has a weekly rhythm, so a quiet Sunday does not read as decline.  A
Theil-Sen line (the median of pairwise slopes: robust to a spike day) gives the slope;
it is used only when it is significant (Kendall's tau, p < 0.05) and moves the value by
at least ``min_growth`` over the horizon.  A shrinking trend may lower a figure, but
never below what the last ``recent_days`` showed.

The line is the exact estimator for one variable (:mod:`rightsizer.recommend.theilsen`);
scikit-learn's ``TheilSenRegressor`` approximates a multi-dimensional spatial median
iteratively and warns when it does not converge, which it often does not on 14 points.
Kendall's test (:mod:`rightsizer.recommend.kendall`) runs only for a slope large enough to
matter.

A percentile of a growing series (the CPU request's p95) is carried forward by
:func:`grown_percentile`: the recent values' spread around the line, at the line's value
at the next run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rightsizer.config import TrendPolicy
from rightsizer.recommend import order
from rightsizer.recommend.kendall import kendall_p
from rightsizer.recommend.theilsen import theil_sen
from rightsizer.units import DAY


@dataclass(frozen=True)
class Trend:
    slope_per_day: float  # relative to the fitted level at the window's middle
    projected: float  # the line's value at the horizon (never below the recent floor when shrinking)
    level: float  # fitted value at the window's middle
    significant: bool
    spread: float = 0.0  # the largest amount a day rose above the line: a peak at the horizon may too
    recent_spread: float = 0.0  # ... over the last ``recent_days`` days only
    intercept: float = 0.0  # the line's value on the last day fitted
    slope: float = 0.0  # the line's rise a day, in the values' unit
    last_day: float = 0.0  # UTC day number of the last day fitted

    def line(self, days: np.ndarray) -> np.ndarray:
        """The fitted line at UTC day numbers ``days`` (fractions of a day allowed)."""
        return self.intercept + self.slope * (np.asarray(days, dtype=np.float64) - self.last_day)


def per_day(times: np.ndarray, values: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """(UTC day numbers, one value per day) over days with at least half the usual number of samples."""
    ok = np.isfinite(values)
    if not ok.any():
        return np.zeros(0), np.zeros(0)
    day = np.floor(times[ok] / DAY)
    vals = values[ok].astype(np.float64)
    first = day.min()
    index = (day - first).astype(np.int64)  # days are a short run of integers: counted, not sorted
    counts = np.bincount(index)
    if how == "mean":
        out = np.bincount(index, weights=vals, minlength=len(counts))
        np.divide(out, counts, out=out, where=counts > 0)
    else:
        out = np.full(len(counts), -np.inf)
        np.maximum.at(out, index, vals)
    seen = counts > 0
    full = seen & (counts >= 0.5 * order.median(counts[seen]))
    return np.flatnonzero(full) + first, out[full]


def weekday_adjusted(days: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weekend values scaled up by the weekday/weekend ratio, when both are seen and differ by 5% or more."""
    weekend = ((days.astype(np.int64) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    if not weekend.any() or weekend.all():
        return values
    ratio = order.median(values[weekend]) / order.median(values[~weekend])
    if ratio <= 0 or abs(ratio - 1) < 0.05:
        return values
    return np.where(weekend, values / ratio, values)


def project(days: np.ndarray, values: np.ndarray, policy: TrendPolicy) -> Trend | None:
    """Fit daily values; None when disabled, with too few days, or flat."""
    if not policy.enabled or len(days) < policy.min_days or np.ptp(values) == 0:
        return None
    adjusted = weekday_adjusted(days, values)
    x = days - days[-1]
    slope, intercept = theil_sen(adjusted, x)
    middle = intercept + slope * order.median(x)
    if middle <= 0:
        return None
    projected = intercept + slope * policy.horizon_days
    significant = abs(projected - middle) / middle >= policy.min_growth and kendall_p(days, adjusted) < 0.05
    above = adjusted - (intercept + slope * x)
    last = days > days[-1] - policy.recent_days
    if slope < 0:
        projected = max(projected, float(values[last].max()))
    return Trend(slope / middle, projected, middle, significant, max(float(above.max()), 0.0),
                 max(float(above[last].max()), 0.0), float(intercept), float(slope), float(days[-1]))


def grown_percentile(values: np.ndarray, days: np.ndarray, trend: Trend, percentile: float,
                     policy: TrendPolicy) -> float | None:
    """The ``percentile`` of a growing series as it will be at the next run (None: nothing to carry forward).

    The series is taken as the line times a spread around it: the last ``recent_days``' values
    over the line at their time give the spread's percentile, and the line at the horizon
    carries it there.  Multiplying a whole-window percentile by the line's growth since the
    window's middle counts the growth twice (a growing series' p95 already sits near the end
    of the window) and, on a long window, carries a few steep days weeks ahead.
    """
    recent = np.isfinite(values) & (days > trend.last_day + 1 - policy.recent_days)
    line = trend.line(days[recent])
    if not recent.any() or (line <= 0).any():
        return None
    spread = order.percentile(values[recent] / line, percentile)
    return spread * float(trend.line(np.array([trend.last_day + policy.horizon_days]))[0])
