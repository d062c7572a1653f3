"""The backtest a pull request carries: this policy against the baselines, on the history the run read.

The weekly job already holds the cluster's history, one part of whole workloads at a time;
:meth:`BacktestEvidence.watch` scores each part as it goes by (recommend from the earlier
part of the window, replay the later part, ``rightsizer.backtest.score``), so the evidence
costs no query and no second copy of the history.  Only figures that hold whatever detail
the source kept are added up (memory may be hourly peaks, CPU is read at the scrape
interval): containers that would have been OOMKilled, containers whose CPU p95 is above
the request, the share of CPU samples above it, and the requests themselves (per pod).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rightsizer.backtest import DEFAULT_STRATEGIES, score, split
from rightsizer.config import PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory
from rightsizer.units import DAY, GiB

#: the shortest history a backtest is run on: at least two days to recommend from and one to replay
MIN_DAYS = 3.0
#: the replayed share of the window, and its cap: the week a weekly pull request lives with
TEST_SHARE, MAX_TEST = 0.3, 7 * DAY


@dataclass
class StrategyFigures:
    """One strategy's figures over every part scored."""

    containers: int = 0
    would_oom: int = 0
    cpu_p95_above: int = 0
    cpu_samples_above: float = 0.0  # summed over containers; divided by ``containers`` when shown
    cpu_requests: float = 0.0  # cores, one pod of each container
    memory_requests: float = 0.0  # bytes, one pod of each container

    @property
    def cpu_samples_above_share(self) -> float:
        return self.cpu_samples_above / self.containers if self.containers else 0.0

    @property
    def memory_requests_gib(self) -> float:
        return self.memory_requests / GiB


@dataclass
class BacktestEvidence:
    """Scores each part of a history as it streams past; ``figures`` by strategy, or ``unavailable`` saying why."""

    policies: PolicySet | None = None
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    min_days: float = MIN_DAYS
    figures: dict[str, StrategyFigures] = field(default_factory=dict)
    train_window: str = ""
    test_window: str = ""
    unavailable: str | None = None

    def watch(self, parts: Iterable[ClusterHistory]) -> Iterator[ClusterHistory]:
        """Yield each part unchanged, scoring it first."""
        for part in parts:
            self.add(part)
            yield part

    def add(self, part: ClusterHistory) -> None:
        span = part.n_steps * part.step
        if span < self.min_days * DAY:
            self.unavailable = (f"the history holds {span / DAY:.1f} days, and a backtest needs {self.min_days:g} "
                                "(recommend from the earlier part, replay the rest): run with a longer --window")
            return
        test_seconds = min(MAX_TEST, TEST_SHARE * span)
        try:  # the evidence is a courtesy: whatever stops it leaves the pull request itself alone
            train, test = split(part, span - test_seconds, test_seconds)
            rows, recsets = score(train, test, self.strategies, self.policies)
        except RightsizerError as exc:
            self.unavailable = str(exc)
            return
        self.train_window, self.test_window = train.describe_window(), test.describe_window()
        if rows:
            import pandas as pd  # where it is used: at the top, every command's start-up would take a second longer

            for name, scored in pd.DataFrame(rows).groupby("strategy", sort=False):
                figures = self.figures.setdefault(str(name), StrategyFigures())
                figures.containers += len(scored)
                figures.would_oom += int((scored["oom_episodes"] > 0).sum())
                figures.cpu_p95_above += int(scored["cpu_p95_above_request"].sum())
                figures.cpu_samples_above += float(scored["cpu_share_above_request"].sum())
        for name, recs in recsets.items():
            figures = self.figures.setdefault(name, StrategyFigures())
            for rec in recs:
                if rec.requests is not None and rec.key in test.containers:
                    figures.cpu_requests += rec.requests.cpu or 0.0
                    figures.memory_requests += rec.requests.memory or 0.0

    @property
    def ready(self) -> bool:
        """Whether there is anything to show: figures and no reason they are missing."""
        return self.unavailable is None and any(f.containers for f in self.figures.values())
