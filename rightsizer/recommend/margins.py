"""Memory headroom learned from the cluster's own history: how far above last week's peak next week goes.

A fixed multiple of the day-to-day variation doubles a bounded bursty service and still
misses one that steps up.  Instead, every container's window is replayed day by day
(rolling origins: the days before an origin predict the peak of the 7 days after it),
and one quantile model over the whole cluster learns, from features of the days before
each origin, the ratio of the next week's peak to the last week's.  The model is
conformally calibrated (cross-fitted by container: the shift that makes the held-out
containers' ratios fall under the prediction at the policy's ``risk`` rate), so the
chance of passing the limit before the next weekly run is about ``memory.risk`` on this
cluster, not on the project's own generator.

Features (each from daily working-set peaks only, so a 5-minute and an hourly history
give the same ones): how the last week's peak compares with the whole history's and with
the last three days' (a plateau that ended, a step up), the day-to-day variation, the
trend slope, the largest day-to-day jump, how far the peak sits above the week's mean
hourly peak, restarts, and how many days there are.  Too few containers with a long enough history, or a model that
cannot be fitted, leave the rule-based estimate in charge; the reasons say which one
decided.
"""

from __future__ import annotations

import importlib
import math
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, step_hours
from rightsizer.units import DAY

#: days in a weekly run's horizon: the peak a recommendation must hold until the next run
HORIZON = 7
FEATURES = ("older_peak", "last_days", "variation", "slope", "jump", "peakiness", "restarts", "days")


@dataclass(frozen=True)
class DailySeries:
    """One container's daily working-set peaks and the mean of each day's hourly peaks (across its pods), NaN on
    days without data."""

    peaks: np.ndarray
    means: np.ndarray
    first_day: int  # UTC day number of index 0
    restart_days: np.ndarray  # day index of each restart


def daily_series(ch: ContainerHistory, history: ClusterHistory) -> DailySeries | None:
    """Per-day peak and mean hourly peak of the working set over the whole grid (None: no memory data).

    Both come from hourly peaks, so a history of 5-minute peaks and one of hourly peaks (what a
    report fetches, and what its snapshot holds) give the same days.
    """
    values = ch.samples["memory"]
    ok = np.isfinite(values)
    if not ok.any():
        return None
    first = math.floor((history.start - history.step) / DAY)
    n = math.floor((history.start + history.step * (history.n_steps - 2)) / DAY) - first + 1
    hour = step_hours(ch.samples.step[ok], history.start, history.step)
    hourly = np.full(n * 24, -np.inf)
    np.maximum.at(hourly, hour - first * 24, values[ok].astype(np.float64))
    hourly = hourly.reshape(n, 24)
    seen = np.isfinite(hourly)
    had = seen.any(axis=1)
    peaks = np.where(had, hourly.max(axis=1), np.nan)
    means = np.where(had, np.where(seen, hourly, 0.0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1), np.nan)
    restarts = np.array([math.floor(e.time / DAY) - first for e in ch.events], dtype=np.int64)
    return DailySeries(peaks, means, first, restarts)


def _nanmax(values: np.ndarray) -> np.ndarray:
    """Row maxima, NaN for a row without data (and no warning)."""
    out = np.max(np.where(np.isfinite(values), values, -np.inf), axis=1) if values.shape[1] else \
        np.full(len(values), -np.inf)
    return np.where(np.isfinite(out), out, np.nan)


def _slopes(window: np.ndarray) -> np.ndarray:
    """Each row's Theil-Sen slope over its finite points (the median of pairwise slopes); 0 under 3 points."""
    n = window.shape[1]
    i, j = np.triu_indices(n, k=1)
    pairs = (window[:, j] - window[:, i]) / (j - i).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        slope = np.nanmedian(pairs, axis=1) if len(i) else np.zeros(len(window))
    return np.where(np.isfinite(window).sum(axis=1) >= 3, np.nan_to_num(slope), 0.0)


def _jumps(window: np.ndarray) -> np.ndarray:
    """Each row's largest day-to-day move (log), between consecutive days with data."""
    logs = np.log(np.maximum(window, 1.0))
    seen = np.isfinite(logs)
    # the last finite value before each day: forward fill along the row
    index = np.where(seen, np.arange(logs.shape[1]), -1)
    np.maximum.accumulate(index, axis=1, out=index)
    previous = np.full_like(logs, np.nan)
    previous[:, 1:] = np.take_along_axis(logs, np.maximum(index[:, :-1], 0), axis=1)
    previous[:, 1:][index[:, :-1] < 0] = np.nan
    moves = np.abs(logs - previous)
    moves[~np.isfinite(moves)] = 0.0
    return moves.max(axis=1) if logs.shape[1] else np.zeros(len(logs))


def features(peaks: np.ndarray, means: np.ndarray, restarts: np.ndarray, origin: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, last week's peak, usable) of every container (rows of daily ``peaks`` and ``means``) from the
    days before ``origin``; ``restarts`` holds each restart as (row, day).  Unusable: no data that last week."""
    before = peaks[:, :origin]
    week = before[:, -HORIZON:]
    recent = _nanmax(week)
    usable = np.isfinite(recent) & (recent > 0)
    safe = np.where(usable, recent, 1.0)
    seen = np.isfinite(week)
    count = seen.sum(axis=1)
    mean = np.where(count > 0, np.nansum(np.where(seen, week, 0.0), axis=1) / np.maximum(count, 1), 1.0)
    var = np.nansum(np.where(seen, (week - mean[:, None]) ** 2, 0.0), axis=1) / np.maximum(count, 1)
    last3 = _nanmax(before[:, -3:])
    two_weeks = before[:, -2 * HORIZON:]
    daily = means[:, :origin][:, -HORIZON:]
    had = np.isfinite(daily)
    typical = np.where(had.any(axis=1), np.where(had, daily, 0.0).sum(axis=1) / np.maximum(had.sum(axis=1), 1), safe)
    restarted = np.bincount(restarts[restarts[:, 1] < origin, 0], minlength=len(peaks)) if len(restarts) else \
        np.zeros(len(peaks))
    x = np.column_stack([
        np.log(np.where(usable, _nanmax(before), 1.0) / safe),
        np.where(np.isfinite(last3), np.log(np.where(np.isfinite(last3), last3, 1.0) / safe), -1.0),
        np.where(count > 1, np.sqrt(var) / mean, 0.0),
        _slopes(two_weeks) / safe * HORIZON,
        _jumps(two_weeks),
        np.log(safe / np.maximum(typical, 1.0)),
        restarted.astype(np.float64),
        np.isfinite(before).sum(axis=1).astype(np.float64),
    ])
    return x, recent, usable


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
        """(last week's peak, multiplier, day-to-day variation of that week's peaks) for a container, or None when
        its history is too short."""
        return self.predictions.get(key)


def _stack(all_series: dict[ContainerKey, DailySeries]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The daily series of one history as (peaks, means, restarts as (row, day)): they share one day grid."""
    n = max(len(s.peaks) for s in all_series.values())
    peaks = np.full((len(all_series), n), np.nan)
    means = np.full((len(all_series), n), np.nan)
    restarts = []
    for row, series in enumerate(all_series.values()):
        peaks[row, : len(series.peaks)] = series.peaks
        means[row, : len(series.means)] = series.means
        restarts.extend((row, day) for day in series.restart_days)
    return peaks, means, np.array(restarts, dtype=np.int64).reshape(-1, 2)


#: days between rolling origins: every day starts a week to predict.  The weeks overlap, but a
#: 23-day window gives ten origins per container instead of two, and the quantile and its
#: conformal shift rest on five times the rows (the folds are by container, so no container
#: is scored by a model that saw it)
STRIDE = 1


def _rows(peaks: np.ndarray, means: np.ndarray, restarts: np.ndarray, min_days: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, log next-week peak over last week's, container row) for every origin, a day apart."""
    xs, ys, groups = [], [], []
    origin = peaks.shape[1] - HORIZON
    while origin >= min_days:
        x, recent, usable = features(peaks, means, restarts, origin)
        ahead = peaks[:, origin:origin + HORIZON]
        keep = usable & (np.isfinite(ahead).sum(axis=1) >= HORIZON // 2) & \
            (np.isfinite(peaks[:, :origin]).sum(axis=1) >= min_days)
        xs.append(x[keep])
        ys.append(np.log(np.maximum(_nanmax(ahead[keep]), 1.0) / recent[keep]))
        groups.append(np.flatnonzero(keep))
        origin -= STRIDE
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups).astype(np.int64)


def threadpool_limits(n: int) -> object:
    """At most ``n`` threads in the model's OpenMP loops.  The model library is imported first: a limit set
    before its OpenMP runtime is loaded limits nothing, and on a busy machine threads that wait for each other
    turn a fit of a few hundred rows from milliseconds into tens of seconds."""
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits as limits

    return limits(n)


def _model(quantile: float) -> object:
    """Small trees: deeper ones (depth 3, 20 origins a leaf) sat on the same frontier on real traces but followed
    the noise of the data (docs/benchmarks.md).  A fold of under 80 origins cannot split, and the model is then
    one calibrated ratio for the whole cluster, which is what so few weeks can tell."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(loss="quantile", quantile=quantile, max_iter=80, learning_rate=0.1,
                                         max_depth=2, min_samples_leaf=40, random_state=0)


def calibrate(all_series: dict[ContainerKey, DailySeries], risk: float, min_days: int = HORIZON,
              min_containers: int = 20) -> Calibration:
    """Fit the quantile model on every origin and shift it so held-out containers exceed it at ``risk``.

    Containers are taken in key order, so the folds and the fit do not depend on the order they were read in.
    """
    all_series = dict(sorted(all_series.items()))
    stacked = _stack(all_series) if all_series else (np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 2), int))
    x, y, groups = _rows(*stacked, min_days)
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
        peaks = stacked[0]
        now, bases, usable = features(*stacked, peaks.shape[1])
        usable &= np.isfinite(peaks).sum(axis=1) > HORIZON
        ratios = np.exp(model.predict(now[usable]) + shift) if usable.any() else np.zeros(0)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 -- a model that cannot be fitted must never fail the run
        return none(f"the margin model could not be fitted ({type(exc).__name__}: {exc})")
    keys = [k for k, ok in zip(all_series, usable, strict=True) if ok]
    spread = now[usable, FEATURES.index("variation")]
    predictions = {k: (float(b), float(r), float(v))
                   for k, b, r, v in zip(keys, bases[usable], ratios, spread, strict=True)}
    return Calibration(model, shift, risk, len(y), containers, predictions)


class ClusterSeries:
    """The daily series of every container of a cluster, gathered part by part, and one calibration per risk
    level fitted on all of them.

    A large cluster is read in batches of a few namespaces; a calibration per batch would rest on a
    few dozen containers and change with how the cluster was cut.  The daily series are small (two
    floats a day per container), so every batch's are kept and the model is fitted once on the
    whole cluster: a live report read in batches, one read at once and its snapshot learn the same
    margins.
    """

    def __init__(self) -> None:
        self.series: dict[ContainerKey, DailySeries] = {}
        self._calibrations: dict[float, Calibration] = {}
        # the model is fitted only once the last part is read, and importing scikit-learn takes a second or
        # more: imported meanwhile, while the run waits for Prometheus, it is not added to the run's end
        threading.Thread(target=importlib.import_module, args=("sklearn.ensemble",), daemon=True,
                         name="import-sklearn").start()

    def add(self, history: ClusterHistory) -> None:
        """Keep the daily series of ``history``'s containers (a part of the cluster)."""
        for ch in history:
            found = daily_series(ch, history)
            if found is not None:
                self.series[ch.key] = found
        self._calibrations.clear()

    def calibration(self, risk: float) -> Calibration:
        """The calibration at ``risk`` over every container added, fitted once however many workloads ask."""
        if risk not in self._calibrations:
            self._calibrations[risk] = calibrate(self.series, risk)
        return self._calibrations[risk]
