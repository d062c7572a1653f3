"""Reading a manifest's quantities for the rules: a value that is not a quantity is not known, never an error."""

from __future__ import annotations

import math
from typing import Any

from rightsizer.errors import QuantityError
from rightsizer.quantity import format_cpu, format_memory, parse_cpu, parse_memory
from rightsizer.units import MiB


def cores(value: Any) -> float | None:
    try:
        return parse_cpu(value) if value is not None else None
    except (QuantityError, TypeError):
        return None


def bytes_of(value: Any) -> float | None:
    try:
        return parse_memory(value) if value is not None else None
    except (QuantityError, TypeError):
        return None


def cpu_text(value: float | None) -> str:
    return "-" if value is None else format_cpu(value)


def memory_text(value: float | None) -> str:
    """Rounded up to a whole MiB, in binary units (a measured peak to the byte is noise to a reader)."""
    return "-" if value is None else format_memory(math.ceil(value / MiB) * MiB)


def percent(share: float) -> str:
    return f"{100 * share:.1f}%" if share < 0.1 else f"{100 * share:.0f}%"
