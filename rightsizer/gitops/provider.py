"""What the weekly job needs from a code host: find its open pull request, open one, update it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from rightsizer.errors import RightsizerError


class ProviderError(RightsizerError):
    """The code host refused or failed a request."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str


class Provider(Protocol):
    name: str

    def find_open(self, branch: str, base: str) -> PullRequest | None: ...

    def create(self, branch: str, base: str, title: str, body: str) -> PullRequest: ...

    def update(self, pr: PullRequest, title: str, body: str) -> PullRequest: ...


def project_from_remote(url: str) -> str:
    """``owner/name`` (or ``group/sub/name``) from an https or ssh remote URL."""
    if re.match(r"^[\w.-]+@[\w.-]+:", url):  # git@github.com:owner/repo.git
        path = url.split(":", 1)[1]
    else:
        path = urlsplit(url).path
    path = path.strip("/")
    path = path.removesuffix(".git")
    if path.count("/") < 1:
        raise RightsizerError(f"cannot tell the project from the remote {url!r}: pass --project owner/name")
    return path


def guess_provider(url: str) -> str | None:
    host = urlsplit(url).hostname or (url.split("@", 1)[-1].split(":", 1)[0] if "@" in url else "")
    if host and "github" in host:
        return "github"
    if host and "gitlab" in host:
        return "gitlab"
    return None
