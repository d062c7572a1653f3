"""GitHub pull requests through PyGithub (github.com, or GitHub Enterprise with its API URL).

PyGithub sends the token to no other host (it follows a 301 on the same host only and
raises ``RuntimeError`` otherwise; a 302 reaches its parser as an empty answer): the
repository's URL is asked once without the token first, so a host that redirects elsewhere
is named in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from github import Auth, Github, GithubException

from rightsizer.gitops.origin import refuse_redirect_elsewhere, shown
from rightsizer.gitops.provider import Provider, ProviderError, PullRequest, register


@register
class GitHubProvider(Provider):
    name = "github"
    token_env = "GITHUB_TOKEN"
    git_username = "x-access-token"
    default_api_url = "https://api.github.com"

    def __init__(self, project: str, token: str, api_url: str = default_api_url):
        refuse_redirect_elsewhere(f"{api_url.rstrip('/')}/repos/{project}")
        self._gh = Github(base_url=api_url.rstrip("/"), auth=Auth.Token(token), retry=None)
        self._api_url = api_url
        self._project = project
        self._owner = project.split("/")[0]
        with self._asking(f"repository {project}"):
            self._repo = self._gh.get_repo(project)

    @contextmanager
    def _asking(self, what: str) -> Iterator[None]:
        """Turn what PyGithub raises while doing ``what`` into one line."""
        try:
            yield
        except GithubException as exc:
            raise _error(exc, what, self._api_url) from None
        except RuntimeError as exc:  # PyGithub's answer to a 301 elsewhere
            if "redirect" not in str(exc):
                raise
            raise ProviderError(f"GitHub at {shown(self._api_url)} redirected while {what}: the token is sent only "
                                "there; give the API URL the host really answers at (--api-url)") from None

    def find_open(self, branch: str, base: str) -> PullRequest | None:
        with self._asking("listing pull requests"):
            for pr in self._repo.get_pulls(state="open", head=f"{self._owner}:{branch}", base=base):
                return PullRequest(pr.number, pr.html_url)
        return None

    def closed_unmerged(self, branch: str, base: str) -> list[str]:
        with self._asking("listing closed pull requests"):
            bodies = [pr.body or "" for pr in self._repo.get_pulls(state="closed", head=f"{self._owner}:{branch}",
                                                                   base=base) if pr.merged_at is None]
        return bodies

    def create(self, branch: str, base: str, title: str, body: str) -> PullRequest:
        with self._asking("opening the pull request"):
            pr = self._repo.create_pull(title=title, body=body, head=branch, base=base)
        return PullRequest(pr.number, pr.html_url)

    def update(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        with self._asking(f"updating pull request #{pr.number}"):
            self._repo.get_pull(pr.number).edit(title=title, body=body)
        return pr


def _error(exc: GithubException, what: str, api_url: str) -> ProviderError:
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    if 300 <= exc.status < 400:
        return ProviderError(f"GitHub at {shown(api_url)} answered HTTP {exc.status} (a redirect) while {what}: "
                             "the token is sent only there; give the API URL the host really answers at (--api-url)")
    if exc.status == 401:
        return ProviderError(f"GitHub refused the token while {what} (HTTP 401: expired or revoked?): set a valid "
                             "GITHUB_TOKEN")
    if exc.status in (403, 404):
        return ProviderError(f"GitHub answered HTTP {exc.status} while {what}: the token needs access to the "
                             f"repository (contents and pull requests: write){f' ({message})' if message else ''}")
    return ProviderError(f"GitHub answered HTTP {exc.status} while {what}{f': {message}' if message else ''}")
