"""Memory headroom learned from the cluster's own history: how far above last week's peak next week goes.

A fixed multiple of the day-to-day variation doubles a bounded bursty service and still
misses one that steps up.  Instead, every container's window is replayed week by week
(rolling origins: the days before an origin predict the peak of the 7 days after it),
and one quantile model over the whole cluster learns, from features of the days before
each origin, the ratio of the next week's peak to the last week's.  The model is
conformally calibrated (cross-fitted by container: the shift that makes the held-out
containers' ratios fall under the prediction at the policy's ``risk`` rate), so the
chance of passing the limit before the next weekly run is about ``memory.risk`` on this
cluster, not on the project's own generator.

Features (each from daily working-set peaks, so a 5-minute and an hourly history give
the same ones): how the last week's peak compares with the whole history's and with
the last three days' (a plateau that ended, a step up), the day-to-day variation, the
trend slope, the largest day-to-day jump, how peaky the days are, restarts, and how
many days there are.  Too few containers with a long enough history, or a model that
cannot be fitted, leave the rule-based estimate in charge; the reasons say which one
decided.
"""

from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass

import numpy as np

from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey
from rightsizer.recommend.theilsen import theil_sen
from rightsizer.units import DAY

#: days in a weekly run's horizon: the peak a recommendation must hold until the next run
HORIZON = 7
FEATURES = ("older_peak", "last_days", "variation", "slope", "jump", "peakiness", "restarts", "days")


@dataclass(frozen=True)
class DailySeries:
    """One container's daily working-set peaks and means (across its pods), NaN on days without data."""

    peaks: np.ndarray
    means: np.ndarray
    first_day: int  # UTC day number of index 0
    restart_days: np.ndarray  # day index of each restart


def daily_series(ch: ContainerHistory, history: ClusterHistory) -> DailySeries | None:
    """Per-day peak and mean of the working set over the whole grid (None: no memory data)."""
    values = ch.samples["memory"]
    ok = np.isfinite(values)
    if not ok.any():
        return None
    first = math.floor((history.start - history.step) / DAY)
    n = math.floor((history.start + history.step * (history.n_steps - 2)) / DAY) - first + 1
    # a step is stamped with its end: its day is the one its interval begins in
    day = (np.floor((history.start + history.step * (ch.samples.step[ok] - 1.0)) / DAY) - first).astype(np.int64)
    used = values[ok].astype(np.float64)
    peaks = np.full(n, -np.inf)
    np.maximum.at(peaks, day, used)
    peaks[~np.isfinite(peaks)] = np.nan
    counts = np.bincount(day, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.bincount(day, weights=used, minlength=n) / counts
    restarts = np.array([math.floor(e.time / DAY) - first for e in ch.events], dtype=np.int64)
    return DailySeries(peaks, means, first, restarts)


def features(series: DailySeries, origin: int) -> np.ndarray | None:
    """The features of the days before ``origin`` (a day index); None when the last week has no data."""
    peaks = series.peaks[:origin]
    week = peaks[-HORIZON:]
    if not np.isfinite(week).any():
        return None
    recent = float(np.nanmax(week))
    if recent <= 0:
        return None
    seen = np.isfinite(peaks)
    days = np.flatnonzero(seen)
    values = peaks[seen]
    last3 = peaks[-3:]
    two_weeks = peaks[-2 * HORIZON:]
    tw = np.isfinite(two_weeks)
    x = np.flatnonzero(tw).astype(np.float64)
    slope = theil_sen(two_weeks[tw], x)[0] / recent if tw.sum() >= 3 else 0.0
    jumps = np.diff(np.log(np.maximum(two_weeks[tw], 1.0))) if tw.sum() >= 2 else np.zeros(1)
    mean = series.means[:origin][-HORIZON:]
    typical = float(np.nanmean(mean)) if np.isfinite(mean).any() else recent
    week_ok = week[np.isfinite(week)]
    return np.array([
        math.log(float(values.max()) / recent),
        math.log(float(np.nanmax(last3)) / recent) if np.isfinite(last3).any() else -1.0,
        float(week_ok.std() / week_ok.mean()) if len(week_ok) > 1 else 0.0,
        slope * HORIZON,
        float(np.abs(jumps).max()) if len(jumps) else 0.0,
        math.log(recent / max(typical, 1.0)),
        float(np.sum(series.restart_days < origin)),
        float(len(days)),
    ])


BASE_DAYS = 7


def base(series: DailySeries, origin: int) -> float:
    """What the ratio is taken of: the peak of the last days before ``origin`` (the last week's when those have
    no data)."""
    before = series.peaks[:origin]
    recent = before[-BASE_DAYS:]
    return float(np.nanmax(recent if np.isfinite(recent).any() else before[-HORIZON:]))


@dataclass(frozen=True)
class Calibration:
    """A fitted model, or why there is none (``model`` None: the rules decide, ``why`` says so)."""

    model: object | None
    shift: float  # added to the model's log-ratio: the conformal correction
    risk: float
    rows: int
    containers: int
    predictions: dict[ContainerKey, tuple[float, float, float]]  # (base, multiplier, variation) per container
    why: str = ""

    def predict(self, key: ContainerKey) -> tuple[float, float, float] | None:
        """(recent peak, multiplier, day-to-day variation of the last week's peaks) for a container, or None when
        its history is too short."""
        return self.predictions.get(key)


def _rows(all_series: dict[ContainerKey, DailySeries], min_days: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, log next-week peak over last week's, container number) for every weekly origin."""
    xs: list[np.ndarray] = []
    ys: list[float] = []
    groups: list[int] = []
    for number, series in enumerate(all_series.values()):
        n = len(series.peaks)
        origin = n - HORIZON
        while origin >= min_days:
            ahead = series.peaks[origin:origin + HORIZON]
            x = features(series, origin)
            if x is not None and np.isfinite(ahead).sum() >= HORIZON // 2 and \
                    np.isfinite(series.peaks[:origin]).sum() >= min_days:
                xs.append(x)
                ys.append(math.log(max(float(np.nanmax(ahead)), 1.0) / base(series, origin)))
                groups.append(number)
            origin -= HORIZON
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.vstack(xs), np.array(ys), np.array(groups, dtype=np.int64)


def threadpool_limits(n: int) -> object:
    from threadpoolctl import threadpool_limits as limits

    return limits(n)


def _model(quantile: float) -> object:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(loss="quantile", quantile=quantile, max_iter=80, learning_rate=0.1,
                                         max_depth=3, min_samples_leaf=20, random_state=0)


def calibrate(all_series: dict[ContainerKey, DailySeries], risk: float, min_days: int = HORIZON,
              min_containers: int = 20) -> Calibration:
    """Fit the quantile model on every weekly origin and shift it so held-out containers exceed it at ``risk``."""
    x, y, groups = _rows(all_series, min_days)
    containers = len(np.unique(groups))

    def none(why: str) -> Calibration:
        return Calibration(None, 0.0, risk, len(y), containers, {}, why)

    if containers < min_containers:
        return none(f"{containers} container{'s' if containers != 1 else ''} with {min_days + HORIZON} days or "
                    f"more of memory history; {min_containers} needed to learn margins")
    try:
        with warnings.catch_warnings(), threadpool_limits(1):  # a few hundred rows: threads only contend
            warnings.simplefilter("ignore")
            fold = groups % 2 == 0
            scores: list[np.ndarray] = []
            for train in (fold, ~fold):
                model = _model(1 - risk).fit(x[train], y[train])  # type: ignore[attr-defined]
                scores.append(y[~train] - model.predict(x[~train]))
            score = np.concatenate(scores)
            level = min(1.0, math.ceil((1 - risk) * (len(score) + 1)) / len(score))
            shift = float(np.quantile(score, level, method="higher"))
            model = _model(1 - risk).fit(x, y)  # type: ignore[attr-defined]
        keys, now, bases = [], [], []
        for key, series in all_series.items():
            found = features(series, len(series.peaks))
            if found is not None and np.isfinite(series.peaks).sum() > HORIZON:
                keys.append(key)
                now.append(found)
                bases.append(base(series, len(series.peaks)))
        ratios = np.exp(model.predict(np.vstack(now)) + shift) if now else np.zeros(0)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 -- a model that cannot be fitted must never fail the run
        return none(f"the margin model could not be fitted ({type(exc).__name__}: {exc})")
    spread = [float(x[FEATURES.index("variation")]) for x in now]
    predictions = {k: (b, float(r), v) for k, b, r, v in zip(keys, bases, ratios, spread, strict=True)}
    return Calibration(model, shift, risk, len(y), containers, predictions)


_CACHE: dict[tuple[int, float], tuple[weakref.ref[ClusterHistory], Calibration]] = {}


def calibration_for(history: ClusterHistory, risk: float) -> Calibration:
    """The calibration of ``history`` at ``risk``, computed once per history however many workloads ask."""
    key = (id(history), risk)
    cached = _CACHE.get(key)
    if cached is not None and cached[0]() is history:
        return cached[1]
    for stale in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
        del _CACHE[stale]
    series = {}
    for ch in history:
        found = daily_series(ch, history)
        if found is not None:
            series[ch.key] = found
    calibration = calibrate(series, risk)
    _CACHE[key] = (weakref.ref(history), calibration)
    return calibration
