"""Credentials kept out of everything rightsizer prints or stores.

A Prometheus URL may carry ``user:password@``; it is taken apart once, where the
connection settings are made (the user-info becomes basic auth), and any text that
holds a URL (a source description, a snapshot recorded by an older version) has the
user-info removed before it is rendered.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

#: ``scheme://user-info@``: everything up to the last ``@`` before the host's end
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@")


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user-info, user, password)``; user and password are percent-decoded, ``None`` when absent."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return urlunsplit(parts._replace(netloc=host)), user, password


def redact_urls(text: str) -> str:
    """``text`` with the user-info of every URL in it removed (``http://u:p@host`` -> ``http://host``)."""
    return _USERINFO.sub(r"\g<scheme>", text)
