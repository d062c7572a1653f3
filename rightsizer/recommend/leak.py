"""Leaks: a working set that climbs until a restart or an OOMKill resets it.

A percentile or a learned headroom sizes such a container for the sawtooth it showed
under the old limit; a larger limit only lets the climb go on longer.  Each pod's
samples are cut at its restarts (kube-state-metrics' restarts, OOMKills among them);
a leak is a climb in most of the stretches between them: the working set rises
steadily (correlation with time of at least ``_STEADY``) by at least ``_CLIMB`` of
where it began, and falls back at the restart.  The climb rate (the median of the
stretches' least-squares slopes) projects the peak at the next weekly run if nothing
restarts the container before it.  Everything is read from hourly peaks, so a history
with 5-minute working-set peaks and one with hourly ones find the same leak.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rightsizer.history import ContainerHistory
from rightsizer.recommend.order import median

_STEADY = 0.8  # correlation of the working set with time within a stretch
_CLIMB = 0.10  # rise over a stretch, relative to where it began
_MIN_POINTS = 6  # hours a stretch needs to say anything


@dataclass(frozen=True)
class Leak:
    rate_per_hour: float  # bytes per hour
    restart_every_hours: float  # median time between restarts (the window when there was one)
    start_level: float  # bytes: the working set just after a restart (median)
    stretches: int  # stretches that climbed

    def peak_after(self, hours: float) -> float:
        """The working set ``hours`` after a restart, if the climb goes on."""
        return self.start_level + self.rate_per_hour * hours


def _typical_gap(times: np.ndarray) -> float:
    """The median spacing of ``times`` (an hour for a single sample)."""
    return median(np.diff(times)) if len(times) > 1 else 3600.0


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(Pearson correlation, least-squares slope) of ``y`` on ``x``: both from the same centred sums, instead
    of a correlation matrix and a polynomial fit per stretch (a cluster with many restarts has thousands)."""
    dx, dy = x - x.mean(), y - y.mean()
    sxy, sxx, syy = float(dx @ dy), float(dx @ dx), float(dy @ dy)
    return sxy / np.sqrt(sxx * syy), sxy / sxx


def _hourly(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hour numbers, peak of each hour): working-set peaks fetched every 5 minutes or per hour give the same."""
    every = _typical_gap(times)
    hour = np.floor((times - every) / 3600.0)  # a sample covers the interval before its time
    hours, inverse = np.unique(hour, return_inverse=True)
    peaks = np.full(len(hours), -np.inf)
    np.maximum.at(peaks, inverse, values)
    return hours, peaks


def _stretches(ch: ContainerHistory, start: float, step: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(hours, hourly working-set peaks) of each restarted pod's runs between its restarts; the hour a restart
    falls in holds both processes and belongs to neither."""
    memory = ch.samples["memory"]
    index = {name: i for i, name in enumerate(ch.pods)}
    by_pod: dict[int, list[float]] = {}
    for event in ch.events:
        if event.pod in index:
            by_pod.setdefault(index[event.pod], []).append(event.time)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for pod, restarts in by_pod.items():
        lo, hi = np.searchsorted(ch.samples.pod, [pod, pod + 1])  # rows are sorted by pod
        rows = np.flatnonzero(np.isfinite(memory[lo:hi])) + lo
        if len(rows) < 2:
            continue
        hours, peaks = _hourly(start + step * ch.samples.step[rows].astype(np.float64), memory[rows].astype(float))
        # a restart seen at the end of a 5-minute step happened within it
        cut = np.floor((np.array(sorted(restarts)) - step) / 3600.0)
        edges = [0, *np.searchsorted(hours, cut, side="left").tolist(), len(hours)]
        for a, b in itertools.pairwise(edges):
            first = a + 1 if a > 0 and hours[a] in cut else a  # the restart's own hour
            if b - first >= _MIN_POINTS:
                out.append((hours[first:b] - hours[first], peaks[first:b]))
    return out


def detect(ch: ContainerHistory, start: float, step: float) -> Leak | None:
    """The leak of a container that restarted in the window, or None when its working set does not climb."""
    if not ch.events:
        return None
    stretches = _stretches(ch, start, step)
    rates, starts = [], []
    for hours, values in stretches:
        if np.ptp(hours) <= 0 or np.ptp(values) <= 0:
            continue
        steady, slope = _fit(hours, values)
        head, tail = values[: max(1, len(values) // 10)], values[-max(1, len(values) // 10):]
        climb = (float(tail.mean()) - float(head.mean())) / max(float(head.mean()), 1.0)
        if steady >= _STEADY and climb >= _CLIMB:
            rates.append(slope)
            starts.append(float(head.mean()))
    if not rates or len(rates) * 2 < len(stretches):
        return None
    gaps = [np.diff(np.sort([e.time for e in ch.events if e.pod == pod])) for pod in {e.pod for e in ch.events}]
    between = np.concatenate(gaps) if gaps else np.zeros(0)
    every = median(between) / 3600.0 if len(between) else \
        float(ch.samples.step.max() - ch.samples.step.min()) * step / 3600.0
    return Leak(median(np.array(rates)), every, median(np.array(starts)), len(rates))
