"""Durations (``14d``, ``5m``, ``1h30m``) and instants (``now``, ISO 8601, unix seconds) from flags."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from rightsizer.errors import RightsizerError

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)([wdhms]))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(text: str, *, flag: str = "duration") -> float:
    """Seconds in ``text``: ``90`` (seconds), ``5m``, ``14d``, ``1h30m``.

    >>> parse_duration("1h30m")
    5400.0
    """
    value = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    elif _DURATION.fullmatch(value):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value))
    else:
        raise RightsizerError(f"invalid {flag} {text!r}: use a number with a unit, e.g. 300s, 5m, 6h, 14d, 2w")
    if seconds <= 0:
        raise RightsizerError(f"invalid {flag} {text!r}: must be longer than zero")
    return seconds


def parse_instant(text: str, *, flag: str = "--end") -> float:
    """Unix seconds for ``now``, an ISO 8601 time (UTC unless it says otherwise) or unix seconds."""
    value = text.strip()
    if value == "now":
        return time.time()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RightsizerError(f"invalid {flag} {text!r}: use now, unix seconds or ISO 8601 like "
                              "2026-11-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def format_duration(seconds: float) -> str:
    """The shortest exact form: ``14d``, ``5m``, ``90s``."""
    for unit, size in _UNITS.items():
        if unit != "w" and seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
