"""What a Prometheus fetch reads (the window, its step, the scope of a store), and the grid it lands on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rightsizer.errors import RightsizerError
from rightsizer.needs import EVERY_STEP, DataNeeds
from rightsizer.sources import queries as q

#: the scrape interval assumed where none can be measured (no cAdvisor series ran through the last two hours)
DEFAULT_SCRAPE_INTERVAL = 60.0
#: ``progress(done, total, what)``: called as a fetch advances, for a progress bar
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FetchOptions:
    """What to fetch and at which resolution."""

    window: float = 14 * 86_400.0  # seconds of history
    step: float = 300.0  # seconds between samples
    end: float | None = None  # unix seconds; None means now
    #: seconds between cAdvisor's scrapes: the resolution CPU is sized at; None: measured from the samples
    scrape_interval: float | None = None
    nodejs_metric_prefix: str = ""  # prom-client's configurable prefix
    batch_pods: int = 200  # pods' worth of history per usage query batch (a pod counts the share of the window it lived)
    #: what the consumer reads: the server aggregates the rest where that loses nothing (a strategy's
    #: ``needs``; the default, every series at every step, is what snapshots and backtests keep)
    needs: DataNeeds = EVERY_STEP
    #: the label telling clusters apart in a store that holds several (Thanos, Mimir, VictoriaMetrics)
    cluster_label: str | None = None

    def __post_init__(self) -> None:
        if self.cluster_label is not None:
            q.check_label_name(self.cluster_label, "--cluster-label")
        if self.step < 10:
            raise RightsizerError(f"--step {self.step:g}s is too fine: use 10s or more (5m is the default)")
        if self.window < 2 * self.step:
            raise RightsizerError(f"--window must hold at least two steps of {self.step:g}s")

    def grid(self) -> Grid:
        """The window's steps, aligned to the step so runs agree."""
        end = time.time() if self.end is None else self.end
        last = end - end % self.step
        n_steps = int(self.window // self.step)
        return Grid(last - (n_steps - 1) * self.step, self.step, n_steps)

    @property
    def scrape(self) -> float:
        """The scrape interval, or the usual one before it is measured."""
        return self.scrape_interval or DEFAULT_SCRAPE_INTERVAL

    @property
    def rate_window(self) -> float:
        """The window of the step's mean rate: the step, with at least four scrapes in it."""
        return max(self.step, 4 * self.scrape)

    @property
    def peak_step(self) -> float:
        """The step of gauge peaks (working set, heap, RSS): the coarser one the consumer allows, where it holds
        whole steps."""
        coarse = self.needs.peak_step
        if coarse is not None and coarse % self.step == 0 and self.step < coarse:
            return coarse
        return self.step


@dataclass(frozen=True)
class Grid:
    """The time grid of a fetch: step ``i`` is stamped ``start + i * step``."""

    start: float
    step: float
    n_steps: int

    @property
    def end(self) -> float:
        return self.start + (self.n_steps - 1) * self.step
