"""The platform's sign-up rules for an activity price, in exact integer arithmetic.

A product may sign up at price ``p`` when

* ``p ≤ (1 − min_discount) × list_price`` (at least ``min_discount`` off the everyday price), and
* its *price after universally available discounts* is at most
  ``lowest_price_factor × lowest_price``: the cross-store reduction is pro-rated
  (a ¥200 item with every-300-save-30 counts as ¥180) and the official instant discount, where
  the store has it, is taken off per unit.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from models.rules import Mechanism, Rules

IntArray = npt.NDArray[np.int64]


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def ladder_price_fen(list_price_fen: IntArray, level: Decimal) -> IntArray:
    """``list_price × level`` rounded half up to the fen."""
    numerator, denominator = _ratio(level)
    return (2 * list_price_fen * numerator + denominator) // (2 * denominator)


def effective_price_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """The price after universally available discounts, used for the lowest-price check."""
    platform = rules.platform
    if platform.mechanism is Mechanism.CROSS_STORE:
        every, save = platform.cross_store_every_fen, platform.cross_store_save_fen
        return prices_fen - (2 * prices_fen * save + every) // (2 * every)
    if platform.mechanism is Mechanism.OFFICIAL:
        numerator, denominator = _ratio(platform.official_rate)
        return prices_fen - (2 * prices_fen * numerator + denominator) // (2 * denominator)
    return prices_fen.copy()


def max_price_for_depth_fen(list_price_fen: IntArray, rules: Rules) -> IntArray:
    """The highest price at least ``min_discount`` below the everyday price."""
    numerator, denominator = _ratio(Decimal(1) - rules.platform.min_discount)
    return (list_price_fen * numerator) // denominator


def lowest_price_cap_fen(lowest_price_fen: IntArray, rules: Rules) -> IntArray:
    """``lowest_price_factor × lowest_price``, rounded down to the fen."""
    numerator, denominator = _ratio(rules.platform.lowest_price_factor)
    return (lowest_price_fen * numerator) // denominator


def meets_signup(
    prices_fen: IntArray, list_price_fen: IntArray, lowest_price_fen: IntArray, rules: Rules
) -> npt.NDArray[np.bool_]:
    """Whether each price meets both sign-up rules."""
    deep_enough = prices_fen <= max_price_for_depth_fen(list_price_fen, rules)
    below_lowest = effective_price_fen(prices_fen, rules) <= lowest_price_cap_fen(
        lowest_price_fen, rules
    )
    return np.asarray(deep_enough & below_lowest, dtype=np.bool_)


def signup_price_cap_fen(
    list_price_fen: IntArray, lowest_price_fen: IntArray, rules: Rules
) -> IntArray:
    """The highest activity price that meets both rules (for messages: "needs price ≤ …")."""
    cap = lowest_price_cap_fen(lowest_price_fen, rules)
    # effective_price is non-decreasing in the price and moves by at most one fen per fen, so
    # start from the real-valued answer and walk to the exact one.
    keep = effective_price_fen(np.full(1, 1_000_000, dtype=np.int64), rules)[0] / 1_000_000
    guess = np.floor(cap / max(keep, 1e-9)).astype(np.int64)
    for _ in range(4):
        too_high = effective_price_fen(guess, rules) > cap
        guess = np.where(too_high, guess - 1, guess)
    for _ in range(4):
        fits_next = effective_price_fen(guess + 1, rules) <= cap
        guess = np.where(fits_next, guess + 1, guess)
    return np.asarray(
        np.minimum(guess, max_price_for_depth_fen(list_price_fen, rules)), dtype=np.int64
    )
