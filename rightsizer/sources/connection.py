"""Prometheus settings as a deployment gives them: a URL and options, credentials from the environment.

The command line, the weekly job and a notebook build their settings here, so a credential is
looked for in the same places whichever way rightsizer runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from rightsizer.credentials import parse_headers, read_secret
from rightsizer.sources.client import PrometheusSettings

#: where credentials come from (each ``*_TOKEN``/``*_PASSWORD`` may also be ``*_FILE``, a path)
TOKEN_ENV = "RIGHTSIZER_PROMETHEUS_TOKEN"
USER_ENV = "RIGHTSIZER_PROMETHEUS_USER"
PASSWORD_ENV = "RIGHTSIZER_PROMETHEUS_PASSWORD"


def prometheus_settings(url: str, *, timeout: float = 60.0, retries: int = 3, concurrency: int = 4,
                        ca_file: Path | None = None, client_cert: Path | None = None, client_key: Path | None = None,
                        headers: list[str] | None = None, insecure_skip_verify: bool = False) -> PrometheusSettings:
    """Settings for ``url`` with the bearer token or basic-auth pair found in the environment.

    ``headers`` are ``'Name: value'`` strings (``X-Scope-OrgID: tenant`` for Mimir and Cortex).
    """
    return PrometheusSettings(
        url=url,
        bearer_token=read_secret(TOKEN_ENV),
        username=os.environ.get(USER_ENV) or None,
        password=read_secret(PASSWORD_ENV),
        ca_file=ca_file, client_cert=client_cert, client_key=client_key,
        headers=parse_headers(headers), insecure_skip_verify=insecure_skip_verify,
        timeout=timeout, retries=retries, concurrency=concurrency,
    )
