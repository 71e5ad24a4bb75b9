"""Exact money: every yuan amount is an integer number of fen (1 yuan = 100 fen).

Parsing accepts yuan as text, ``Decimal`` or ``int`` (``"199"``, ``"199.9"``, ``"199.90"``); an
amount finer than a fen (``"199.999"``) is refused, never rounded. Rates (commission, official
discount) are ``Decimal`` so that ``price × rate`` rounds exactly once, half up, by
:func:`fen_times_rate` (:func:`round_half_up` in integers). Order-level discounts are split
over lines by :func:`allocate_proportional`, whose parts always add up to the whole, to the fen.
Discount levels are named by :func:`discount_label` (``7.5折``) everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import numpy.typing as npt

FEN_PER_YUAN = 100
# What every reader says it expected of an amount of money (products, rules, carts, plans, sheets).
MONEY_HINT = "an amount in yuan with at most two decimals, e.g. 199.00"


class MoneyFormatError(ValueError):
    """A value is not an amount of money with at most two decimals."""


MAX_UNIT_FEN = 100_000_000 * FEN_PER_YUAN
"""The largest amount of money one unit, one threshold or one order may hold: ¥100,000,000."""
MAX_TOTAL_FEN = 10**15
"""The largest total (a budget, a plan's forecast revenue): ¥10,000,000,000,000. Sums of a
million such totals still fit a 64-bit integer, and each is exact as a double."""

# A yuan amount as people write it: an optional sign and currency sign, digits with thousands
# separators only every three digits from the decimal point (1,299.00; not 1,2.00 or 12,3456),
# and decimals after a dot. No exponent, no other character.
_YUAN_TEXT = re.compile(
    r"(?P<sign>[+-]?)[ \t]*[¥￥]?[ \t]*"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<decimals>[0-9]*))?"
)


def _yuan_text_to_decimal(value: object, text: str) -> Decimal:
    match = _YUAN_TEXT.fullmatch(text)
    if match is None or not (match.group("whole") or match.group("decimals")):
        if re.fullmatch(r"[+-]?[0-9.,]+[eE][+-]?[0-9]+", text):
            raise MoneyFormatError(f"{value!r} is not a number: write the amount out in full, "
                                   "without an exponent")
        if "," in text and re.fullmatch(r"[+-]?[¥￥]?[0-9,]+(?:\.[0-9]*)?", text):
            raise MoneyFormatError(f"{value!r} is not a number: a thousands separator must "
                                   "come every three digits (1,299.00)")
        raise MoneyFormatError(f"{value!r} is not a number")
    whole = match.group("whole").replace(",", "") or "0"
    return Decimal(f"{match.group('sign')}{whole}.{match.group('decimals') or '0'}")


def to_fen(value: str | Decimal | int | float, maximum_fen: int = MAX_UNIT_FEN) -> int:
    """Parse a yuan amount into integer fen, refusing anything finer than a fen.

    Text is read strictly (see ``_YUAN_TEXT``): ``1,299.00``, ``¥5``, ``-5.00``; never
    ``1,2.00``, ``12,3456.00`` or ``0.5e3``. Floats are accepted only when their shortest
    decimal form has at most two decimals (a spreadsheet cell holding ``19.9``), never
    silently rounded. Amounts beyond ``±maximum_fen`` (¥100,000,000 unless stated) are refused.
    """
    if isinstance(value, bool):
        raise MoneyFormatError(f"{value!r} is not an amount of money")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        try:
            amount = Decimal(repr(value))
        except InvalidOperation:
            raise MoneyFormatError(f"{value!r} is not a number") from None
    else:
        amount = _yuan_text_to_decimal(value, str(value).strip())
    if not amount.is_finite():
        raise MoneyFormatError(f"{value!r} is not a finite amount")
    if abs(amount) > Decimal(maximum_fen) / FEN_PER_YUAN:
        raise MoneyFormatError(
            f"{value!r} is too large: at most {maximum_fen // FEN_PER_YUAN:,} yuan"
        )
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyFormatError(f"{value!r} has more than two decimals (finer than a fen)")
    return int(fen)


def fen_to_decimal(fen: int) -> Decimal:
    """Integer fen as a yuan ``Decimal`` with exactly two decimals."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """Integer fen as the public two-decimal string, e.g. ``19990 -> "199.90"``.

    Integer arithmetic only (the same text as ``f"{fen_to_decimal(fen):.2f}"``, a property test
    holds them equal): a plan file writes five amounts per product.
    """
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


_CENTS = tuple(f"{cents:02d}" for cents in range(FEN_PER_YUAN))  # "00" … "99"


def format_yuan_many(amounts: Iterable[int]) -> list[str]:
    """:func:`format_yuan` of each amount (a property test holds them equal), in one pass: a
    plan file writes five amounts per product (the two-digit fen looked up, not formatted)."""
    cents = _CENTS
    return [
        f"{amount // FEN_PER_YUAN}.{cents[amount % FEN_PER_YUAN]}" if amount >= 0
        else f"-{-amount // FEN_PER_YUAN}.{cents[-amount % FEN_PER_YUAN]}"
        for amount in amounts
    ]


def yuan_cell(value: Decimal) -> str:
    """A yuan amount as a CSV cell, always two decimals: ``Decimal("19.9") -> "19.90"``."""
    return f"{value:.2f}"


def short_yuan(fen: int) -> str:
    """Integer fen as yuan without needless decimals: ``29900 -> "299"``, ``1990 -> "19.9"``."""
    return format_yuan(fen).rstrip("0").rstrip(".")


def round_half_up(numerator: int, denominator: int = 1) -> int:
    """``numerator / denominator`` rounded half up (away from zero on ties), in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def fen_times_rate(fen: int, rate: Decimal) -> int:
    """``fen × rate`` rounded half up to the fen (the platform's rule for per-unit discounts)."""
    numerator, denominator = rate.as_integer_ratio()
    return round_half_up(fen * numerator, denominator)


def times_rate_fen(
    fen: int, rate: Decimal | Fraction, *, step_fen: int = 1, up: bool = False
) -> int:
    """``fen × rate`` rounded to a multiple of ``step_fen``: up (ceiling), or half up.

    The one rounding rule of every per-unit and per-order rate discount (official and super
    instant discounts, N-pieces-at-x折, ladder prices, pro-rated cross-store): exact in
    integers, never a float. ``fen`` is not negative.
    """
    numerator, denominator = rate.as_integer_ratio()
    scaled = denominator * step_fen
    if up:
        return -((-fen * numerator) // scaled) * step_fen
    return round_half_up(fen * numerator, scaled) * step_fen


def times_rate_fen_array(
    fen: npt.NDArray[np.int64], rate: Decimal | Fraction, *, step_fen: int = 1, up: bool = False
) -> npt.NDArray[np.int64]:
    """:func:`times_rate_fen` for an array of amounts (same integers, element by element: the
    half-up branch is :func:`round_half_up` for amounts ≥ 0, written for numpy)."""
    numerator, denominator = rate.as_integer_ratio()
    scaled = denominator * step_fen
    amounts = np.asarray(fen, dtype=np.int64)
    if up:
        return np.asarray(-((-amounts * numerator) // scaled) * step_fen, dtype=np.int64)
    return np.asarray(((2 * amounts * numerator + scaled) // (2 * scaled)) * step_fen,
                      dtype=np.int64)


YUAN_UP_FROM_FEN = 10_000  # official discount, 2026: from ¥100 up to the whole yuan
SUPER_INSTANT_YUAN_ABOVE_FEN = 10_000  # super instant: above ¥100 up to the whole yuan
SUPER_INSTANT_JIAO_ABOVE_FEN = 1_000  # super instant: above ¥10 up to 0.1 yuan


def official_discount_unit_fen(price_fen: int, rate: Decimal, yuan_up: bool) -> int:
    """The official instant discount (官方立减) on one unit at ``price_fen``.

    ``yuan_up`` (the 2026 rule): from ¥100 rounded up to the whole yuan (199 × 15% = 29.85 →
    30), below ¥100 rounded up to the fen; otherwise half up to the fen at every price.
    """
    if not yuan_up:
        return times_rate_fen(price_fen, rate)
    step = 100 if price_fen >= YUAN_UP_FROM_FEN else 1
    return times_rate_fen(price_fen, rate, step_fen=step, up=True)


def official_discount_unit_fen_array(
    prices_fen: npt.NDArray[np.int64], rate: Decimal, yuan_up: bool
) -> npt.NDArray[np.int64]:
    """:func:`official_discount_unit_fen` for an array of prices."""
    if not yuan_up:
        return times_rate_fen_array(prices_fen, rate)
    return np.where(
        np.asarray(prices_fen) >= YUAN_UP_FROM_FEN,
        times_rate_fen_array(prices_fen, rate, step_fen=100, up=True),
        times_rate_fen_array(prices_fen, rate, up=True),
    ).astype(np.int64)


def super_instant_unit_fen(price_fen: int, rate: Decimal) -> int:
    """The super instant discount (超级立减) at ``rate`` on one unit, rounded **up** by band.

    Above ¥100 to the whole yuan (288 × 10% = 28.8 → 29; 211.99 × 10% → 22), above ¥10 to 0.1
    yuan (28.10 × 10% = 2.81 → 2.90), at ¥10 or less half up to the fen.
    """
    if price_fen > SUPER_INSTANT_YUAN_ABOVE_FEN:
        return times_rate_fen(price_fen, rate, step_fen=100, up=True)
    if price_fen > SUPER_INSTANT_JIAO_ABOVE_FEN:
        return times_rate_fen(price_fen, rate, step_fen=10, up=True)
    return times_rate_fen(price_fen, rate)


def super_instant_unit_fen_array(
    prices_fen: npt.NDArray[np.int64], rate: Decimal
) -> npt.NDArray[np.int64]:
    """:func:`super_instant_unit_fen` for an array of prices."""
    prices = np.asarray(prices_fen, dtype=np.int64)
    return np.select(
        [prices > SUPER_INSTANT_YUAN_ABOVE_FEN, prices > SUPER_INSTANT_JIAO_ABOVE_FEN],
        [
            times_rate_fen_array(prices, rate, step_fen=100, up=True),
            times_rate_fen_array(prices, rate, step_fen=10, up=True),
        ],
        times_rate_fen_array(prices, rate),
    ).astype(np.int64)


def fraction_floor_fen(value: Fraction) -> int:
    """The largest whole number of fen not above ``value`` (a conservative report of a margin)."""
    return math.floor(value)


def discount_label(level: Decimal, lang: str = "zh") -> str:
    """A price level (a share of the everyday price) as merchandisers say it: ``0.75`` →
    ``7.5折`` (zh) or ``25% off`` (en); a level of 1 or more is no discount (原价)."""
    if level >= 1:
        return "原价" if lang == "zh" else "no discount"
    if lang == "zh":
        return f"{(level * 10).normalize():f}折"
    return f"{((1 - level) * 100).normalize():f}% off"


def allocate_proportional(
    total: int, weights: Sequence[int], caps: Sequence[int] | None = None
) -> list[int]:
    """Split ``total`` fen over lines in proportion to ``weights``, exactly (largest remainder).

    Each part is the floor of its exact share; the fen left over go one each to the lines with
    the largest remainders (ties to the earlier line), so the parts add up to ``total``. With
    ``caps``, no part exceeds its cap: a line that would is held at its cap and what it cannot
    take is split, the same way, over the lines that still have room. ``total`` must not exceed
    the sum of the caps.
    """
    count = len(weights)
    if total < 0:
        raise ValueError("cannot allocate a negative amount")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    if caps is not None and total > sum(caps):
        raise ValueError("total exceeds what the lines can take")
    parts = [0] * count
    open_lines = [i for i in range(count) if caps is None or caps[i] > 0]
    remaining = total
    while remaining > 0 and open_lines:
        weight_sum = sum(weights[i] for i in open_lines)
        if weight_sum == 0:
            # Lines with no amount of their own: split evenly, in order.
            shares = {i: 0 for i in open_lines}
            for n in range(remaining):
                shares[open_lines[n % len(open_lines)]] += 1
        else:
            floors = {i: remaining * weights[i] // weight_sum for i in open_lines}
            leftover = remaining - sum(floors.values())
            by_remainder = sorted(
                open_lines, key=lambda i: (-(remaining * weights[i] % weight_sum), i)
            )
            for i in by_remainder[:leftover]:
                floors[i] += 1
            shares = floors
        overflow = 0
        still_open = []
        for i in open_lines:
            room = None if caps is None else caps[i] - parts[i]
            if room is not None and shares[i] >= room:
                parts[i] += room
                overflow += shares[i] - room
            else:
                parts[i] += shares[i]
                still_open.append(i)
        remaining = overflow
        open_lines = still_open
    return parts
