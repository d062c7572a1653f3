"""The weekly job: recommendations -> edits on a fresh branch -> one pull request, opened or updated.

No change means no commit and no PR.  The same branch is reused every week, so the team
sees one PR that follows the cluster, never a pile of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rightsizer.gitops.provider import Provider, PullRequest
from rightsizer.gitops.repo import GitRepo
from rightsizer.patch import PatchResult, PlannedChange, build_patch, write_patch
from rightsizer.recommend.model import RecommendationSet
from rightsizer.report.markdown import render_markdown

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
    action: str  # "none", "created", "updated", "unchanged"
    pull_request: PullRequest | None
    result: PatchResult
    branch: str


def pr_body(recs: RecommendationSet | None, result: PatchResult) -> str:
    if recs is not None:
        applied = {what for what, _, _ in result.applied}
        shown = RecommendationSet([r for r in recs if str(r.key) in applied], recs.window, recs.source, recs.strategy)
        body = render_markdown(shown)
    else:
        body = f"## rightsizer: {len(result.applied)} containers to resize\n\nFrom a reviewed report.\n"
    lines = [body.rstrip(), "", "### Files", ""]
    lines += [f"- `{file}`: {what} ({how})" for what, file, how in sorted(result.applied, key=lambda a: str(a[1]))]
    if result.skipped:
        lines += ["", "<details><summary>Not applied</summary>", ""]
        lines += [f"- {why}" for why in result.skipped.values()]
        lines += ["", "</details>"]
    lines += ["", "### How to revert", "",
              ("Close this pull request to drop the change (rightsizer proposes afresh next week). After merging, "
               "revert the merge commit (`git revert -m 1 <merge sha>`) and sync."), ""]
    return "\n".join(lines)


def open_or_update(repo: GitRepo, provider: Provider, changes: list[PlannedChange], recs: RecommendationSet | None,
                   base: str, branch: str, mapping: Path | None = None, return_to: str | None = None,
                   cluster: str = "", environment: str | None = None) -> PrOutcome:
    try:
        existed = repo.prepare_branch(base, branch)
        result = build_patch(repo.path, changes, mapping, environment=environment)
        if not result.files:
            return PrOutcome("none", None, result, branch)
        write_patch(repo.path, result)
        title = f"rightsizer: resize {len(result.applied)} containers" + (f" in {cluster}" if cluster else "")
        if not repo.commit(title + "\n\n" + "\n".join(f"- {what}" for what, _, _ in result.applied)):
            return PrOutcome("none", None, result, branch)
        body = pr_body(recs, result)
        current = provider.find_open(branch, base)
        pushed = not (existed and repo.same_as_remote(branch))
        if pushed:
            repo.push(branch, base, existed)
        if current is not None:
            return PrOutcome("updated" if pushed else "unchanged", provider.update(current, title, body), result,
                             branch)
        return PrOutcome("created", provider.create(branch, base, title, body), result, branch)
    finally:
        repo.restore(return_to)
