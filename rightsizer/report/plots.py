"""Usage against requests, as pictures: for the HTML report and for notebooks.

Figures are made with matplotlib's object API (no pyplot state), so reports can be
rendered from any thread and notebooks show them inline.  Long series are reduced to at
most ``max_points`` by taking the maximum of each bucket: a peak is never smoothed away,
which is the point of the picture.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np

from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey
from rightsizer.recommend.model import Recommendation, RecommendationSet
from rightsizer.units import MiB

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_CURRENT = {"color": "#888888", "linestyle": "--", "linewidth": 1.2}
_NEW = {"color": "#1a9850", "linestyle": "-", "linewidth": 1.6}
_LIMIT_CURRENT = {"color": "#d73027", "linestyle": ":", "linewidth": 1.2}
_LIMIT_NEW = {"color": "#1a9850", "linestyle": "-.", "linewidth": 1.2}


def _bucket_max(times: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    size = max(1, int(np.ceil(len(values) / max_points)))
    if size == 1:
        return times, values
    starts = np.arange(0, len(values), size)
    filled = np.where(np.isfinite(values), values, -np.inf)
    peaks = np.maximum.reduceat(filled, starts)
    return times[starts], np.where(np.isfinite(peaks), peaks, np.nan)


def _find(recs: RecommendationSet | None, key: ContainerKey) -> Recommendation | None:
    if recs is None:
        return None
    return next((r for r in recs if r.key == key), None)


def _lines(ax, rec: Recommendation | None, resource: str, scale: float, vertical: bool = False) -> None:
    if rec is None:
        return
    draw = ax.axvline if vertical else ax.axhline
    pairs = [
        (rec.current_requests, _CURRENT, "request now"),
        (rec.current_limits, _LIMIT_CURRENT, "limit now"),
        (rec.requests, _NEW, "request recommended"),
        (rec.limits, _LIMIT_NEW, "limit recommended"),
    ]
    for resources, style, label in pairs:
        value = getattr(resources, resource) if resources is not None else None
        if value is not None:
            draw(value / scale, label=label, **style)


def plot_container(history: ClusterHistory, key: ContainerKey, recs: RecommendationSet | None = None,
                   max_points: int = 400) -> Figure:
    """CPU and memory of one workload container over time and as distributions, with the requests and limits.

    >>> import rightsizer as rs
    >>> h = rs.load_history(demo=True)
    >>> fig = rs.plot_container(h, next(iter(h.containers)), rs.recommend(h))
    >>> len(fig.axes)
    4
    """
    from matplotlib.figure import Figure  # imported on first use: every other command starts faster

    if key not in history.containers:
        raise RightsizerError(f"no container {key} in this history")
    ch = history.containers[key]
    rec = _find(recs, key)
    times = (history.start + history.step * np.arange(history.n_steps)).astype("datetime64[s]")
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    cpu_ax = fig.add_subplot(grid[0, :2])
    mem_ax = fig.add_subplot(grid[1, :2], sharex=cpu_ax)
    cpu_hist = fig.add_subplot(grid[0, 2])
    mem_hist = fig.add_subplot(grid[1, 2])
    fig.suptitle(str(key), fontsize=11, x=0.01, ha="left")

    # the CPU the request was sized on: each step's last scrape interval where the source measured it
    series, what = _cpu_series(ch, history)
    cpu = ch.per_step(series, history.n_steps, "max")
    t, v = _bucket_max(times, cpu, max_points)
    cpu_ax.plot(t, v, color="#4575b4", linewidth=0.8, label=f"cpu {what}, hottest pod")
    _lines(cpu_ax, rec, "cpu", 1.0)
    cpu_ax.set_ylabel("cores")
    cpu_ax.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)
    samples = ch.samples[series][np.isfinite(ch.samples[series])]
    if len(samples):
        cpu_hist.hist(samples, bins=40, color="#4575b4", alpha=0.8)
    _lines(cpu_hist, rec, "cpu", 1.0, vertical=True)
    cpu_hist.set_title(f"cpu samples {what}, all pods", fontsize=8)

    memory = ch.per_step("memory", history.n_steps, "max") / MiB
    t, v = _bucket_max(times, memory, max_points)
    shown = np.isfinite(v)  # peaks fetched per hour sit on every twelfth 5-minute step: join them
    mem_ax.plot(t[shown], v[shown], color="#762a83", linewidth=0.8, label="working set, peak")
    if ch.samples.has("heap_used"):
        t, h = _bucket_max(times, ch.per_step("heap_used", history.n_steps, "max") / MiB, max_points)
        mem_ax.plot(t, h, color="#f46d43", linewidth=0.7, label="V8 heap used")
        if rec is not None and rec.nodejs is not None:
            mem_ax.axhline(rec.nodejs.max_old_space_size_mib, color="#f46d43", linestyle="--", linewidth=1,
                           label="--max-old-space-size")
    for event in ch.oom_kills:
        mem_ax.axvline(np.datetime64(int(event.time), "s"), color="#d73027", alpha=0.4, linewidth=0.8)
    _lines(mem_ax, rec, "memory", MiB)
    mem_ax.set_ylabel("MiB")
    mem_ax.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)
    peaks = memory[np.isfinite(memory)]
    if len(peaks):
        mem_hist.hist(peaks, bins=40, color="#762a83", alpha=0.8)
    _lines(mem_hist, rec, "memory", MiB, vertical=True)
    mem_hist.set_title("memory peaks", fontsize=8)
    for ax in (cpu_ax, mem_ax, cpu_hist, mem_hist):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.2)
    return fig


def _cpu_series(ch: ContainerHistory, history: ClusterHistory) -> tuple[str, str]:
    """The CPU series the recommendation read (see ``ContainerHistory.cpu_at_scrape``) and how to label it."""
    if ch.samples.has("cpu_scrape"):
        interval = f"{history.scrape_interval:g}s " if history.scrape_interval else ""
        return "cpu_scrape", f"at the {interval}scrape interval"
    return "cpu", f"({history.step:g}s step means)"


def figure_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element: text kept as text, no external references."""
    from matplotlib import rc_context

    buffer = io.StringIO()
    # fonts as text (smaller, searchable); a fixed id salt so the same data gives the same file
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "rightsizer"}):
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)  # creation date and tool: noise
    return text[text.index("<svg"):]


def slug(key: ContainerKey) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(key).lower()).strip("-")
