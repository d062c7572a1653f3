"""Time bounds of one HTTP answer: its whole body within a deadline, and the wait a ``Retry-After`` asks for.

``requests``' timeout bounds each wait for bytes, not an answer: a server sending a byte a
second never trips it.  These keep a run's time what ``--timeout`` says.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

import requests
import urllib3

#: the longest wait a ``Retry-After`` answer gets (and never longer than --timeout)
MAX_RETRY_AFTER = 30.0
_READ_CHUNK = 1 << 16


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a number of seconds or an HTTP date); None without one."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def read_within(response: requests.Response, budget: float) -> None:
    """Read the whole body within ``budget`` seconds, or fail as a timeout.

    The body is read a piece at a time against the deadline and kept as the response's
    content, where ``requests`` keeps what it reads itself.
    """
    deadline = time.monotonic() + budget
    chunks = []
    try:
        while True:
            if time.monotonic() > deadline:
                response.close()
                raise requests.exceptions.ReadTimeout("the answer did not arrive in time")
            chunk = response.raw.read1(_READ_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except urllib3.exceptions.HTTPError as exc:  # a connection cut mid-body, a bad chunk
        raise requests.exceptions.ConnectionError(str(exc)) from None
    response._content = b"".join(chunks)
    response._content_consumed = True
