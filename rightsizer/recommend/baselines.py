"""Baseline strategies the backtest compares the default against, as their authors document them.

Both read CPU at the scrape resolution, as the tools they stand for do (KRR's and the VPA's
CPU samples are rates over about a minute), so the comparison is on the same data.

* ``max-plus-15``: what most right-sizers do (KRR's ``simple``): CPU request = p95 of
  usage, memory request = limit = the window's max x 1.15, no CPU limit, minimums 10m
  and 100Mi.
* ``vpa-like``: the Kubernetes VPA recommender's target: samples weighted by a decaying
  histogram (half-life 24 h), CPU p90 of samples, memory p90 of per-24 h peaks, an OOM
  adds a sample of max(used + 100 MiB, used x 1.2), +15% safety margin, minimums 25m
  and 250 MB; values rounded up to the histogram's 5%-wide buckets.
"""

from __future__ import annotations

import math

import numpy as np

from rightsizer.history import ContainerHistory, Resources
from rightsizer.needs import DataNeeds
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.engine import Context, history_hours, round_up
from rightsizer.recommend.model import Recommendation
from rightsizer.recommend.strategy import Strategy
from rightsizer.units import DAY, HOUR, MiB


def _empty(ch: ContainerHistory) -> Recommendation:
    return Recommendation(ch.key, ch.requests, ch.limits, None, None, samples=len(ch.active_steps), pods=len(ch.pods),
                          oom_kills=len(ch.oom_kills), init=ch.init)


def _enough(ch: ContainerHistory, ctx: Context, rec: Recommendation) -> bool:
    hours = history_hours(ch, ctx.history.step)
    if hours < ctx.policy.min_history_hours or not np.isfinite(ch.cpu_at_scrape).any() or not ch.samples.has("memory"):
        rec.reasons.append(f"not enough history: {hours:.1f} h")
        return False
    rec.confidence = min(1.0, hours / 24.0 / ctx.policy.full_confidence_days)
    return True


def max_plus_15(ch: ContainerHistory, ctx: Context) -> Recommendation:
    rec = _empty(ch)
    if not _enough(ch, ctx, rec):
        return rec
    cpu = ch.cpu_at_scrape[np.isfinite(ch.cpu_at_scrape)]
    mem = ch.samples["memory"][np.isfinite(ch.samples["memory"])]
    cpu_request = max(0.010, round_up(float(np.percentile(cpu, 95)), 0.001))
    memory = max(100 * MiB, round_up(float(mem.max()) * 1.15, MiB))
    rec.requests = Resources(cpu_request, memory)
    rec.limits = Resources(None, memory)
    rec.reasons.append(f"max-plus-15: cpu p95 {format_cpu(cpu_request)}, memory max x 1.15 {format_memory(memory)}")
    return rec


_HALF_LIFE = 86_400.0
_BUCKET_GROWTH = 1.05


def _weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cumulative = np.cumsum(w)
    return float(v[np.searchsorted(cumulative, q * cumulative[-1])])


def _bucket(value: float, first: float) -> float:
    """Round up to the VPA histogram's exponential bucket boundary."""
    if value <= first:
        return first
    n = math.ceil(math.log(value / first) / math.log(_BUCKET_GROWTH))
    return first * _BUCKET_GROWTH**n


def vpa_like(ch: ContainerHistory, ctx: Context) -> Recommendation:
    rec = _empty(ch)
    if not _enough(ch, ctx, rec):
        return rec
    h = ctx.history
    times = h.start + h.step * ch.samples.step.astype(np.float64)
    end = h.end
    cpu = ch.cpu_at_scrape
    ok = np.isfinite(cpu)
    weights = 2.0 ** ((times[ok] - end) / _HALF_LIFE)
    cpu_target = _weighted_percentile(cpu[ok].astype(np.float64), weights, 0.90)
    peaks = ch.per_step("memory", h.n_steps, "max")
    step_times = h.start + h.step * np.arange(h.n_steps)
    seen = np.isfinite(peaks)
    interval = np.floor((step_times[seen] - end) / DAY)
    peak_values = peaks[seen].astype(np.float64)
    per_interval = np.array([peak_values[interval == i].max() for i in np.unique(interval)])
    interval_times = np.array([step_times[seen][interval == i].max() for i in np.unique(interval)])
    if ch.oom_kills and ch.limits.memory:
        used = ch.limits.memory
        per_interval = np.append(per_interval, max(used + 100 * MiB, used * 1.2))
        interval_times = np.append(interval_times, end)
    mem_weights = 2.0 ** ((interval_times - end) / _HALF_LIFE)
    mem_target = _weighted_percentile(per_interval, mem_weights, 0.90)
    cpu_request = max(0.025, round_up(_bucket(cpu_target, 0.01) * 1.15, 0.001))
    memory = max(250e6, round_up(_bucket(mem_target, 10e6) * 1.15, MiB))
    rec.requests = Resources(cpu_request, memory)
    rec.limits = Resources(None, memory)
    rec.reasons.append(f"vpa-like: cpu p90 {format_cpu(cpu_request)}, memory p90 of daily peaks "
                       f"{format_memory(memory)} (decaying, +15%)")
    return rec


#: what both baselines read: CPU at the scrape resolution, the memory maximum or daily peaks (a peak of whole
#: hours), the current settings
_NEEDS = DataNeeds(cpu_mean=False, peak_step=HOUR, throttled_steps_only=True, settings_within=DAY,
                   pod_nodes=False)


class MaxPlus15(Strategy):
    name = "max-plus-15"
    needs = _NEEDS
    container = staticmethod(max_plus_15)


class VpaLike(Strategy):
    name = "vpa-like"
    needs = _NEEDS
    container = staticmethod(vpa_like)
