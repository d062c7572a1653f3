"""What the weekly job needs from a code host, and the registry of hosts by name.

A host is one class in ``gitops/hosts/`` registered with :func:`register`: it finds its
open pull request, opens one, updates it, and says how it is reached (token variable,
git username, default API URL, which remote hosts are its own).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from rightsizer.errors import RightsizerError


class ProviderError(RightsizerError):
    """The code host refused or failed a request."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str


class Provider(ABC):
    """A code host: how it is reached, and the three pull request operations the weekly job uses."""

    name: ClassVar[str]  # the --provider value
    token_env: ClassVar[str]  # where the token is read from by default
    git_username: ClassVar[str]  # the user name git sends with the token over https
    default_api_url: ClassVar[str]

    @abstractmethod
    def __init__(self, project: str, token: str, api_url: str) -> None: ...

    @classmethod
    def recognises(cls, hostname: str) -> bool:
        """Whether a remote on this host name is likely this code host (to guess --provider)."""
        return cls.name in hostname

    @abstractmethod
    def find_open(self, branch: str, base: str) -> PullRequest | None: ...

    @abstractmethod
    def closed_unmerged(self, branch: str, base: str) -> list[str]:
        """The descriptions of pull requests from ``branch`` that were closed without merging (declined)."""

    @abstractmethod
    def create(self, branch: str, base: str, title: str, body: str) -> PullRequest: ...

    @abstractmethod
    def update(self, pr: PullRequest, title: str, body: str) -> PullRequest: ...


_HOSTS: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: make a code host available by its ``name``."""
    _HOSTS[cls.name] = cls
    return cls


def hosts() -> dict[str, type[Provider]]:
    """Every registered code host by name (their client libraries load here, for the command that needs them)."""
    from rightsizer.gitops import hosts as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return dict(sorted(_HOSTS.items()))


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


def guess_host(url: str) -> str | None:
    """The registered host a remote URL (https or ssh) points to, when its host name says."""
    hostname = urlsplit(url).hostname or (url.split("@", 1)[-1].split(":", 1)[0] if "@" in url else "")
    return next((name for name, cls in hosts().items() if hostname and cls.recognises(hostname)), None)


def choose_host(repo: str, name: str | None = None) -> type[Provider]:
    """The code host: named, or guessed from the repository URL or a local checkout's ``origin``."""
    known = hosts()
    chosen = name or guess_host(repo)
    if chosen is None and Path(repo).is_dir():
        remote = subprocess.run(["git", "-C", repo, "remote", "get-url", "origin"], capture_output=True, text=True,
                                check=False).stdout.strip()
        chosen = guess_host(remote)
    if chosen not in known:
        options = " or ".join(f"--provider {n}" for n in known)
        raise RightsizerError(f"cannot tell the code host: pass {options}")
    return known[chosen]
