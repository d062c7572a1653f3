"""Git, run for real: clone or fetch, branch from the base, commit, push.

Rules that keep a team's repository safe from an unattended job:

* a checkout with uncommitted changes, or on a detached HEAD, is refused;
* the base branch is never pushed to;
* the work branch is overwritten (force-pushed with a lease) only when every commit on it
  that is not on the base was made by rightsizer (the ``Rightsizer-Managed`` trailer):
  someone's fix pushed onto it is never thrown away;
* the token reaches git through a credential helper that reads it from the environment
  (never a URL or a command line that could be logged) and answers only for the origins the
  user named (``gitops.origin``): a redirect to another host gets nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rightsizer.errors import RightsizerError
from rightsizer.gitops.origin import REFUSED_MARK, credential_helper, git_settings

TRAILER = "Rightsizer-Managed: true"


class GitError(RightsizerError):
    """A git operation failed or would be unsafe."""


@dataclass
class GitRepo:
    path: Path
    token: str | None = None
    username: str = "x-access-token"
    origins: tuple[str, ...] = ()  # ``protocol://host[:port]`` the token may be sent to

    def git(self, *args: str, check: bool = True) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("GIT_ASKPASS", "SSH_ASKPASS")}
        env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        helper, settings = None, []
        if self.token:
            helper = credential_helper()
            settings = git_settings(helper)
            env.update(RIGHTSIZER_GIT_USERNAME=self.username, RIGHTSIZER_GIT_PASSWORD=self.token,
                       RIGHTSIZER_GIT_ORIGINS=" ".join(self.origins))
        try:
            run = subprocess.run(["git", *settings, *args], cwd=self.path, capture_output=True, text=True, env=env,
                                 timeout=300, check=False)
        finally:
            if helper is not None:
                helper.unlink(missing_ok=True)
        if check and run.returncode != 0:
            refused = [line.split(REFUSED_MARK, 1)[1] for line in run.stderr.splitlines() if REFUSED_MARK in line]
            if refused:
                named = " or ".join(self.origins[:1]) or "no http(s) origin"
                raise GitError(f"git {args[0]} failed: the remote sent git to {refused[0]} (a redirect), but the "
                               f"token is sent only to {named}, the remote named: give --repo the URL the "
                               "repository is really served at")
            message = (run.stderr.strip() or run.stdout.strip()).splitlines()
            text = " ".join(message[-3:]) if message else f"exit {run.returncode}"
            if self.token:
                text = text.replace(self.token, "***")
            raise GitError(f"git {args[0]} failed: {text}")
        return run.stdout.strip()

    @classmethod
    def open(cls, repo: str, workdir: Path | None, token: str | None, username: str,
             origins: tuple[str, ...] = ()) -> tuple[GitRepo, str | None]:
        """A repo to work in: the local checkout itself (clean, on a branch), or a fresh clone of a URL
        (or of a bare repository on disk).

        Returns the repo and, for a local checkout, the branch to return to afterwards.
        """
        local = Path(repo)
        if local.is_dir() and not (local / ".git").exists() and not (local / "HEAD").is_file():
            raise GitError(f"{repo} is a directory but not a git checkout or repository")
        if local.is_dir() and (local / ".git").exists():
            r = cls(local.resolve(), token, username, origins)
            if r.git("status", "--porcelain"):
                raise GitError(f"{repo} has uncommitted changes: commit or stash them first (rightsizer will not "
                               "mix its edits with yours)")
            branch = r.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
            if not branch:
                raise GitError(f"{repo} is on a detached HEAD: check out a branch first")
            if not r.git("remote", check=False):
                raise GitError(f"{repo} has no remote to push to: add one (git remote add origin URL)")
            return r, branch
        target = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="rightsizer-gitops-"))
        if target.exists() and any(target.iterdir()):
            raise GitError(f"--workdir {target} is not empty")
        target.mkdir(parents=True, exist_ok=True)
        r = cls(target, token, username, origins)
        r.git("clone", "--quiet", repo, str(target))
        return r, None

    def ensure_identity(self) -> None:
        if not self.git("config", "user.email", check=False):
            self.git("config", "user.email", "rightsizer@localhost")
            self.git("config", "user.name", "rightsizer")

    def prepare_branch(self, base: str, branch: str) -> bool:
        """Check out ``branch`` reset to the remote base; True when the branch already existed remotely."""
        if branch == base:
            raise GitError(f"the work branch may not be the base branch {base!r}")
        self.git("fetch", "--quiet", "origin")
        if not self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{base}", check=False):
            raise GitError(f"the base branch {base!r} does not exist on the remote")
        exists = bool(self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", check=False))
        if exists:
            foreign = [line for line in self.git("log", "--format=%H%x00%B%x01",
                                                 f"origin/{base}..origin/{branch}").split("\x01")
                       if line.strip() and TRAILER not in line]
            if foreign:
                raise GitError(f"the branch {branch!r} has commits not made by rightsizer: refusing to overwrite "
                               "it; merge or delete it, or choose another --branch")
        self.git("checkout", "--quiet", "-B", branch, f"origin/{base}")
        return exists

    def commit(self, message: str) -> bool:
        """Commit everything; False when there is nothing to commit."""
        self.git("add", "--all")
        if not self.git("status", "--porcelain"):
            return False
        self.ensure_identity()
        self.git("commit", "--quiet", "-m", f"{message}\n\n{TRAILER}")
        return True

    def same_as_remote(self, branch: str) -> bool:
        remote = self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}^{{tree}}", check=False)
        return bool(remote) and remote == self.git("rev-parse", "HEAD^{tree}")

    def push(self, branch: str, base: str, existed: bool) -> None:
        if branch == base:
            raise GitError("refusing to push to the base branch")
        lease = []
        if existed:
            old = self.git("rev-parse", f"refs/remotes/origin/{branch}")
            lease = [f"--force-with-lease={branch}:{old}"]
        self.git("push", "--quiet", *lease, "origin", f"HEAD:refs/heads/{branch}")

    def restore(self, branch: str | None) -> None:
        if branch:
            self.git("checkout", "--quiet", branch, check=False)

    def remote_url(self) -> str:
        return self.git("remote", "get-url", "origin")


def git_available() -> None:
    if shutil.which("git") is None:
        raise GitError("git not found: install git")
