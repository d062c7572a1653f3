"""rightsizer: what CPU and memory Kubernetes containers really need, from Prometheus history.

The library is the product; the ``rightsizer`` command is a thin shell over it, and every command
has its call here::

    import rightsizer as rs
    history = rs.load_history(demo=True)          # or prometheus_url=..., snapshot=...
    recs = rs.recommend(history)                  # report
    recs.to_frame()                               # a pandas DataFrame, one row per container
    rs.backtest(*rs.split(history, 10 * 86400, 4 * 86400)).summary         # backtest
    rs.estimate_cost(history, recs, rs.load_catalog(), "us-east-1")        # cost
    result = rs.build_patch("gitops/", rs.plan(recs)); rs.write_patch("gitops/", result)  # patch
    rs.open_pull_request(rs.code_host("https://github.com/acme/gitops"), rs.plan(recs), recs)  # pr
    evidence = rs.BacktestEvidence()              # pr with the body's backtest, scored as parts are read
    recs = rs.recommend_parts(evidence.watch(rs.iter_history(demo=True)))
    rs.open_pull_request(rs.code_host("https://github.com/acme/gitops"), rs.plan(recs), recs, evidence=evidence)
    rs.save_snapshot(history, "cluster.parquet")  # snapshot
    rs.audit("gitops/", history).to_dataframe()   # audit: the production checklist, with evidence
"""

from __future__ import annotations

__version__ = "0.1.0"

from rightsizer.api import DEMO_SNAPSHOT, iter_history, load_history, recommend_priced, save_snapshot
from rightsizer.audit import AuditResult, Finding, audit
from rightsizer.backtest import Backtest, backtest, split
from rightsizer.config import Policy, PolicySet
from rightsizer.cost.catalog import load_catalog
from rightsizer.cost.estimate import estimate_cost
from rightsizer.cost.pricing import Pricing
from rightsizer.errors import RightsizerError
from rightsizer.gitops.evidence import BacktestEvidence
from rightsizer.gitops.weekly import code_host, open_pull_request
from rightsizer.history import ClusterHistory, ContainerHistory, ContainerKey, WorkloadKey
from rightsizer.patch import build_patch, plan, read_recommendations, write_kubectl_patches, write_patch
from rightsizer.recommend import Recommendation, RecommendationSet, recommend, recommend_parts
from rightsizer.report.plots import plot_container
from rightsizer.scope import Scope
from rightsizer.sources.connection import prometheus_settings
from rightsizer.sources.prometheus import FetchOptions

__all__ = [
    "DEMO_SNAPSHOT",
    "AuditResult",
    "Backtest",
    "BacktestEvidence",
    "ClusterHistory",
    "ContainerHistory",
    "ContainerKey",
    "FetchOptions",
    "Finding",
    "Policy",
    "PolicySet",
    "Pricing",
    "Recommendation",
    "RecommendationSet",
    "RightsizerError",
    "Scope",
    "WorkloadKey",
    "__version__",
    "audit",
    "backtest",
    "build_patch",
    "code_host",
    "estimate_cost",
    "iter_history",
    "load_catalog",
    "load_history",
    "open_pull_request",
    "plan",
    "plot_container",
    "prometheus_settings",
    "read_recommendations",
    "recommend",
    "recommend_parts",
    "recommend_priced",
    "save_snapshot",
    "split",
    "write_kubectl_patches",
    "write_patch",
]
