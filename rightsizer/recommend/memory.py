"""Memory: per-step peaks of the working set, the window peak or a percentile of daily peaks, plus a margin.

These are the rules, what decides where the margins cannot be learned from the cluster
(too few containers, too short a history).  A fixed margin is too thin for a workload
whose daily peaks swing (a nightly batch whose input size varies): the margin is at least
``variability`` times the coefficient of variation of the daily peaks, so the next week's
highest day still fits.  But the window's peak already holds the swings seen: on a bursty
series that multiple adds 100-200% on top of the highest day (real VMs got 3.5 times the
memory their next week needed).  So a bursty series' swing margin goes no higher than the
value the next week's highest day passes with the policy's ``risk``, if daily peaks were
log-normal (:func:`weekly_bound`; the engine applies it).

The per-step values are already peaks (``max_over_time`` at the source), and the
per-step maximum across pods is taken, because every pod must fit its limit.  An
OOMKill in the window means the true peak was cut off at the limit in force: the
figure is lifted above that limit (by ``oom_bump``, at least ``oom_bump_min``), once,
however many times it happened, so repeated OOMs do not compound into a runaway.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from rightsizer.config import MemoryPolicy
from rightsizer.recommend.margins import HORIZON
from rightsizer.recommend.order import percentile
from rightsizer.recommend.theilsen import theil_sen
from rightsizer.units import DAY


@dataclass(frozen=True)
class MemoryEstimate:
    basis: float  # bytes: the peak or daily-peak percentile
    window_peak: float  # bytes
    oom_floor: float | None  # bytes the value must exceed after OOMKills
    variation: float  # coefficient of variation of the daily peaks (0 with fewer than 5 days)
    daily: np.ndarray  # bytes: the peak of each day with data, what :func:`weekly_bound` fits its law to

    @property
    def days(self) -> int:
        """Days with data."""
        return len(self.daily)


def daily_peaks(peaks: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(day numbers, peak of each UTC day) of a per-step peak series; days without data are left out."""
    ok = np.isfinite(peaks)
    if not ok.any():
        return np.zeros(0), np.zeros(0)
    days = np.floor(times[ok] / DAY).astype(np.int64)
    values = peaks[ok].astype(np.float64)
    order = np.argsort(days, kind="stable")
    days, values = days[order], values[order]
    starts = np.flatnonzero(np.r_[True, np.diff(days) > 0])
    return days[starts].astype(np.float64), np.maximum.reduceat(values, starts)


def estimate_memory(peaks: np.ndarray, times: np.ndarray, oom_kills: int, limit: float | None,
                    policy: MemoryPolicy) -> MemoryEstimate:
    days, per_day = daily_peaks(peaks, times)
    window_peak = float(per_day.max()) if len(per_day) else 0.0
    if policy.basis == "daily-peaks" and len(per_day):
        basis = percentile(per_day, policy.daily_percentile)
    else:
        basis = window_peak
    floor = oom_floor(limit, peaks, policy) if oom_kills else None
    return MemoryEstimate(basis, window_peak, floor, _variation(days, per_day), per_day)


def weekly_bound(per_day: np.ndarray, risk: float, days: int = HORIZON) -> float | None:
    """The value the highest of the next ``days`` daily peaks passes with chance ``risk``, if daily peaks were
    independent draws of one log-normal law (None under 5 days with a finite peak above 0).

    Each of the ``days`` must stay under it with chance (1 - risk) ** (1 / days); the law's
    centre and spread are estimated from the n days seen, so the bound is the prediction
    interval of a new draw: Student's t with n - 1 degrees of freedom, widened by sqrt(1 + 1/n).
    """
    ok = per_day[np.isfinite(per_day) & (per_day > 0)]
    if len(ok) < 5:
        return None
    logs = np.log(ok.astype(np.float64))
    spread = float(logs.std(ddof=1)) * math.sqrt(1 + 1 / len(ok))
    return float(np.exp(logs.mean() + _student((1 - risk) ** (1 / days), len(ok) - 1) * spread))


@functools.lru_cache(maxsize=256)
def _student(level: float, freedom: int) -> float:
    """Student's t quantile (a few distinct arguments per run: the number of days and the risk)."""
    from scipy.stats import t  # scikit-learn imports it anyway; a report with the rules alone pays once

    return float(t.ppf(level, freedom))


def oom_floor(limit: float | None, peaks: np.ndarray, policy: MemoryPolicy) -> float:
    """What the value must reach after OOMKills: above the limit that was hit (the window's peak without one)."""
    ok = peaks[np.isfinite(peaks)]
    hit = limit if limit is not None else (float(ok.max()) if len(ok) else 0.0)
    return max(hit * (1 + policy.oom_bump), hit + policy.oom_bump_min)


def _variation(days: np.ndarray, peaks: np.ndarray) -> float:
    """Day-to-day variation of the peaks around their trend line (growth is the trend rule's business)."""
    if len(peaks) < 5 or peaks.mean() <= 0:
        return 0.0
    slope, intercept = theil_sen(peaks, days)
    residuals = peaks - (intercept + slope * days)
    return float(residuals.std() / peaks.mean())
