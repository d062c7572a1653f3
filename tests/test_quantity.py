from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rightsizer.errors import QuantityError
from rightsizer.quantity import (
    BINARY_SUFFIXES,
    DECIMAL_SUFFIXES,
    MAX_QUANTITY,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("0.5", Decimal("0.5")),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("128Mi", Decimal(128 * 2**20)),
        ("1G", Decimal(10**9)),
        ("1.5Gi", Decimal(3 * 2**29)),
        ("500k", Decimal(500_000)),
        ("2Ti", Decimal(2 * 2**40)),
        ("1E", Decimal(10**18)),  # E alone is exa, not an exponent
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("+1", Decimal(1)),
        ("1e-3", Decimal("0.001")),
        (" 250m ", Decimal("0.25")),
        (2, Decimal(2)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parses_every_form_exactly(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("junk", ["", "abc", "1.2.3", "1mi", "--1", "1 Gi", "Gi", "1e", "1e99", "1KI", "0x10", "∞"])
def test_rejects_junk_with_the_value_and_an_example(junk):
    with pytest.raises(QuantityError) as err:
        parse_quantity(junk, what="cpu request of shop/api")
    assert "cpu request of shop/api" in str(err.value)
    assert repr(junk.strip()) in str(err.value) or "exponent" in str(err.value)


@pytest.mark.parametrize("bad", [True, None, float("nan"), float("inf"), [1]])
def test_rejects_non_quantities(bad):
    with pytest.raises(QuantityError):
        parse_quantity(bad)


def test_resources_must_not_be_negative():
    with pytest.raises(QuantityError, match="negative"):
        parse_cpu("-100m")
    with pytest.raises(QuantityError, match="negative"):
        parse_memory("-1Gi")


def test_too_large_is_refused():
    with pytest.raises(QuantityError, match="2\\^63"):
        parse_quantity("16Ei")


@pytest.mark.parametrize(
    ("cores", "text"), [(0.25, "250m"), (1.5, "1500m"), (2, "2000m"), (0.0004, "1m"), (0.1 * 3, "300m"), (0, "0m")]
)
def test_cpu_is_formatted_in_whole_millicores_rounding_up(cores, text):
    assert format_cpu(cores) == text


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [(2**30, "1Gi"), (1.5 * 2**30, "1536Mi"), (10**9, "1G"), (1000, "1k"), (3 * 1024, "3Ki"), (1001, "1001"),
     (2**40, "1Ti"), (0, "0"), (0.5, "1")],
)
def test_memory_is_formatted_in_the_largest_exact_unit(num_bytes, text):
    assert format_memory(num_bytes) == text


# --- properties -----------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.tuples(st.integers(0, 10**4), st.integers(0, 10**4)).map(lambda t: f"{t[0]}.{t[1]}"),
)
suffixes = st.sampled_from([*BINARY_SUFFIXES, *DECIMAL_SUFFIXES, "e3", "E-2", "e0"])


def _expected(number: str, suffix: str) -> Decimal:
    if suffix in BINARY_SUFFIXES:
        return Decimal(number) * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return Decimal(number) * DECIMAL_SUFFIXES[suffix]
    return Decimal(number).scaleb(int(suffix[1:]))


@given(numbers, suffixes)
def test_any_valid_quantity_parses_to_its_exact_value(number, suffix):
    expected = _expected(number, suffix)
    if expected > MAX_QUANTITY:
        with pytest.raises(QuantityError, match="larger than"):
            parse_quantity(number + suffix)
    else:
        assert parse_quantity(number + suffix) == expected


@given(st.integers(min_value=0, max_value=2**50))
def test_memory_round_trips_exactly(num_bytes):
    assert parse_quantity(format_memory(num_bytes)) == num_bytes


@given(st.integers(min_value=0, max_value=10**7))
def test_millicores_round_trip_exactly(millis):
    assert parse_quantity(format_cpu(Decimal(millis) / 1000)) == Decimal(millis) / 1000


@given(numbers, suffixes)
def test_formatting_never_rounds_down_and_is_stable(number, suffix):
    assume(_expected(number, suffix) <= MAX_QUANTITY)
    value = parse_quantity(number + suffix)
    cpu = parse_quantity(format_cpu(value))
    assert value <= cpu < value + Decimal("0.001")
    assert format_cpu(cpu) == format_cpu(value)
    memory = parse_quantity(format_memory(value))
    assert value <= memory < value + 1
    assert format_memory(memory) == format_memory(value)


@given(st.text(max_size=12))
def test_arbitrary_text_parses_or_raises_a_quantity_error(text):
    try:
        value = parse_quantity(text)
    except QuantityError:
        return
    assert isinstance(value, Decimal)
