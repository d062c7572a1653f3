"""The weekly pull request, end to end: real git (a bare repository as the remote) and a local API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_hosts import TOKEN, FakeHost
from git_http import GitHttpHost, RedirectHost, Trap

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gitops-repo"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def remote(tmp_path) -> Path:
    """A bare repository holding the fixture GitOps repo on main."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
    seed = tmp_path / "seed"
    shutil.copytree(FIXTURE, seed)
    git(seed, "init", "--quiet", "--initial-branch=main")
    git(seed, "-c", "user.email=dev@acme.test", "-c", "user.name=dev", "add", "--all")
    git(seed, "-c", "user.email=dev@acme.test", "-c", "user.name=dev", "commit", "--quiet", "-m", "initial")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "--quiet", "origin", "main")
    return bare


def pr(remote: Path, host: FakeHost, *args: str, provider: str = "github", token: str = TOKEN,
       repo: str | None = None, api_url: str | None = None, insecure: bool = True
       ) -> subprocess.CompletedProcess[str]:
    """``rightsizer pr``; the code hosts here speak plain http on 127.0.0.1, hence --allow-insecure-remote."""
    env = {**os.environ, "GITHUB_TOKEN": token, "GITLAB_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "rightsizer", "pr", "--repo", repo or str(remote), "--project", "acme/gitops",
         "--provider", provider, "--api-url", api_url or host.url,
         *(["--allow-insecure-remote"] if insecure else []), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )


def test_opens_then_updates_one_pull_request(remote, tmp_path):
    main_before = git(remote, "rev-parse", "main")
    with FakeHost() as host:
        first = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w1"))
        assert first.returncode == 0, first.stderr
        assert "created" in first.stderr
        assert list(host.pulls) == [1]
        body = host.pulls[1]["body"]
        assert "| shop | Deployment/checkout |" in body and "How to revert" in body
        assert "None" not in body.split("### Why")[0], "no missing value shows as None"
        assert "$ / month" in body and "a month" in body, "the change's cost is shown"
        assert "kustomize/shop/overlays/prod/resources.yaml" in body
        backtest = body.split("### Backtest on this cluster")[1].split("###")[0]
        assert "| **rightsizer** (this policy) | 30 |" in backtest, "the policy's figures on the demo cluster"
        assert "| max-plus-15 | 30 |" in backtest and "| vpa-like | 30 |" in backtest, "against the baselines"
        by_hand = body.split("### To do by hand")[1].split("###")[0]
        assert "<details>" not in body, "nothing a reviewer must act on is folded away"
        assert "- [ ] payments/Deployment/payments-api/app: set --max-old-space-size=" in by_hand, \
            "the heap flag the Helm chart cannot take"
        assert "- [ ] the HPA storefront" in by_hand, "the HPA to change by hand"
        branch_sha = git(remote, "rev-parse", "rightsizer/resize")
        log = git(remote, "log", "-1", "--format=%B", "rightsizer/resize")
        assert "Rightsizer-Managed: true" in log
        assert git(remote, "rev-parse", "main") == main_before, "the base branch is never pushed to"

        again = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w2"))
        assert again.returncode == 0, again.stderr
        assert "unchanged" in again.stderr and list(host.pulls) == [1], "no duplicate pull request"
        assert git(remote, "rev-parse", "rightsizer/resize") == branch_sha, "nothing new to push"

        different = pr(remote, host, "--demo", "--profile", "reliability", "--workdir", str(tmp_path / "w3"))
        assert different.returncode == 0, different.stderr
        assert "updated" in different.stderr and list(host.pulls) == [1]
        assert git(remote, "rev-parse", "rightsizer/resize") != branch_sha
        assert git(remote, "rev-parse", "main") == main_before
    everything = "".join(r for run in (first, again, different) for r in (run.stdout, run.stderr))
    assert TOKEN not in everything


def test_no_change_means_no_pull_request(remote, tmp_path):
    with FakeHost() as host:
        result = pr(remote, host, "--demo", "--namespace", "team-000", "--workdir", str(tmp_path / "w"))
        assert result.returncode == 0, result.stderr
        assert "nothing to change" in result.stderr and host.pulls == {}
    assert "rightsizer/resize" not in git(remote, "branch", "--list")


def test_a_branch_with_someone_elses_commit_is_not_overwritten(remote, tmp_path):
    with FakeHost() as host:
        assert pr(remote, host, "--demo", "--workdir", str(tmp_path / "w1")).returncode == 0
        human = tmp_path / "human"
        git(tmp_path, "clone", "--quiet", "--branch", "rightsizer/resize", str(remote), str(human))
        (human / "NOTE.md").write_text("a reviewer's fix\n")
        git(human, "add", "NOTE.md")
        git(human, "-c", "user.email=dev@acme.test", "-c", "user.name=dev", "commit", "--quiet", "-m", "fix")
        git(human, "push", "--quiet", "origin", "rightsizer/resize")
        pushed = git(remote, "rev-parse", "rightsizer/resize")
        result = pr(remote, host, "--demo", "--profile", "savings", "--workdir", str(tmp_path / "w2"))
        assert result.returncode == 1 and "commits not made by rightsizer" in result.stderr
        assert git(remote, "rev-parse", "rightsizer/resize") == pushed, "nothing force-pushed"


def test_gitlab_merge_requests(remote, tmp_path):
    with FakeHost() as host:
        first = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w1"), provider="gitlab")
        assert first.returncode == 0, first.stderr
        assert "created" in first.stderr and host.pulls[1]["head"] == "rightsizer/resize"
        again = pr(remote, host, "--demo", "--profile", "reliability", "--workdir", str(tmp_path / "w2"),
                   provider="gitlab")
        assert again.returncode == 0 and "updated" in again.stderr and list(host.pulls) == [1]
        assert any(m == "PUT" for m, *_ in host.requests), "the merge request was updated in place"
        assert all(h.get("PRIVATE-TOKEN") == TOKEN for m, p, h, _ in host.requests if p.startswith("/api/v4"))


def test_expired_token_is_a_clear_error(remote, tmp_path):
    with FakeHost() as host:
        result = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w"), token="expired-token-0000")
        assert result.returncode == 1 and "refused the token" in result.stderr and "GITHUB_TOKEN" in result.stderr
        assert "expired-token-0000" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_a_local_checkout_must_be_clean_and_on_a_branch(remote, tmp_path):
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(remote), str(checkout))
    with FakeHost() as host:
        (checkout / "apps/platform/log-agent.yaml").write_text("edited: by hand\n")
        dirty = pr(remote, host, "--demo", repo=str(checkout))
        assert dirty.returncode == 1 and "uncommitted changes" in dirty.stderr
        git(checkout, "checkout", "--quiet", "--", ".")
        git(checkout, "checkout", "--quiet", "--detach")
        detached = pr(remote, host, "--demo", repo=str(checkout))
        assert detached.returncode == 1 and "detached HEAD" in detached.stderr
        git(checkout, "checkout", "--quiet", "main")
        ok = pr(remote, host, "--demo", repo=str(checkout))
        assert ok.returncode == 0, ok.stderr
        assert git(checkout, "symbolic-ref", "--short", "HEAD") == "main", "the checkout is left on its branch"
        assert git(checkout, "status", "--porcelain") == ""


def test_missing_base_and_rejected_push(remote, tmp_path):
    with FakeHost() as host:
        missing = pr(remote, host, "--demo", "--base", "production", "--workdir", str(tmp_path / "w1"))
        assert missing.returncode == 1 and "base branch 'production' does not exist" in missing.stderr
        hook = remote / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho 'branch protection: pushes need review' >&2\nexit 1\n")
        hook.chmod(0o755)
        rejected = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w2"))
        assert rejected.returncode == 1 and "git push failed" in rejected.stderr
        assert host.pulls == {}, "no pull request for a branch that was not pushed"


def test_the_token_is_required(remote, tmp_path):
    with FakeHost() as host:
        result = pr(remote, host, "--demo", token="")
        assert result.returncode == 1 and "no token: set GITHUB_TOKEN" in result.stderr


def test_a_declined_change_is_not_proposed_again(remote, tmp_path):
    with FakeHost() as host:
        first = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w1"))
        assert first.returncode == 0 and list(host.pulls) == [1], first.stderr
        host.pulls[1]["state"] = "closed"  # the team closed it without merging
        again = pr(remote, host, "--demo", "--workdir", str(tmp_path / "w2"))
        assert again.returncode == 0, again.stderr
        assert "declined before" in again.stderr and list(host.pulls) == [1], "not reopened with the same change"
        different = pr(remote, host, "--demo", "--profile", "reliability", "--workdir", str(tmp_path / "w3"))
        assert different.returncode == 0, different.stderr
        assert "created" in different.stderr and list(host.pulls) == [1, 2], "a different change is proposed"
        host.pulls[2].update(state="closed", merged_at="2026-01-05T06:00:00Z")  # merged: not a refusal
        assert "declined" not in pr(remote, host, "--demo", "--profile", "reliability", "--workdir",
                                    str(tmp_path / "w4")).stderr


@pytest.fixture
def served(remote, tmp_path) -> Path:
    """The remote as ``acme/gitops.git`` under a root that :class:`GitHttpHost` serves."""
    root = tmp_path / "srv"
    (root / "acme").mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", "--bare", str(remote), str(root / "acme" / "gitops.git")], check=True)
    return root


def test_git_over_http_sends_the_token_to_the_named_host_only(served, tmp_path):
    with FakeHost() as api, GitHttpHost(served, TOKEN) as githost:
        ok = pr(served, api, "--demo", "--workdir", str(tmp_path / "w1"), repo=f"{githost.url}/acme/gitops.git")
        assert ok.returncode == 0, ok.stderr
        assert "created" in ok.stderr
        assert git(served / "acme" / "gitops.git", "rev-parse", "--verify", "rightsizer/resize")
        assert any(a.startswith("Basic ") for a in githost.authorizations()), "git authenticated with the token"
        with Trap() as elsewhere, RedirectHost(elsewhere.url) as redirecting:
            moved = pr(served, api, "--demo", "--workdir", str(tmp_path / "w2"),
                       repo=f"{redirecting.url}/acme/gitops.git")
            assert redirecting.requests, "git asked the named host first"
            assert elsewhere.requests, "git followed the redirect, and the other port asked for credentials"
            assert elsewhere.authorizations() == [], "no credentials of any kind went to the other port"
        assert moved.returncode == 1
        assert moved.stderr.strip().count("\n") == 0, moved.stderr
        assert "redirect" in moved.stderr and elsewhere.url in moved.stderr and redirecting.url in moved.stderr
        assert TOKEN not in moved.stderr + moved.stdout
        assert list(api.pulls) == [1], "no pull request from the failed run"


def test_a_plain_http_remote_needs_the_flag(remote, served, tmp_path):
    with FakeHost() as api:
        for repo, api_url in ((api.url + "/acme/gitops.git", None), (str(remote), api.url)):
            refused = pr(remote, api, "--demo", "--workdir", str(tmp_path / "w"), repo=repo, api_url=api_url,
                         insecure=False)
            assert refused.returncode == 1
            assert refused.stderr.strip().count("\n") == 0, refused.stderr
            assert "plain http" in refused.stderr and "--allow-insecure-remote" in refused.stderr
            assert "Traceback" not in refused.stderr
        assert api.requests == [], "nothing was sent before the refusal"
        checkout = tmp_path / "checkout"
        git(tmp_path, "clone", "--quiet", str(remote), str(checkout))
        git(checkout, "remote", "set-url", "--push", "origin", api.url + "/acme/gitops.git")
        local = pr(remote, api, "--demo", repo=str(checkout), api_url="https://127.0.0.1:9", insecure=False)
        assert local.returncode == 1 and "the repository remote http://127.0.0.1" in local.stderr
    assert not (tmp_path / "w").exists(), "nothing cloned"


@pytest.mark.parametrize("provider", ["github", "gitlab"])
@pytest.mark.parametrize("status", [301, 302, 307])
def test_an_api_redirect_to_another_port_gets_no_token(remote, tmp_path, provider, status):
    with FakeHost() as api, Trap() as elsewhere, RedirectHost(elsewhere.url, status) as redirecting:
        result = pr(remote, api, "--demo", "--workdir", str(tmp_path / "w"), provider=provider,
                    api_url=redirecting.url)
        assert redirecting.requests, "the API was asked"
        assert elsewhere.authorizations() == [], "no token went to the redirect's target"
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert redirecting.url in result.stderr, "the line names the host that redirected"


def test_the_policy_file_excludes_workloads_from_patch_and_pr(remote, tmp_path):
    config = tmp_path / "rightsizer.yaml"
    config.write_text("exclude:\n  - shop/checkout\n  - payments/StatefulSet/*\n")
    report = tmp_path / "recs.json"
    made = subprocess.run([sys.executable, "-m", "rightsizer", "report", "--demo", "-o", "json", "--output",
                           str(report)], capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(remote), str(checkout))
    dry = subprocess.run([sys.executable, "-m", "rightsizer", "patch", "--recommendations", str(report), "--repo",
                          str(checkout), "--config", str(config), "--dry-run"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert dry.returncode == 0, dry.stderr
    assert "ledger-db.yaml" not in dry.stdout, [l for l in dry.stdout.splitlines() if "ledger" in l]
    assert "apps/platform/api-gateway.yaml" in dry.stdout
    assert "shop/Deployment/checkout/app: left alone: " in dry.stderr and "excludes it (shop/checkout)" in dry.stderr
    with FakeHost() as host:
        result = pr(remote, host, "--recommendations", str(report), "--config", str(config), "--workdir",
                    str(tmp_path / "w"))
        assert result.returncode == 0, result.stderr
        body = host.pulls[1]["body"]
    not_applied = body.split("### Not applied")[1]
    assert "payments/StatefulSet/ledger-db/postgres: left alone: " in not_applied
    assert "excludes it (payments/StatefulSet/*)" in not_applied
    assert "Deployment/checkout |" not in body and "Deployment/storefront |" in body
    changed = git(remote, "diff", "--name-only", "main", "rightsizer/resize").split()
    assert "apps/payments/ledger-db.yaml" not in changed and "apps/platform/api-gateway.yaml" in changed
    assert "Not run: the history these recommendations were made from was not part" in body, "no history, no backtest"
