"""Secrets and headers from where they may come: the environment or a file it names, never a flag.

A flag would put a token in the shell history and in ``ps`` output; ``ENV`` or ``ENV_FILE`` (a
mounted Kubernetes Secret, a CI variable) keeps it out of both.
"""

from __future__ import annotations

import os
from pathlib import Path

from rightsizer.errors import RightsizerError


def read_secret(env: str) -> str | None:
    """The secret in ``$ENV``, else the contents of the file named by ``$ENV_FILE``, else None."""
    if os.environ.get(env):
        return os.environ[env]
    path = os.environ.get(f"{env}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise RightsizerError(f"cannot read {env}_FILE {path!r}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise RightsizerError(f"{env}_FILE {path!r} is not UTF-8 text") from None
    return None


def parse_headers(values: list[str] | None) -> dict[str, str]:
    """``['Name: value', ...]`` as a mapping; a value without a colon is refused, naming it."""
    headers = {}
    for value in values or []:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise RightsizerError(f"invalid --header {value!r}: use 'Name: value'")
        headers[name.strip()] = content.strip()
    return headers
