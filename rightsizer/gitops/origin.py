"""Where the code-host token may go: only the scheme, host and port the user named.

A remote or an API answering with a redirect to another host must not receive the token:
git gets it from a credential helper that answers only for the named origins (and is told
never to follow a redirect past the first request), the API clients talk through a
session that refuses a redirect to another origin, and a plain ``http://`` remote or API
URL is refused unless ``--allow-insecure-remote`` says the network is trusted.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from rightsizer.errors import RightsizerError

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefused(RightsizerError):
    """A code host redirected a request that carries the token to another origin."""


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in for http and https; user-info dropped."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise RightsizerError(f"invalid URL {shown(url)}: the port is not a number") from None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def shown(url: str) -> str:
    """``scheme://host[:port]`` of a URL, for messages (never its user-info or path)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}" if parts.scheme else url


def is_http_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in _DEFAULT_PORTS


def refuse_insecure(url: str, what: str, allow_insecure: bool) -> None:
    """A plain ``http://`` URL would carry the token in clear text: refused unless explicitly allowed."""
    if urlsplit(url).scheme.lower() == "http" and not allow_insecure:
        raise RightsizerError(f"{what} {shown(url)} is plain http: the token would cross the network unencrypted; "
                              "use https, or pass --allow-insecure-remote on a network you trust")


def remote_urls(checkout: Path) -> list[str]:
    """The fetch and push URLs of a local checkout's ``origin`` (what git will send the token to)."""
    urls = []
    for extra in ([], ["--push"]):
        run = subprocess.run(["git", "-C", str(checkout), "remote", "get-url", *extra, "origin"],
                             capture_output=True, text=True, check=False)
        if run.returncode == 0 and run.stdout.strip():
            urls.append(run.stdout.strip())
    return list(dict.fromkeys(urls))


def git_hosts(url: str) -> list[str]:
    """``protocol://host`` as git's credential protocol names the URL's origin (with and without a default port)."""
    scheme, host, port = origin_of(url)
    if ":" in host:
        host = f"[{host}]"
    if port is None:
        return [f"{scheme}://{host}"]
    forms = [f"{scheme}://{host}:{port}"]
    if port == _DEFAULT_PORTS.get(scheme):
        forms.append(f"{scheme}://{host}")
    return forms


# Answers git's ``get`` only for the origins listed in RIGHTSIZER_GIT_ORIGINS; says on stderr what it refused.
_HELPER = """#!/bin/sh
[ "$1" = get ] || exit 0
protocol= host=
while IFS= read -r line; do
  case "$line" in
    protocol=*) protocol=${line#protocol=} ;;
    host=*) host=${line#host=} ;;
  esac
done
asked=$(printf '%s://%s' "$protocol" "$host" | tr 'A-Z' 'a-z')
case " $RIGHTSIZER_GIT_ORIGINS " in
  *" $asked "*) printf 'username=%s\\npassword=%s\\n' "$RIGHTSIZER_GIT_USERNAME" "$RIGHTSIZER_GIT_PASSWORD" ;;
  *) printf 'rightsizer-refused: %s\\n' "$asked" >&2 ;;
esac
"""

#: the line the helper writes when git asks for another origin's credentials
REFUSED_MARK = "rightsizer-refused: "


def credential_helper() -> Path:
    """A throwaway credential helper script that reads the token from the environment (in no file, no argv)."""
    fd, name = tempfile.mkstemp(prefix="rightsizer-credential-", suffix=".sh")
    with os.fdopen(fd, "w") as fh:
        fh.write(_HELPER)
    path = Path(name)
    path.chmod(stat.S_IRWXU)
    return path


def git_settings(helper: Path) -> list[str]:
    """``git -c`` options: only our helper is asked (the user's are reset), no askpass program, and a
    redirect is followed for the first request only (git's own rule), never for a push."""
    return ["-c", "credential.helper=", "-c", f"credential.helper=!{shlex.quote(str(helper))}", "-c", "core.askPass=",
            "-c", "http.followRedirects=initial", "-c", "credential.useHttpPath=false"]


def refuse_redirect_elsewhere(url: str, timeout: float = 30) -> None:
    """Ask ``url`` once, without the token, and refuse a redirect to another origin.

    For a client library that handles redirects itself (PyGithub sends no token elsewhere but
    fails on a 302 with a traceback): a host that moved is named before the token is used.
    """
    try:
        answer = requests.get(url, allow_redirects=False, timeout=timeout)
    except requests.RequestException:
        return  # unreachable: the client's own error says so
    location = answer.headers.get("Location") if answer.is_redirect else None
    if location:
        target = requests.compat.urljoin(url, location)
        if origin_of(target) != origin_of(url):
            raise RedirectRefused(_refusal(url, target))


def _refusal(url: str, target: str) -> str:
    return (f"the code host at {shown(url)} redirected to {shown(target)}: the token is sent only to {shown(url)}; "
            "give the API URL the host really answers at (--api-url)")


class SameOriginSession(requests.Session):
    """A requests session that refuses to follow a redirect to another origin than the one it was made for.

    requests drops ``Authorization`` on such a redirect but keeps other headers, and GitLab's
    token travels in ``PRIVATE-TOKEN``: refusing the redirect keeps every kind of token home.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.origin_url = url

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        if origin_of(prepared_request.url) != origin_of(self.origin_url):
            raise RedirectRefused(_refusal(self.origin_url, prepared_request.url))
        super().rebuild_auth(prepared_request, response)
