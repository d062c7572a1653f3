"""Durations (``14d``, ``5m``, ``1h30m``) and instants (``now``, ISO 8601, unix seconds) from flags."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

from rightsizer.errors import RightsizerError

#: the latest instant accepted (year 9999): past it, datetime and Prometheus both fail
_LATEST = 253_402_300_799.0
#: the longest duration accepted, 10 years: far beyond any store's retention, and small enough that
#: ``end - window`` stays a representable time
_LONGEST = 10 * 365 * 86_400.0
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
    if not math.isfinite(seconds) or seconds <= 0:
        raise RightsizerError(f"invalid {flag} {text!r}: must be longer than zero")
    if seconds > _LONGEST:
        raise RightsizerError(f"invalid {flag} {text!r}: longer than 10 years; no store keeps that much history")
    return seconds


def parse_instant(text: str, *, flag: str = "--end") -> float:
    """Unix seconds for ``now``, an ISO 8601 time (UTC unless it says otherwise) or unix seconds."""
    value = text.strip()
    if value == "now":
        return time.time()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise RightsizerError(f"invalid {flag} {text!r}: use now, unix seconds or ISO 8601 like "
                                  "2026-11-01T00:00:00Z") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            seconds = parsed.timestamp()
        except (OverflowError, ValueError):
            seconds = math.inf
    if not 0 <= seconds <= _LATEST:
        raise RightsizerError(f"invalid {flag} {text!r}: not a time between 1970 and 9999")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact form: ``14d``, ``5m``, ``90s``."""
    for unit, size in _UNITS.items():
        if unit != "w" and seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
