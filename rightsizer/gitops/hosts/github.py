"""GitHub pull requests through PyGithub (github.com, or GitHub Enterprise with its API URL)."""

from __future__ import annotations

from github import Auth, Github, GithubException

from rightsizer.gitops.provider import Provider, ProviderError, PullRequest, register


@register
class GitHubProvider(Provider):
    name = "github"
    token_env = "GITHUB_TOKEN"
    git_username = "x-access-token"
    default_api_url = "https://api.github.com"

    def __init__(self, project: str, token: str, api_url: str = default_api_url):
        self._gh = Github(base_url=api_url.rstrip("/"), auth=Auth.Token(token), retry=None)
        self._project = project
        self._owner = project.split("/")[0]
        try:
            self._repo = self._gh.get_repo(project)
        except GithubException as exc:
            raise _error(exc, f"repository {project}") from None

    def find_open(self, branch: str, base: str) -> PullRequest | None:
        try:
            for pr in self._repo.get_pulls(state="open", head=f"{self._owner}:{branch}", base=base):
                return PullRequest(pr.number, pr.html_url)
        except GithubException as exc:
            raise _error(exc, "listing pull requests") from None
        return None

    def closed_unmerged(self, branch: str, base: str) -> list[str]:
        try:
            return [pr.body or "" for pr in self._repo.get_pulls(state="closed", head=f"{self._owner}:{branch}",
                                                                 base=base) if pr.merged_at is None]
        except GithubException as exc:
            raise _error(exc, "listing closed pull requests") from None

    def create(self, branch: str, base: str, title: str, body: str) -> PullRequest:
        try:
            pr = self._repo.create_pull(title=title, body=body, head=branch, base=base)
        except GithubException as exc:
            raise _error(exc, "opening the pull request") from None
        return PullRequest(pr.number, pr.html_url)

    def update(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        try:
            self._repo.get_pull(pr.number).edit(title=title, body=body)
        except GithubException as exc:
            raise _error(exc, f"updating pull request #{pr.number}") from None
        return pr


def _error(exc: GithubException, what: str) -> ProviderError:
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    if exc.status == 401:
        return ProviderError(f"GitHub refused the token while {what} (HTTP 401: expired or revoked?): set a valid "
                             "GITHUB_TOKEN")
    if exc.status in (403, 404):
        return ProviderError(f"GitHub answered HTTP {exc.status} while {what}: the token needs access to the "
                             f"repository (contents and pull requests: write){f' ({message})' if message else ''}")
    return ProviderError(f"GitHub answered HTTP {exc.status} while {what}{f': {message}' if message else ''}")
