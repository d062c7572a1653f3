"""The weekly job: recommendations -> edits on a fresh branch -> one pull request, opened or updated.

No change means no commit and no PR.  The same branch is reused every week, so the team
sees one PR that follows the cluster, never a pile of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rightsizer.gitops.evidence import BacktestEvidence
from rightsizer.gitops.prbody import fingerprint, fingerprint_of, pr_body
from rightsizer.gitops.provider import Provider, PullRequest
from rightsizer.gitops.repo import GitRepo
from rightsizer.patch import PatchResult, PlannedChange, build_patch, write_patch
from rightsizer.recommend.model import RecommendationSet

DEFAULT_BRANCH = "rightsizer/resize"


def cluster_of(changes: list[PlannedChange]) -> str:
    """The cluster the changes come from ("" for a one-cluster store); ``patch.one_cluster`` made it one."""
    clusters = {c.key.cluster for c in changes} - {""}
    return clusters.pop() if clusters else ""


def work_branch(branch: str, cluster: str) -> str:
    """The default branch gets the cluster appended: one weekly PR per cluster, each on its own branch."""
    if cluster and branch == DEFAULT_BRANCH:
        return f"{branch}-{re.sub(r'[^A-Za-z0-9._-]+', '-', cluster)}"
    return branch


@dataclass
class PrOutcome:
    action: str  # "none", "declined" (closed unmerged before: not proposed again), "created", "updated", "unchanged"
    pull_request: PullRequest | None
    result: PatchResult
    branch: str


def open_or_update(repo: GitRepo, provider: Provider, changes: list[PlannedChange], recs: RecommendationSet | None,
                   base: str, branch: str, mapping: Path | None = None, return_to: str | None = None,
                   cluster: str = "", environment: str | None = None, left_alone: dict[str, str] | None = None,
                   evidence: BacktestEvidence | None = None, allow_remote: bool = False) -> PrOutcome:
    """``left_alone`` (container -> why) is listed as not applied; ``evidence`` is the backtest the body shows;
    ``allow_remote`` lets the kustomize check fetch remote resources."""
    try:
        existed = repo.prepare_branch(base, branch)
        result = build_patch(repo.path, changes, mapping, environment=environment, allow_remote=allow_remote)
        result.skipped.update(left_alone or {})
        if not result.files:
            return PrOutcome("none", None, result, branch)
        change_id = fingerprint(changes, result)
        current = provider.find_open(branch, base)
        if current is None and change_id in {fingerprint_of(b) for b in provider.closed_unmerged(branch, base)}:
            return PrOutcome("declined", None, result, branch)
        write_patch(repo.path, result)
        title = f"rightsizer: resize {len(result.applied)} containers" + (f" in {cluster}" if cluster else "")
        if not repo.commit(title + "\n\n" + "\n".join(f"- {what}" for what, _, _ in result.applied)):
            return PrOutcome("none", None, result, branch)
        body = pr_body(recs, result, change_id, evidence)
        pushed = not (existed and repo.same_as_remote(branch))
        if pushed:
            repo.push(branch, base, existed)
        if current is not None:
            return PrOutcome("updated" if pushed else "unchanged", provider.update(current, title, body), result,
                             branch)
        return PrOutcome("created", provider.create(branch, base, title, body), result, branch)
    finally:
        repo.restore(return_to)
