"""rightsizer: what CPU and memory Kubernetes containers really need, from Prometheus history.

The library is the product; the ``rightsizer`` command is a thin shell over it::

    import rightsizer as rs
    history = rs.load_history(demo=True)          # or prometheus_url=..., snapshot=...
    recs = rs.recommend(history)
    recs.to_frame()                               # a pandas DataFrame, one row per container
"""

from __future__ import annotations

__version__ = "0.1.0"

from rightsizer.api import DEMO_SNAPSHOT, load_history, save_snapshot
from rightsizer.backtest import Backtest, backtest, split
from rightsizer.config import Policy, PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, WorkloadKey
from rightsizer.recommend import Recommendation, RecommendationSet, recommend
from rightsizer.report.plots import plot_container
from rightsizer.scope import Scope

__all__ = [
    "DEMO_SNAPSHOT",
    "Backtest",
    "ClusterHistory",
    "ContainerHistory",
    "ContainerKey",
    "Policy",
    "PolicySet",
    "Recommendation",
    "RecommendationSet",
    "RightsizerError",
    "Scope",
    "WorkloadKey",
    "__version__",
    "backtest",
    "load_history",
    "plot_container",
    "recommend",
    "save_snapshot",
    "split",
]
