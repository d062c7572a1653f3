"""The weekly pull request in two calls, as the ``pr`` command and a scheduled job run it.

:func:`code_host` comes first and fails fast (no host can be told, no token) before any history is
read; :func:`open_pull_request` then applies the changes and opens or updates the one pull request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rightsizer.config import PolicySet
from rightsizer.credentials import read_secret
from rightsizer.errors import RightsizerError
from rightsizer.gitops.evidence import BacktestEvidence
from rightsizer.gitops.optout import set_aside
from rightsizer.gitops.origin import git_hosts, is_http_url, refuse_insecure, remote_urls
from rightsizer.gitops.pr import DEFAULT_BRANCH, PrOutcome, cluster_of, open_or_update, work_branch
from rightsizer.gitops.provider import Provider, choose_host, project_from_remote
from rightsizer.gitops.repo import GitRepo
from rightsizer.patch import PlannedChange
from rightsizer.recommend.model import RecommendationSet


@dataclass(frozen=True)
class CodeHost:
    """A repository (a URL to clone or a clean local checkout), its code host's type, and the token for it.

    ``git_origins`` are the only origins git may send the token to: the repository URL's (or the local
    checkout's ``origin`` remote's), as git's credential protocol names them.
    """

    repo: str
    host_type: type[Provider]
    token: str = field(repr=False)
    api_url: str | None = None
    project: str | None = None
    git_origins: tuple[str, ...] = ()


def code_host(repo: str, provider: str | None = None, token_env: str | None = None, api_url: str | None = None,
              project: str | None = None, allow_insecure_remote: bool = False) -> CodeHost:
    """The code host of ``repo`` (``provider``, or guessed from its remote) and its token, read from
    ``token_env`` (by default the host's own variable, e.g. ``GITHUB_TOKEN``, or the file ``<VAR>_FILE``
    names).

    A plain ``http://`` repository, ``origin`` remote or API URL is refused unless ``allow_insecure_remote``:
    the token would travel in clear text.
    """
    host_type = choose_host(repo, provider)
    remotes = remote_urls(Path(repo)) if Path(repo).is_dir() else [repo]
    for url in remotes:
        refuse_insecure(url, "the repository remote", allow_insecure_remote)
    refuse_insecure(api_url or host_type.default_api_url, "--api-url", allow_insecure_remote)
    variable = token_env or host_type.token_env
    token = read_secret(variable)
    if not token:
        raise RightsizerError(f"no token: set {variable} (a token that can push to the repository and open pull "
                              "requests)")
    origins = tuple(form for url in remotes if is_http_url(url) for form in git_hosts(url))
    return CodeHost(repo, host_type, token, api_url, project, origins)


def open_pull_request(host: CodeHost, changes: list[PlannedChange], recs: RecommendationSet | None = None, *,
                      base: str = "main", branch: str = DEFAULT_BRANCH, workdir: Path | None = None,
                      mapping: Path | None = None, environment: str | None = None,
                      policies: PolicySet | None = None, evidence: BacktestEvidence | None = None,
                      allow_remote: bool = False) -> PrOutcome:
    """Apply ``changes`` on ``branch`` (from ``base``) and open, or update, the pull request that carries them.

    ``recs`` (with costs) makes the pull request's body show what the change saves, and ``evidence`` (the
    backtest of the history ``recs`` came from) how the policy fared against the baselines; no change, no pull
    request.  Workloads ``policies`` exclude are left alone and listed.  With several clusters in one store the
    default branch gets the cluster's name.  ``environment`` names the overlay, ``values-NAME.yaml`` or
    HelmRelease patch to edit where the repository has several.  ``allow_remote`` lets the kustomize check fetch the
    remote resources a kustomization lists (refused by default).
    """
    where = cluster_of(changes)
    changes, left_alone = set_aside(changes, policies)
    # git runs inside the clone: relative paths are made absolute first, or they would be read from within it
    workdir = Path(workdir).absolute() if workdir else None
    repo = str(Path(host.repo).absolute()) if Path(host.repo).exists() else host.repo
    git, return_to = GitRepo.open(repo, workdir, host.token, host.host_type.git_username, host.git_origins)
    name = host.project or project_from_remote(git.remote_url())
    client = host.host_type(name, host.token, host.api_url or host.host_type.default_api_url)
    return open_or_update(git, client, changes, recs, base, work_branch(branch, where), mapping, return_to,
                          cluster=where, environment=environment, left_alone=left_alone, evidence=evidence,
                          allow_remote=allow_remote)
