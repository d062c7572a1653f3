"""What a consumer of a history reads of it: the contract between a strategy and a source.

A strategy knows which of the history's detail its rules look at (the memory rule reads
daily peaks, the CPU rule reads only the throttled steps of the throttling ratio); a
source knows what its server can aggregate.  The strategy states the first here and the
source decides the second, so neither guesses at the other: the Prometheus source lets
the server keep what no rule reads, and a snapshot or a backtest, which keep or score
every step themselves, ask for :data:`EVERY_STEP`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataNeeds:
    """The detail a consumer reads; each field left at its default asks for everything."""

    #: the step's mean CPU rate is read (the rate of each step's last scrape interval always is)
    cpu_mean: bool = True
    #: the coarsest step of gauge peaks (the working set, Node.js heap and RSS) that gives the same answers
    #: (seconds): the rules read peaks of whole hours or days; None: every step
    peak_step: float | None = None
    #: only the steps where a container was throttled are read of the throttling ratio
    throttled_steps_only: bool = False
    #: requests, limits, images and versions are read of each container's latest pod only, which ran
    #: within this span of the window's end if the workload runs at all (seconds); None: the whole window
    settings_within: float | None = None
    #: which node ran each pod
    pod_nodes: bool = True


#: everything at every step: for snapshots, backtests and pictures
EVERY_STEP = DataNeeds()
