"""The default strategy: each rule a small step that adds its reason (percentile, censoring, margin,
trend, OOM floor, Node.js heap, QoS, HPA, churn threshold), then a risk level for the reviewer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from rightsizer.config import MemoryPolicy, Policy
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, Resources, Workload
from rightsizer.needs import DataNeeds
from rightsizer.quantity import format_cpu, format_memory
from rightsizer.recommend.cpu import estimate_cpu
from rightsizer.recommend.hpa import keep_scaling_point
from rightsizer.recommend.leak import Leak
from rightsizer.recommend.leak import detect as detect_leak
from rightsizer.recommend.margins import HORIZON, ClusterSeries
from rightsizer.recommend.memory import estimate_memory, oom_floor, weekly_bound
from rightsizer.recommend.model import NodeOptions, Recommendation
from rightsizer.recommend.node_heap import HeapAdvice, merge_node_options, size_heap
from rightsizer.recommend.sanity import sanitize
from rightsizer.recommend.strategy import Strategy
from rightsizer.recommend.trend import Trend, grown_percentile, per_day, project
from rightsizer.sources import plausible
from rightsizer.units import DAY, HOUR, MiB


@dataclass(frozen=True)
class Context:
    """What a strategy may look at besides the container itself."""

    history: ClusterHistory
    policy: Policy
    workload: Workload | None
    #: the daily series of the whole cluster (``history`` may be one part of it), for a strategy that learns
    #: from the cluster; recommend_parts gathers them
    cluster: ClusterSeries | None = None
    #: what :meth:`Strategy.begin` worked out for each container while the cluster was read
    begun: Mapping[ContainerKey, object] = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        """When each step's interval begins: what decides its UTC day.

        A step is stamped with its end, so the one stamped 00:00 holds the last minutes of
        the day before.  Days counted this way are the same at any step that divides a
        day, which lets memory peaks fetched per hour give the very daily peaks that
        5-minute peaks give.
        """
        return self.history.start + self.history.step * (np.arange(self.history.n_steps, dtype=np.float64) - 1)


def round_up(value: float, granularity: float) -> float:
    return round(math.ceil(value / granularity - 1e-9) * granularity, 9)


def history_hours(ch: ContainerHistory, step: float) -> float:
    """Hours from the first to the last sample: the history a CronJob running an hour a day also has."""
    steps = ch.active_steps
    if not len(steps):
        return 0.0
    return (int(steps.max()) - int(steps.min()) + 1) * step / 3600.0


@dataclass(frozen=True)
class Begun:
    """A container's recommendation as far as it goes without the rest of the cluster.

    Only the memory margin waits for the whole cluster (the learned margins are fitted on
    every container).  What comes before it, and the pure work the memory rules read (the
    daily peaks' trend, the leak), is worked out while the cluster is still being read, so
    that a run's end, where nothing else is left to do, has only the memory rules left.
    """

    rec: Recommendation  # the reasons so far: the samples set aside, the history, the CPU rule
    cpu: float | None  # None: ``rec`` is complete (no samples, too little history)
    memory_trend: Trend | None = None
    leak: Leak | None = None
    set_aside: bool = False  # impossible samples were found: the rest of the rules read the history sanitized


def begin_container(ch: ContainerHistory, ctx: Context) -> Begun:
    """Everything of :func:`recommend_container` that does not depend on the rest of the cluster."""
    policy = ctx.policy
    rec = Recommendation(ch.key, ch.requests, ch.limits, None, None, samples=len(ch.active_steps), pods=len(ch.pods),
                         oom_kills=len(ch.oom_kills), init=ch.init)
    ch, dropped = sanitize(ch)
    if dropped:
        rec.reasons.append("set aside as impossible: " + ", ".join(f"{n} {name} samples" for name, n in
                                                                  sorted(dropped.items()))
                           + " (NaN, infinite, negative or beyond any machine"
                           + ("; a throttling ratio set aside is taken as fully throttled" if "throttled" in dropped
                              else "") + ")")
        rec.raise_risk("medium", "the metrics held impossible values: check the exporters")
    for series, metric in (("cpu", "container_cpu_usage_seconds_total"),
                           ("memory", "container_memory_working_set_bytes")):
        if not ch.samples.has(series) and not (series == "cpu" and ch.samples.has("cpu_scrape")):
            rec.reasons.append(f"no {series} samples ({metric} has no usable series for this container)")
            return Begun(rec, None)
    hours = history_hours(ch, ctx.history.step)
    if hours < policy.min_history_hours:
        rec.reasons.append(f"not enough history: {hours:.1f} h, {policy.min_history_hours:g} h needed")
        return Begun(rec, None)
    rec.confidence = min(1.0, hours / 24.0 / policy.full_confidence_days)
    if ch.init:
        rec.reasons.append("init container: sized from its own runs at pod start; the scheduler reserves the "
                           "larger of it and the sum of the other containers")
    cpu = _cpu_request(ch, ctx, rec)
    days, peaks = per_day(ctx.times, ch.per_step("memory", ctx.history.n_steps, "max"), "max")
    return Begun(rec, cpu, project(days, peaks, policy.trend), detect_leak(ch, ctx.history.start, ctx.history.step),
                 bool(dropped))


def recommend_container(ch: ContainerHistory, ctx: Context) -> Recommendation:
    begun = ctx.begun.get(ch.key)
    if not isinstance(begun, Begun):
        begun = begin_container(ch, ctx)
    rec, cpu = begun.rec, begun.cpu
    if cpu is None:
        return rec
    policy = ctx.policy
    if begun.set_aside:  # said already; a clean history, nearly every one, is not checked twice
        ch, _ = sanitize(ch)
    memory = _memory(ch, ctx, rec, begun)
    heap = _heap_peaks(ch, ctx) if ch.is_nodejs else None
    memory = _heap_room(heap, ctx, rec, memory)
    cpu_limit = None
    if policy.qos == "guaranteed":
        cpu_limit = round_up(cpu * policy.cpu.limit_factor, policy.cpu.granularity)
        rec.reasons.append(f"guaranteed QoS: cpu limit {format_cpu(cpu_limit)}, memory limit = request")
    elif ch.limits.cpu is not None:
        rec.reasons.append("cpu limit removed: a limit throttles bursts, the request already guarantees the share")
    cpu, memory = _settle(ch, rec, cpu, memory, policy.change_threshold)
    memory = _nodejs(ch, heap, ctx, rec, memory)  # the flag fits the limit written, kept or new
    if cpu_limit is not None and policy.qos == "guaranteed":
        cpu_limit = max(cpu_limit, cpu)
    rec.requests = Resources(cpu, memory)
    rec.limits = Resources(cpu_limit, memory)
    _assess(ch, ctx, rec)
    return rec


def _cpu_request(ch: ContainerHistory, ctx: Context, rec: Recommendation) -> float:
    p = ctx.policy.cpu
    cpu = ch.cpu_at_scrape
    limit = ch.limits.cpu
    if limit is None and ch.samples.has("throttled") and np.isfinite(cpu).any():
        # only a CFS quota throttles: a limit that could not be read (not exported, or set aside as impossible)
        # is at least the highest usage it capped, and the throttling it caused still counts
        limit = float(np.nanmax(np.where(np.isfinite(cpu), cpu, np.nan)))
        rec.reasons.append(f"throttled without a readable cpu limit: taken as the highest usage, {format_cpu(limit)}")
    est = estimate_cpu(cpu, ch.samples["throttled"], limit, p)
    at = (f" at the {ctx.history.scrape_interval:g}s scrape interval"
          if ctx.history.scrape_interval and ch.samples.has("cpu_scrape") else "")
    rec.reasons.append(f"cpu p{p.percentile:g} of {est.samples:,} samples{at}: {format_cpu(est.observed)}")
    basis = est.basis
    if est.censored and est.basis > est.observed * 1.01:
        rec.reasons.append(
            f"throttled in {est.censored_share:.0%} of samples (limit {format_cpu(limit or 0)}): usage "
            f"censored, demand estimated at p{p.percentile:g} {format_cpu(basis)}"
        )
        rec.raise_risk("medium" if est.censored_share < 0.5 else "high",
                       f"cpu demand is estimated above a limit it was throttled at ({est.censored_share:.0%} "
                       "of samples)")
    times = ctx.times[ch.samples.step]
    days, means = per_day(times, cpu, "mean")
    trend = project(days, means, ctx.policy.trend)
    if trend is not None and trend.significant and trend.slope > 0:  # growth only: a percentile already
        # spans the window's quieter days; the throttling estimate's lift (basis over observed) carries forward
        lift = basis / est.observed if est.observed > 0 else 1.0
        grown = grown_percentile(cpu, times / DAY, trend, p.percentile, ctx.policy.trend)
        if grown is not None and grown * lift > basis:
            grown *= lift
            rec.reasons.append(f"cpu trend {trend.slope_per_day:+.1%}/day: p{p.percentile:g} {format_cpu(grown)} "
                               f"by the next run ({ctx.policy.trend.horizon_days:g} d; the last "
                               f"{ctx.policy.trend.recent_days:g} days' spread around the trend, carried forward)")
            basis = grown
    value = max(p.min_cores, round_up(basis * (1 + p.margin), p.granularity))
    rec.reasons.append(f"cpu request {format_cpu(value)} = {format_cpu(basis)} + {p.margin:.0%}"
                       + (f", floored at {format_cpu(p.min_cores)}" if value == p.min_cores else ""))
    return value


def _learned(ch: ContainerHistory, ctx: Context, rec: Recommendation) -> tuple[float, str] | None:
    """The learned headroom's value and why, or None (with the reason the rules decide) when it cannot say."""
    p = ctx.policy.memory
    if p.margins != "learned":
        return None
    if ctx.cluster is None:  # recommend_parts gives it to every strategy that learns from the cluster
        rec.reasons.append("memory margin from the rules: the cluster's daily series were not gathered")
        return None
    calibration = ctx.cluster.calibration(p.risk)
    if calibration.model is None:
        rec.reasons.append(f"memory margin from the rules: {calibration.why}")
        return None
    found = calibration.predict(ch.key)
    if found is None:
        rec.reasons.append(f"memory margin from the rules: under {HORIZON + 1} days of memory history, too short "
                           "to learn from")
        return None
    recent, ratio, variation = found
    # the model knows the cluster's weeks; the policy's margin is the least headroom whatever it says, and a
    # steady series' next high day passes the last by a few times its day-to-day swing.  A bursty one (a swing
    # of more than twice the margin) gets no more from its swing than the model gives it: its last week's peak
    # may be a plateau that has ended, which the model sees and a multiple of the swing does not.
    swing = p.variability * variation
    steady = swing <= 2 * p.margin
    floor = 1 + max(p.margin, swing if steady else 0.0)
    decided, shown = "the model", f"x {ratio:.2f}"
    if floor > ratio:
        why = (f"1 + {p.variability:g}x its {variation:.1%} day-to-day variation, a steady series"
               if steady and swing > p.margin else f"1 + the {p.margin:.0%} margin")
        decided, shown = "the floor", f"x {floor:.2f} ({why}; the model gave x {ratio:.2f})"
        ratio = floor
    basis = round_up(recent, MiB)
    rec.reasons.append(
        f"memory margin learned from {calibration.rows:,} rolling-origin backtests of {calibration.containers:,} "
        f"containers ({decided} decided): peak of the last {HORIZON} days {format_memory(basis)} {shown}, so that "
        f"at most {p.risk:.0%} of containers pass it before the next run")
    return recent * ratio, f"{format_memory(basis)} x {ratio:.2f}"


def _memory(ch: ContainerHistory, ctx: Context, rec: Recommendation, begun: Begun) -> float:
    p = ctx.policy.memory
    learned = _learned(ch, ctx, rec)
    if learned is not None:
        value, why = learned
        # one week of history teaches no trend; the model sizes the swings, so a day far above the line
        # weeks ago is not added to where the line is going
        expected = _growth(ctx, rec, begun.memory_trend, recent=True)
        if expected is not None and expected * (1 + p.margin) > value:
            value, why = expected * (1 + p.margin), (f"{format_memory(round_up(expected, MiB))} + {p.margin:.0%} "
                                                     "(the growth trend decided, above the learned margin)")
        value = max(p.min_bytes, round_up(value, p.granularity))
        if value == p.min_bytes:
            why = f"the {format_memory(p.min_bytes)} minimum"
        return _leak(begun.leak, ctx, rec, *_floored(ch, ctx, rec, value, why))
    peaks = ch.per_step("memory", ctx.history.n_steps, "max")
    est = estimate_memory(peaks, ctx.times, len(ch.oom_kills), ch.limits.memory, p)
    what = ("peak working set" if p.basis == "peak"
            else f"p{p.daily_percentile:g} of {est.days} daily working-set peaks")
    rec.reasons.append(f"memory {what}: {format_memory(round_up(est.basis, MiB))}")
    basis = est.basis
    expected = _growth(ctx, rec, begun.memory_trend, lower=p.basis == "peak", above=basis)
    if expected is not None:
        basis = expected
    margin = p.margin
    swing = p.variability * est.variation
    if swing > margin + 0.005:  # worth saying from half a percentage point
        # the law is fitted only here: most series are steady, and its quantile's import costs the rules most of a second
        bound = weekly_bound(est.daily, p.risk) if expected is None else None
        margin, bounded = _swing_margin(swing, bound, basis, p, projected=expected is not None)
        rec.reasons.append(f"daily peaks vary by {est.variation:.1%}: margin {margin:.0%}{bounded}")
    value = max(p.min_bytes, round_up(basis * (1 + margin), p.granularity))
    why = f"{format_memory(round_up(basis, MiB))} + {margin:.0%}"
    if value == p.min_bytes:
        why = f"the {format_memory(p.min_bytes)} minimum"
    return _leak(begun.leak, ctx, rec, *_floored(ch, ctx, rec, value, why))


def _swing_margin(swing: float, bound: float | None, basis: float, p: MemoryPolicy, projected: bool
                  ) -> tuple[float, str]:
    """The margin a day-to-day ``swing`` asks for, and what bounded it ("" when nothing did).

    A steady series' next high day passes its last by a few swings.  A bursty series' basis
    already holds its swings: its margin goes no higher than the ``bound`` (where a
    log-normal law of its daily peaks puts the next week's highest day at the policy's
    risk), and no lower than twice the margin (the most a steady series gets), so a series
    a little more variable never gets less than a steadier one.  A ``projected`` basis (a
    growth trend's) holds the largest rise of a day above the line, and the law has no
    trend: its margin is twice the margin.
    """
    floor = 2 * p.margin
    again = f"{p.variability:g}x the variation, {swing:.0%}, would count again swings already in the basis"
    if projected:
        cap, why = floor, f", twice the {p.margin:.0%} margin on the trend's projection ({again})"
    elif bound is not None and basis > 0:
        lawful = bound / basis - 1
        shown = format_memory(round_up(bound, MiB))
        fit = f"a log-normal fit of the daily peaks says the next {HORIZON} days' highest passes"
        chance = f"{p.risk * 100:g}% chance"
        cap, why = (lawful, f", up to {shown}: {fit} it with a {chance}; {again}") if lawful >= floor else \
            (floor, f", twice the {p.margin:.0%} margin ({fit} {shown} with a {chance}); {again}")
    else:
        return swing, ""  # too few days for a law
    return (cap, why) if swing > cap else (swing, "")


def _growth(ctx: Context, rec: Recommendation, trend: Trend | None, lower: bool = False, above: float = 0.0,
            recent: bool = False) -> float | None:
    """Where daily peaks will be at the next run when they trend (None: no significant trend worth saying).

    Growth lifts the figure to where it will be at the next run; a shrinking trend may lower
    a window peak (``lower``), but project() never lets it below the peak of the last days.
    The line runs through the middle of the daily peaks: a day's peak may rise above it by as
    much as one did (``recent``: one of the last ``trend.recent_days``).
    """
    if trend is None or not trend.significant:
        return None
    expected = trend.projected + (trend.recent_spread if recent else trend.spread)
    if not lower and (expected <= above or trend.slope_per_day <= 0):
        return None
    rec.reasons.append(f"memory trend {trend.slope_per_day:+.1%}/day: daily peaks up to "
                       f"{format_memory(round_up(expected, MiB))} by the next run "
                       f"({ctx.policy.trend.horizon_days:g} d)")
    return expected


def _floored(ch: ContainerHistory, ctx: Context, rec: Recommendation, value: float, why: str
             ) -> tuple[float, str]:
    """After OOMKills the true peak is unknown: at least a bump above the limit hit."""
    p = ctx.policy.memory
    if ch.oom_kills:
        kills = len(ch.oom_kills)
        floor = round_up(oom_floor(ch.limits.memory, ch.per_step("memory", ctx.history.n_steps, "max"), p),
                         p.granularity)
        hit = format_memory(ch.limits.memory) if ch.limits.memory else "the node's memory"
        rec.reasons.append(f"OOMKilled {kills}x: the peak was cut off at {hit}; at least "
                           f"+{p.oom_bump:.0%} (min {format_memory(p.oom_bump_min)}) above it: {format_memory(floor)}")
        rec.raise_risk("medium", f"OOMKilled {kills}x in the window: the true peak is unknown")
        if floor > value:
            value, why = floor, "the OOM floor"
    return value, why


def _leak(leak: Leak | None, ctx: Context, rec: Recommendation, value: float, why: str) -> float:
    """A climb until each restart: sized for its peak at the next run when that is near, flagged when not."""
    p = ctx.policy.memory
    if leak is not None:
        days = ctx.policy.trend.horizon_days
        projected = round_up(leak.peak_after(days * 24), p.granularity)
        climb = (f"working set climbs {format_memory(round_up(leak.rate_per_hour, MiB))}/h from "
                 f"{format_memory(round_up(leak.start_level, MiB))} after each restart "
                 f"({leak.stretches} runs)")
        if projected <= value:
            rec.reasons.append(f"leak: {climb}; {format_memory(projected)} by the next run ({days:g} d) fits")
        elif projected <= value * (1 + p.leak_growth):
            rec.reasons.append(f"leak: {climb}: {format_memory(projected)} by the next run ({days:g} d)")
            value, why = projected, "the leak's peak at the next run"
        else:
            rec.reasons.append(f"leak: {climb}: {format_memory(projected)} by the next run ({days:g} d), too much "
                               "to size for")
        rec.raise_risk("high", f"leak: restarts every {leak.restart_every_hours:.0f} h; fix the code")
    rec.reasons.append(f"memory request = limit {format_memory(value)}: {why}")
    return value


HeapPeaks = tuple[np.ndarray, np.ndarray, np.ndarray]  # each pod's hourly peaks: heap used, heap total, RSS


def _heap_peaks(ch: ContainerHistory, ctx: Context) -> HeapPeaks:
    """What the heap flag is sized from, read once per container for both of its sizings."""
    used, total, rss = ch.hourly_peaks(("heap_used", "heap_total", "rss"), ctx.history.start, ctx.history.step)
    return used, total, rss


def _heap_room(heap: HeapPeaks | None, ctx: Context, rec: Recommendation, memory: float) -> float:
    """A memory value the observed heap fits in (raised when it does not); None: not a Node.js container."""
    if heap is None:
        return memory
    advice = _advise(heap, ctx, memory)
    if advice.raised:
        rec.reasons.append(f"memory raised to {format_memory(advice.memory_limit)}: the observed heap "
                           f"({format_memory(round_up(advice.heap_need, MiB))} with headroom) would not fit")
    return max(memory, advice.memory_limit)


def _advise(heap: HeapPeaks, ctx: Context, memory: float) -> HeapAdvice:
    return size_heap(memory, *heap, ctx.policy.nodejs, ctx.policy.memory.granularity)


def _nodejs(ch: ContainerHistory, heap: HeapPeaks | None, ctx: Context, rec: Recommendation, memory: float
            ) -> float:
    """The heap flag for the final memory limit (after the churn rule kept or changed it)."""
    if heap is None:
        return memory
    advice = _advise(heap, ctx, memory)
    if advice.raised:  # a kept limit the heap does not fit in is not kept
        rec.reasons.append(f"memory {format_memory(advice.memory_limit)}, not the kept {format_memory(memory)}: "
                           f"the observed heap ({format_memory(round_up(advice.heap_need, MiB))} with headroom) "
                           "would not fit")
    version = ch.nodejs_version
    rec.nodejs = NodeOptions(advice.max_old_space_mib, merge_node_options(None, advice.max_old_space_mib), version)
    if ch.samples.has("heap_used"):
        rec.reasons.append(
            f"Node.js heap: --max-old-space-size={advice.max_old_space_mib} ({advice.share:.0%} of the "
            f"{format_memory(advice.memory_limit)} limit, leaving {format_memory(round_up(advice.nonheap, MiB))} "
            f"measured outside the heap and {format_memory(round_up(advice.young, MiB))} for the young generation)"
        )
    else:
        rec.reasons.append(
            f"Node.js image {ch.image} without heap metrics: --max-old-space-size={advice.max_old_space_mib} "
            f"({advice.share:.0%} of the {format_memory(advice.memory_limit)} limit) from the limit alone (export "
            "prom-client's default metrics to size it from the heap actually used)"
        )
        rec.raise_risk("medium", "the Node.js heap flag is not based on measured heap use")
    if version and _older_than(version, (20, 3)):
        rec.raise_risk("medium", f"Node {version} ignores cgroup v2 memory limits: without the flag its heap is "
                                 "sized from the node's memory")
    return advice.memory_limit


def _older_than(version: str, wanted: tuple[int, int]) -> bool:
    try:
        parts = tuple(int(x) for x in version.lstrip("v").split(".")[:2])
    except ValueError:
        return False
    return parts < wanted


def _settle(ch: ContainerHistory, rec: Recommendation, cpu: float, memory: float, threshold: float
            ) -> tuple[float, float]:
    """Keep current values that are within the change threshold, so weekly PRs do not churn."""
    def close(current: float | None, new: float) -> bool:
        return current is not None and current > 0 and abs(new - current) / current < threshold

    if close(ch.requests.cpu, cpu):
        if cpu != ch.requests.cpu:
            rec.reasons.append(f"cpu request kept at {format_cpu(ch.requests.cpu or 0)}: {format_cpu(cpu)} is within "
                               f"{threshold:.0%}")
        cpu = ch.requests.cpu or cpu
    if close(ch.requests.memory, memory) and close(ch.limits.memory, memory) and not ch.oom_kills:
        if memory != ch.requests.memory:
            rec.reasons.append(f"memory kept at {format_memory(ch.requests.memory or 0)}: {format_memory(memory)} is "
                               f"within {threshold:.0%}")
        memory = ch.requests.memory or memory
    return cpu, memory


def apply_hpa(recs: list[Recommendation], ctx: Context) -> None:
    """Propose the target that keeps an HPA's scaling point, for all containers of one workload.

    A ``Resource`` utilization target is measured on the pod: the sum of its containers'
    usage over the sum of their requests, so the new target comes from the sums.
    """
    hpa = ctx.workload.hpa if ctx.workload else None
    usable = [r for r in recs if r.requests is not None and not r.init]  # HPAs measure the running containers
    if hpa is None or not usable:
        return
    for resource in ("cpu", "memory"):
        target = hpa.utilization_targets.get(resource)
        if target is None or not plausible.utilization(target):  # the sources set impossible ones aside
            continue
        current = [getattr(r.current_requests, resource) for r in usable]
        new = [getattr(r.requests, resource) for r in usable]
        if any(v is None for v in current + new):
            continue
        lowest = target * sum(current) / ctx.policy.hpa.max_target
        if resource == "cpu" and sum(new) < lowest:
            # below this the target would pass max_target: keep the scaling point by keeping more request
            factor = lowest / sum(new)
            for rec in usable:
                cpu = round_up(rec.requests.cpu * factor, ctx.policy.cpu.granularity)  # type: ignore[union-attr]
                rec.requests = Resources(cpu, rec.requests.memory)  # type: ignore[union-attr]
                if rec.limits is not None and rec.limits.cpu is not None:
                    rec.limits = Resources(max(rec.limits.cpu, cpu), rec.limits.memory)
                rec.reasons.append(f"cpu request {format_cpu(cpu)}: kept high enough for the HPA's "
                                   f"{ctx.policy.hpa.max_target:g}% target ceiling")
            new = [r.requests.cpu for r in usable]  # type: ignore[union-attr]
        advice = keep_scaling_point(hpa.name, resource, target, sum(current), sum(new), ctx.policy.hpa)
        if advice is None:
            continue
        for rec in usable:
            rec.hpa = advice
            if advice.target != advice.current_target:
                rec.reasons.append(f"HPA {hpa.name} scales on pod {resource}: target {advice.current_target:g}% -> "
                                   f"{advice.target:g}% keeps the scaling point")
                rec.raise_risk("medium", "the HPA target changes with the request")
            if advice.clamped:
                rec.raise_risk("medium", f"the HPA target was bounded to {advice.target:g}%: the scaling point "
                                         "moves")
        return


def _assess(ch: ContainerHistory, ctx: Context, rec: Recommendation) -> None:
    if rec.confidence < 1:
        level = "high" if rec.confidence < 0.5 else "medium"
        rec.raise_risk(level, f"only {rec.confidence * ctx.policy.full_confidence_days:.1f} days of history")
    if rec.requests is None or rec.limits is None:
        return
    cur, new = ch.limits.memory or ch.requests.memory, rec.limits.memory
    if cur and new and new < cur * 0.5:
        rec.raise_risk("medium", f"memory limit more than halved ({format_memory(cur)} -> {format_memory(new)})")
    if ch.requests.cpu and rec.requests.cpu and rec.requests.cpu > ch.requests.cpu * 2:
        rec.raise_risk("medium", "cpu request more than doubled: check the nodes have room")


class Rightsizer(Strategy):
    """The default strategy: the rules above, then the HPA's scaling point per workload."""

    name = "rightsizer"
    # the CPU rule reads the rate of a scrape interval per step (not the step's mean) and only the
    # throttled steps, the memory rule daily peaks (a day's peak is the peak of its hours), and the settings
    # of each container's latest pod, not which node ran it
    needs = DataNeeds(cpu_mean=False, peak_step=HOUR, throttled_steps_only=True, settings_within=DAY,
                      pod_nodes=False)
    learns_from_cluster = True
    begin = staticmethod(begin_container)
    container = staticmethod(recommend_container)
    workload = staticmethod(apply_hpa)
