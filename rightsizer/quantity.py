"""Kubernetes resource quantities: parse every form the API server accepts, format canonically.

The grammar is the one in ``k8s.io/apimachinery/pkg/api/resource``::

    quantity ::= signed-number suffix
    suffix   ::= binarySI (Ki Mi Gi Ti Pi Ei) | decimalSI (m "" k M G T P E) | ("e"|"E") signed-integer

Values are parsed into :class:`decimal.Decimal` so that ``"0.1"`` or ``"1.5Gi"`` stay
exact; the recommender works in float cores and bytes, and output goes through
:func:`format_cpu` (whole millicores) and :func:`format_memory` (Gi/Mi first), the
forms reviewers expect in a manifest.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext

from rightsizer.errors import QuantityError

BINARY_SUFFIXES: dict[str, int] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
DECIMAL_SUFFIXES: dict[str, Decimal] = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}

# The API server stores quantities in an int64 of the smallest unit it keeps; anything
# beyond that is a typo, not a resource size.
MAX_QUANTITY = Decimal(2**63 - 1)
_MAX_EXPONENT = 30

_QUANTITY_RE = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|)"
)

_HINT = 'expected a number with an optional suffix, e.g. "250m", "0.5", "1e3", "128Mi", "1G"'

#: Output order for memory: binary units read best, decimal ones are kept when exact.
_MEMORY_UNITS: tuple[tuple[str, Decimal], ...] = (
    ("Ti", Decimal(2**40)),
    ("Gi", Decimal(2**30)),
    ("Mi", Decimal(2**20)),
    ("T", Decimal(10**12)),
    ("G", Decimal(10**9)),
    ("M", Decimal(10**6)),
    ("k", Decimal(10**3)),
    ("Ki", Decimal(2**10)),
)


def parse_quantity(value: str | float | Decimal, *, what: str = "quantity") -> Decimal:
    """Parse a Kubernetes quantity exactly.

    ``what`` names the field in the error message (``"cpu request of shop/api"``), so a
    bad value in a 500-line config says where it is.

    >>> parse_quantity("1.5Gi")
    Decimal('1610612736.0')
    >>> parse_quantity("250m")
    Decimal('0.250')
    """
    if isinstance(value, bool):
        raise QuantityError(f"invalid {what} {value!r}: {_HINT}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(f"invalid {what} {value!r}: must be a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        result = _parse_text(value.strip(), what)
    else:
        raise QuantityError(f"invalid {what} {value!r}: {_HINT}")
    if abs(result) > MAX_QUANTITY:
        raise QuantityError(f"invalid {what} {value!r}: larger than the 2^63-1 Kubernetes allows")
    return result


def _parse_text(text: str, what: str) -> Decimal:
    match = _QUANTITY_RE.fullmatch(text)
    if match is None:
        raise QuantityError(f"invalid {what} {text!r}: {_HINT}")
    number = Decimal(match["number"])
    if match["sign"] == "-":
        number = -number
    suffix = match["suffix"]
    if suffix in BINARY_SUFFIXES:
        return number * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return number * DECIMAL_SUFFIXES[suffix]
    exponent = int(suffix[1:])
    if abs(exponent) > _MAX_EXPONENT:
        raise QuantityError(f"invalid {what} {text!r}: exponent {exponent} is out of range")
    try:
        return number.scaleb(exponent)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the exponent bound
        raise QuantityError(f"invalid {what} {text!r}: {exc}") from exc


def _non_negative(value: Decimal, original: object, what: str) -> Decimal:
    if value < 0:
        raise QuantityError(f"invalid {what} {original!r}: must not be negative")
    return value


def parse_cpu(value: str | float | Decimal, *, what: str = "cpu quantity") -> float:
    """Parse a CPU quantity into cores (``"250m"`` -> 0.25)."""
    return float(_non_negative(parse_quantity(value, what=what), value, what))


def parse_memory(value: str | float | Decimal, *, what: str = "memory quantity") -> float:
    """Parse a memory quantity into bytes (``"1Gi"`` -> 1073741824.0)."""
    return float(_non_negative(parse_quantity(value, what=what), value, what))


def _exact(value: float | Decimal) -> Decimal:
    """Decimal of a value; floats keep 15 significant digits so 0.1 * 3 formats as 300m, not 301m."""
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if not math.isfinite(value):
        raise QuantityError(f"cannot format {value!r} as a quantity: not a finite number")
    return Decimal(f"{value:.15g}")


def format_cpu(cores: float | Decimal) -> str:
    """Format cores as whole millicores, rounding up (Kubernetes keeps no finer precision).

    >>> format_cpu(0.25), format_cpu(1.5), format_cpu(0.0004)
    ('250m', '1500m', '1m')
    """
    with localcontext() as ctx:
        ctx.prec = 50
        millis = (_exact(cores) * 1000).to_integral_value(rounding=ROUND_CEILING)
    return f"{int(millis)}m"


def format_memory(num_bytes: float | Decimal) -> str:
    """Format bytes in the largest unit that keeps the value a whole number, rounding up to a byte.

    Binary units come first (``1536Mi`` rather than ``1.5Gi``: an integer in the unit
    reviewers read most), decimal units are kept when they are exact (``1G``).

    >>> format_memory(2**30), format_memory(1.5 * 2**30), format_memory(10**9), format_memory(1000)
    ('1Gi', '1536Mi', '1G', '1k')
    """
    with localcontext() as ctx:
        ctx.prec = 50
        whole = _exact(num_bytes).to_integral_value(rounding=ROUND_CEILING)
        if whole == 0:
            return "0"
        for suffix, size in _MEMORY_UNITS:
            count = whole / size
            if count == count.to_integral_value():
                return f"{int(count)}{suffix}"
    return str(int(whole))
