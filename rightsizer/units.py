"""The unit constants every module shares: bytes, seconds, hours per month."""

from __future__ import annotations

KiB = 2**10
MiB = 2**20
GiB = 2**30
MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0
WEEK = 7 * DAY
#: the hours a month is priced at (365 days x 24 h / 12), as cloud price lists do
HOURS_PER_MONTH = 730.0
