"""Exact money: parsing yuan into fen, rounding half up, and splits that add up to the whole."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.money import (
    MAX_TOTAL_FEN,
    MAX_UNIT_FEN,
    MoneyFormatError,
    allocate_proportional,
    fen_times_rate,
    fen_to_decimal,
    format_yuan,
    format_yuan_many,
    round_half_up,
    short_yuan,
    to_fen,
)


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("199", 19900),
        ("199.9", 19990),
        ("199.90", 19990),
        ("0.01", 1),
        ("0", 0),
        (" 32.90 ", 3290),
        ("1,299.00", 129900),
        ("¥5", 500),
        ("￥5.5", 550),
        ("199.", 19900),
        ("-5.00", -500),
        (Decimal("19.90"), 1990),
        (Decimal("1E+2"), 10000),
        (19, 1900),
        (19.9, 1990),
        (0.07, 7),
        (1099.99, 109999),
    ],
)
def test_to_fen_parses_yuan_exactly(value: str | Decimal | int | float, fen: int) -> None:
    assert to_fen(value) == fen


@pytest.mark.parametrize(
    "value",
    ["199.999", "0.001", "19.905", 0.1 + 0.2, 19.999, Decimal("0.005")],
)
def test_to_fen_refuses_amounts_finer_than_a_fen(value: str | Decimal | float) -> None:
    with pytest.raises(MoneyFormatError, match="more than two decimals"):
        to_fen(value)


@pytest.mark.parametrize("value", ["", "abc", "十九", "19,9.9.9", "NaN", "inf", True, False,
                                   "1,2.00", "12,3456.00", "0.5e3", "1e-3", "1,299,00.00",
                                   ",299", "12 3", "5元", "--5", ".", "¥", "1.2.3"])
def test_to_fen_refuses_what_is_not_an_amount(value: str | bool) -> None:
    with pytest.raises(MoneyFormatError):
        to_fen(value)


@pytest.mark.parametrize(("value", "fen"), [("1,299.00", 129900), ("12,345,678.90", 1234567890),
                                            ("100,000,000", 10**10), ("-0.5", -50)])
def test_thousands_separators_in_their_places(value: str, fen: int) -> None:
    assert to_fen(value) == fen


@pytest.mark.parametrize("value", ["100000000.01", 1e16, "-100,000,001", 10**9, 9.2e16,
                                   Decimal("1E+300")])
def test_money_beyond_a_hundred_million_yuan_is_refused(value: object) -> None:
    with pytest.raises(MoneyFormatError, match="too large: at most 100,000,000 yuan"):
        to_fen(value)  # type: ignore[arg-type]


def test_totals_take_a_larger_maximum() -> None:
    assert to_fen("1,000,000,000.00", maximum_fen=MAX_TOTAL_FEN) == 10**11


@given(st.integers(min_value=-MAX_UNIT_FEN, max_value=MAX_UNIT_FEN))
def test_format_yuan_and_to_fen_round_trip(fen: int) -> None:
    assert to_fen(format_yuan(fen)) == fen
    assert to_fen(short_yuan(fen)) == fen


@given(st.integers(min_value=-MAX_TOTAL_FEN, max_value=MAX_TOTAL_FEN))
def test_format_yuan_in_integers_is_the_decimal_text(fen: int) -> None:
    """The integer formatter writes exactly what the Decimal one does, signs and zeros too."""
    assert format_yuan(fen) == f"{fen_to_decimal(fen):.2f}"


@given(st.lists(st.integers(min_value=-MAX_TOTAL_FEN, max_value=MAX_TOTAL_FEN), max_size=8))
def test_format_yuan_many_is_format_yuan_of_each(amounts: list[int]) -> None:
    assert format_yuan_many(amounts) == [format_yuan(a) for a in amounts]


@pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (5, "0.05"), (-5, "-0.05"),
                                           (-100, "-1.00"), (19990, "199.90")])
def test_format_yuan_examples(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_two_decimal_floats_parse_to_their_fen(fen: int) -> None:
    """GIVEN the float a spreadsheet cell holds for a two-decimal amount WHEN parsed THEN exact."""
    assert to_fen(float(format_yuan(fen))) == fen


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=9))
def test_a_third_decimal_digit_is_always_refused(fen: int, third: int) -> None:
    with pytest.raises(MoneyFormatError):
        to_fen(f"{format_yuan(fen)}{third}")


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (-5, 2, -3), (4, 2, 2), (1, 3, 0), (2, 3, 1), (7, 1, 7), (0, 9, 0), (15, 10, 2)],
)
def test_round_half_up_examples(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_round_half_up_agrees_with_decimal(numerator: int, denominator: int) -> None:
    exact = Decimal(numerator) / Decimal(denominator)
    assert round_half_up(numerator, denominator) == int(
        exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


def test_round_half_up_refuses_a_non_positive_denominator() -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_half_up(1, 0)


@pytest.mark.parametrize(
    ("fen", "rate", "expected"),
    [(19990, "0.15", 2999), (100, "0.005", 1), (99, "0.005", 0), (30000, "0.05", 1500)],
)
def test_fen_times_rate_rounds_half_up_once(fen: int, rate: str, expected: int) -> None:
    assert fen_times_rate(fen, Decimal(rate)) == expected


weights = st.lists(st.integers(0, 10**7), min_size=1, max_size=12)


@given(st.integers(0, 10**9), weights.filter(lambda line_weights: sum(line_weights) > 0))
def test_allocate_proportional_adds_up_to_the_whole(total: int, line_weights: list[int]) -> None:
    parts = allocate_proportional(total, line_weights)
    assert sum(parts) == total
    weight_sum = sum(line_weights)
    for part, weight in zip(parts, line_weights, strict=True):
        # Largest remainder: every part is its exact share, rounded down or up.
        assert abs(part * weight_sum - total * weight) < weight_sum


@given(st.integers(0, 10_000), st.integers(1, 12))
def test_allocate_proportional_splits_evenly_over_lines_without_amounts(
    total: int, count: int
) -> None:
    parts = allocate_proportional(total, [0] * count)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


@given(st.data(), weights)
def test_allocate_proportional_with_caps_adds_up_and_respects_them(
    data: st.DataObject, line_weights: list[int]
) -> None:
    caps = data.draw(
        st.lists(st.integers(0, 10_000), min_size=len(line_weights), max_size=len(line_weights))
    )
    total = data.draw(st.integers(0, sum(caps)))
    parts = allocate_proportional(total, line_weights, caps)
    assert sum(parts) == total
    assert all(0 <= part <= cap for part, cap in zip(parts, caps, strict=True))


def test_allocate_proportional_gives_leftover_fen_to_the_largest_remainders() -> None:
    assert allocate_proportional(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate_proportional(100, [19900, 9900]) == [67, 33]


def test_allocate_proportional_refuses_more_than_the_caps_allow() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        allocate_proportional(10, [1, 1], caps=[3, 3])
