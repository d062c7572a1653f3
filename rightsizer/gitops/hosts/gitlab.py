"""GitLab merge requests through python-gitlab (gitlab.com or a self-hosted instance)."""

from __future__ import annotations

import gitlab
from gitlab.exceptions import GitlabAuthenticationError, GitlabError

from rightsizer.gitops.origin import SameOriginSession
from rightsizer.gitops.provider import Provider, ProviderError, PullRequest, register


@register
class GitLabProvider(Provider):
    name = "gitlab"
    token_env = "GITLAB_TOKEN"
    git_username = "oauth2"
    default_api_url = "https://gitlab.com"

    def __init__(self, project: str, token: str, api_url: str = default_api_url):
        # python-gitlab follows a GET's redirect with the PRIVATE-TOKEN header: the session refuses another origin
        self._gl = gitlab.Gitlab(api_url.rstrip("/"), private_token=token, retry_transient_errors=False,
                                 session=SameOriginSession(api_url))
        try:
            self._project = self._gl.projects.get(project)
        except GitlabError as exc:
            raise _error(exc, f"project {project}") from None

    def find_open(self, branch: str, base: str) -> PullRequest | None:
        try:
            for mr in self._project.mergerequests.list(source_branch=branch, target_branch=base, state="opened",
                                                       iterator=True):
                return PullRequest(mr.iid, mr.web_url)
        except GitlabError as exc:
            raise _error(exc, "listing merge requests") from None
        return None

    def closed_unmerged(self, branch: str, base: str) -> list[str]:
        try:  # GitLab's "closed" is closed without merging ("merged" is its own state)
            return [mr.description or "" for mr in self._project.mergerequests.list(
                source_branch=branch, target_branch=base, state="closed", iterator=True)]
        except GitlabError as exc:
            raise _error(exc, "listing closed merge requests") from None

    def create(self, branch: str, base: str, title: str, body: str) -> PullRequest:
        try:
            mr = self._project.mergerequests.create({"source_branch": branch, "target_branch": base, "title": title,
                                                     "description": body, "remove_source_branch": True})
        except GitlabError as exc:
            raise _error(exc, "opening the merge request") from None
        return PullRequest(mr.iid, mr.web_url)

    def update(self, pr: PullRequest, title: str, body: str) -> PullRequest:
        try:
            self._project.mergerequests.update(pr.number, {"title": title, "description": body})
        except GitlabError as exc:
            raise _error(exc, f"updating merge request !{pr.number}") from None
        return pr


def _error(exc: GitlabError, what: str) -> ProviderError:
    code = getattr(exc, "response_code", None)
    if isinstance(exc, GitlabAuthenticationError) or code == 401:
        return ProviderError(f"GitLab refused the token while {what} (HTTP 401: expired or revoked?): set a valid "
                             "GITLAB_TOKEN")
    return ProviderError(f"GitLab answered HTTP {code} while {what}: {exc.error_message}")
