"""CPU request: a high percentile of usage plus a margin, with usage under a CPU limit un-censored.

Under a CFS quota a container never shows more than its limit: the usage series is
censored exactly where the demand was highest.  Steps whose throttled-period ratio
passes ``throttled_step`` are censored; in those, each throttled period is taken to
have wanted ``throttled_demand`` times its quota (2x by default), so the demand
estimate is ``usage + ratio x limit x (throttled_demand - 1)``.  That lifts the
percentile above the cap by as much as the throttling says was lost; a heavily
throttled container is also marked, and its limit is proposed for removal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rightsizer.config import CpuPolicy
from rightsizer.recommend.order import percentile


@dataclass(frozen=True)
class CpuEstimate:
    basis: float  # cores: the percentile of (un-censored) usage
    observed: float  # cores: the same percentile of the raw usage
    samples: int
    censored_share: float  # share of samples whose usage was capped by the limit
    mean_throttled: float  # mean throttled-period ratio over censored samples

    @property
    def censored(self) -> bool:
        return self.censored_share > 0


def estimate_cpu(usage: np.ndarray, throttled: np.ndarray, limit: float | None, policy: CpuPolicy) -> CpuEstimate:
    """The percentile the request is built on, from pooled per-pod samples."""
    ok = np.isfinite(usage)
    usage = usage[ok].astype(np.float64)
    ratio = np.nan_to_num(throttled[ok].astype(np.float64), nan=0.0)
    observed = percentile(usage, policy.percentile) if len(usage) else 0.0
    censored = ratio >= policy.throttled_step
    share = float(censored.mean()) if len(usage) else 0.0
    if limit is None or share < policy.throttled_share:
        return CpuEstimate(observed, observed, len(usage), 0.0, 0.0)
    demand = usage + np.where(censored, ratio * limit * (policy.throttled_demand - 1.0), 0.0)
    basis = percentile(demand, policy.percentile)
    return CpuEstimate(max(basis, observed), observed, len(usage), share, float(ratio[censored].mean()))
