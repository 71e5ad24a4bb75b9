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
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from models.money import times_rate_fen_array
from models.rules import Mechanism, Rules
from pricing.engine.bounds import official_discount_fen

IntArray = npt.NDArray[np.int64]


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def ladder_price_fen(list_price_fen: IntArray, level: Decimal) -> IntArray:
    """``list_price × level`` rounded half up to the fen."""
    return times_rate_fen_array(list_price_fen, level)


def effective_price_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """The price after universally available discounts, used for the lowest-price check."""
    platform = rules.platform
    if platform.mechanism is Mechanism.CROSS_STORE:
        every, save = platform.cross_store_every_fen, platform.cross_store_save_fen
        return prices_fen - times_rate_fen_array(prices_fen, Fraction(save, every))
    if platform.mechanism is Mechanism.OFFICIAL:
        return prices_fen - official_discount_fen(prices_fen, rules)
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
    """The highest activity price that meets both rules (for messages: "needs price ≤ …").

    ``effective_price_fen`` is non-decreasing in the price but may stay flat for several fen
    (at an official rate of 0.9 one fen of effective price spans ten fen of price), so the
    answer is found by an exact bisection per product, not by walking from an estimate.
    """
    cap = lowest_price_cap_fen(lowest_price_fen, rules)
    depth = max_price_for_depth_fen(list_price_fen, rules)
    # Invariant: effective(low) ≤ cap (or low = -1), effective(high) > cap.
    low = np.full(cap.shape, -1, dtype=np.int64)
    high = np.maximum(depth, 0) + 1
    fits_at_depth = effective_price_fen(np.maximum(depth, 0), rules) <= cap
    low = np.where(fits_at_depth, np.maximum(depth, 0), low)
    high = np.where(fits_at_depth, low + 1, high)
    while bool((high - low > 1).any()):
        middle = (low + high) // 2
        fits = effective_price_fen(middle, rules) <= cap
        low = np.where(fits & (high - low > 1), middle, low)
        high = np.where(~fits & (high - low > 1), middle, high)
    return np.asarray(np.minimum(low, depth), dtype=np.int64)
