"""``rightsizer patch`` and ``rightsizer pr``: the recommendations applied to a GitOps repository."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rightsizer.api import recommend_priced
from rightsizer.errors import RightsizerError
from rightsizer.gitops.evidence import BacktestEvidence
from rightsizer.gitops.optout import set_aside
from rightsizer.gitops.pr import DEFAULT_BRANCH
from rightsizer.gitops.weekly import code_host, open_pull_request
from rightsizer.patch import (
    PlannedChange,
    build_patch,
    not_planned,
    one_cluster,
    plan,
    read_recommendations,
    write_kubectl_patches,
    write_patch,
)
from rightsizer.recommend import RecommendationSet, find

from .console import say, setup_logging
from .options import (
    SOURCE,
    PolicyOptions,
    PricingOptions,
    SourceFlags,
    WindowOptions,
    history_parts,
)

RecommendationsFile = Annotated[Path | None, typer.Option(
    "--recommendations", rich_help_panel=SOURCE,
    help="Apply a report written earlier by 'rightsizer report -o json' (exactly what was reviewed).")]
Mapping = Annotated[Path | None, typer.Option(
    "--mapping", help="YAML list of {workload, container, file, path} for what cannot be located by itself.")]
Environment = Annotated[str | None, typer.Option(
    "--environment", help="Which overlay, values-NAME.yaml or HelmRelease patch to edit where the repository "
                          "has several (default: the cluster's name).")]


def _changes(file: Path | None, flags: SourceFlags, window: WindowOptions, policy: PolicyOptions,
             prices: PricingOptions, evidence: BacktestEvidence | None = None
             ) -> tuple[list[PlannedChange], RecommendationSet | None]:
    """The changes to make: from a reviewed report file, or recommended now from a source (each part of its
    history also scored into ``evidence``, when given)."""
    if file is not None:
        if flags.prometheus.prometheus_url or flags.offline.snapshot or flags.offline.demo:
            raise RightsizerError("--recommendations replaces the source: drop --prometheus-url, --snapshot or --demo")
        reviewed = read_recommendations(file, flags.scope.scope())
        return one_cluster(plan(reviewed)), reviewed
    parts = history_parts(flags, window.seconds(), find("rightsizer").needs)
    if evidence is not None:
        parts = evidence.watch(parts)
    recs = recommend_priced(parts, prices.pricing(), policy.policies())  # the PR body shows what it saves
    return one_cluster(plan(recs)), recs


AllowRemote = Annotated[bool, typer.Option(
    "--allow-remote-resources", help="Let kubectl kustomize fetch the remote resources (http(s), git) "
                                     "kustomizations list, within 30 s, to check the edit; by default what "
                                     "they render is not edited.")]


def patch(
    *,
    repo: Annotated[Path | None, typer.Option("--repo", help="The GitOps repository checkout to edit.")] = None,
    recommendations: RecommendationsFile = None,
    source: SourceFlags,
    window: WindowOptions,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the unified diff; change nothing.")] = False,
    output_dir: Annotated[Path | None, typer.Option(
        "-o", "--output-dir", help="Write kubectl strategic-merge patch files here instead of editing a repo.")] = None,
    mapping: Mapping = None,
    environment: Environment = None,
    allow_remote: AllowRemote = False,
    policy: PolicyOptions,
) -> None:
    """Apply the recommendations to a GitOps checkout: plain manifests, Kustomize overlays, Helm values.

    Only the changed values move in the files (comments, order, quoting stay); every edit is
    re-parsed and, where a kustomization renders it, checked with kubectl kustomize before any
    file is written.

    Examples:

      rightsizer patch --demo --repo ./gitops --dry-run

      rightsizer report --prometheus-url http://localhost:9090 -o json --output recs.json
      rightsizer patch --recommendations recs.json --repo ./gitops

      rightsizer patch --demo -o ./patches     # kubectl patch files, no repository
    """
    setup_logging(source.run.verbose)
    if (repo is None) == (output_dir is None):
        raise RightsizerError("give --repo PATH (edit a checkout) or -o DIR (write kubectl patch files), not both")
    changes, recs = _changes(recommendations, source, window,
                          policy, PricingOptions())
    changes, left_alone = set_aside(changes, policy.policies())
    if output_dir is not None:
        written = write_kubectl_patches(changes, output_dir)
        say(f"wrote {len(written)} patch files to {output_dir}")
        for why in left_alone.values():
            say(f"  - {why}")
        return
    assert repo is not None
    if not repo.is_dir():
        raise RightsizerError(f"--repo {repo} is not a directory")
    result = build_patch(repo, changes, mapping, environment=environment, allow_remote=allow_remote)
    result.skipped.update(left_alone)
    if dry_run:
        sys.stdout.write(result.diff())
    else:
        write_patch(repo, result)
    verb = "would change" if dry_run else "changed"
    say(f"{verb} {len(result.files)} files for {len(result.applied)} containers; {len(result.skipped)} not applied")
    for _, why in sorted(result.skipped.items()):
        say(f"  - {why}")
    for key, placement in sorted(result.heap.items()):
        where = f"NODE_OPTIONS={placement.node_options!r}" if placement.where == "NODE_OPTIONS" else \
            f"in its {placement.where}" + (f", NODE_OPTIONS={placement.node_options!r}" if placement.node_options else "")
        say(f"  heap flag of {key}: {where}")
    for note in result.notes:
        say(f"  note: {note}")
    if recommendations is not None and recs is not None:  # a reviewed file: every entry is accounted for
        for why in not_planned(recs).values():
            say(f"  - {why}")


def pull_request(
    *,
    repo: Annotated[str, typer.Option("--repo", help="Repository URL to clone, or a local checkout (clean, on a "
                                                     "branch, with an 'origin' remote).")],
    base: Annotated[str, typer.Option("--base", help="Branch the pull request targets.")] = "main",
    branch: Annotated[str, typer.Option(
        "--branch", help="Work branch, reused every week (with --cluster-label, the cluster is appended).")
    ] = DEFAULT_BRANCH,
    provider: Annotated[str | None, typer.Option(
        "--provider", help="github or gitlab (guessed from the remote's host).")] = None,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="API base URL (GitHub Enterprise: https://HOST/api/v3; GitLab: https://HOST).")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="owner/name on the code host (read from the remote URL by default).")] = None,
    token_env: Annotated[str | None, typer.Option(
        "--token-env", help="Environment variable holding the token (default GITHUB_TOKEN or GITLAB_TOKEN).")] = None,
    workdir: Annotated[Path | None, typer.Option("--workdir", help="Empty directory to clone into.")] = None,
    allow_insecure_remote: Annotated[bool, typer.Option(
        "--allow-insecure-remote", help="Accept plain http:// for the repository and the API (the token travels "
                                        "unencrypted: a trusted network only).")] = False,
    recommendations: RecommendationsFile = None,
    source: SourceFlags,
    window: WindowOptions,
    mapping: Mapping = None,
    environment: Environment = None,
    allow_remote: AllowRemote = False,
    prices: PricingOptions,
    policy: PolicyOptions,
) -> None:
    """Open (or update) the pull request that right-sizes the GitOps repository: the weekly job.

    Branches from the base, applies the recommendations, commits, pushes the work branch and
    opens a pull request, or updates the one it opened before. No change: no commit, no PR,
    exit 0. The token comes from GITHUB_TOKEN / GITLAB_TOKEN (or --token-env) and is never
    printed.

    Examples:

      GITHUB_TOKEN=... rightsizer pr --repo https://github.com/acme/gitops --prometheus-url http://prometheus:9090

      rightsizer pr --repo ./gitops --recommendations reviewed.json --provider gitlab --api-url https://git.acme.io
    """
    setup_logging(source.run.verbose)
    policies = policy.policies()
    host = code_host(repo, provider, token_env, api_url, project, allow_insecure_remote)
    evidence = BacktestEvidence(policies) if recommendations is None else None
    changes, recs = _changes(recommendations, source,
                             window, policy, prices, evidence)
    outcome = open_pull_request(host, changes, recs, base=base, branch=branch, workdir=workdir, mapping=mapping,
                                environment=environment, policies=policies, evidence=evidence,
                                allow_remote=allow_remote)
    if outcome.action == "declined":
        say("this change was declined before (its pull request was closed without merging): not proposed again")
    elif outcome.pull_request is None:
        say("nothing to change: no pull request")
    else:
        say(f"{outcome.action} {outcome.pull_request.url} ({len(outcome.result.applied)} containers, "
            f"{len(outcome.result.files)} files)")
    for why in outcome.result.skipped.values():
        say(f"  - not applied: {why}")
