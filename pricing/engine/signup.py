"""The platform's sign-up rules for an activity price, in exact integer arithmetic.

A product may sign up at price ``p`` when ``p ≤ (1 − min_discount) × list_price`` (at least
``min_discount`` off the everyday price) and it passes the lowest-price check the rules'
``signup_check`` names:

* ``"2026"`` (Taobao's 2026 check): ``p ≤ lowest_price_factor × lowest_price`` (the lowest list
  price of the window, nothing taken off), and, for a product with a ``lowest_coupon_price``
  (最低普惠券后价), its 活动普惠券后价 ``p − super instant − universal offers covering the whole
  activity cycle`` is at most that. The universal offers counted are the platform mechanism
  (the cross-store reduction pro-rated, the official discount per unit) and whatever the caller
  passes as ``universal_offer_fen`` (the store coupon one unit reaches, when the coupons cover
  the cycle; a super instant discount). An offer that does not cover the cycle is not counted
  here, though buyers still stack it: the checker counts it in the no-loss proof.
* ``"pro_rated"`` (before 2026): the *price after universally available discounts* is at most
  ``lowest_price_factor × lowest_price``: the cross-store reduction is pro-rated (a ¥200 item
  with every-300-save-30 counts as ¥180) and the official instant discount, where the store has
  it, is taken off per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from models.money import times_rate_fen_array
from models.product import Product
from models.rules import CouponTier, Mechanism, Rules, SignupCheck
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
    prices_fen: IntArray,
    list_price_fen: IntArray,
    lowest_price_fen: IntArray,
    rules: Rules,
    *,
    lowest_coupon_price_fen: IntArray | None = None,
    universal_offer_fen: IntArray | int = 0,
) -> npt.NDArray[np.bool_]:
    """Whether each price meets the sign-up rules (see the module docstring).

    ``lowest_coupon_price_fen`` holds 0 where a product has none (nothing to check).
    """
    deep_enough = prices_fen <= max_price_for_depth_fen(list_price_fen, rules)
    lowest_cap = lowest_price_cap_fen(lowest_price_fen, rules)
    if rules.platform.signup_check is SignupCheck.PRO_RATED:
        below_lowest = effective_price_fen(prices_fen, rules) <= lowest_cap
        return np.asarray(deep_enough & below_lowest, dtype=np.bool_)
    below_lowest = prices_fen <= lowest_cap
    if lowest_coupon_price_fen is not None:
        after_offers = effective_price_fen(prices_fen, rules) - universal_offer_fen
        below_lowest = below_lowest & (
            (lowest_coupon_price_fen <= 0) | (after_offers <= lowest_coupon_price_fen)
        )
    return np.asarray(deep_enough & below_lowest, dtype=np.bool_)


def signup_price_cap_fen(
    list_price_fen: IntArray,
    lowest_price_fen: IntArray,
    rules: Rules,
    *,
    lowest_coupon_price_fen: IntArray | None = None,
    universal_offer_fen: IntArray | int = 0,
) -> IntArray:
    """The highest activity price that meets the rules (for messages: "needs price ≤ …"); -1
    where no price does.

    Every check is monotone in the price (``effective_price_fen`` is non-decreasing, though it
    may stay flat for several fen: at an official rate of 0.9 one fen of effective price spans
    ten fen of price), so the answer is found by an exact bisection per product.
    """
    depth = np.maximum(max_price_for_depth_fen(list_price_fen, rules), 0)
    zero = np.zeros_like(depth)

    def fits(prices: IntArray) -> npt.NDArray[np.bool_]:
        return meets_signup(
            prices, list_price_fen, lowest_price_fen, rules,
            lowest_coupon_price_fen=lowest_coupon_price_fen,
            universal_offer_fen=universal_offer_fen,
        )

    # Invariant: low fits (or low = -1), high does not (or high = depth + 1).
    low = np.where(fits(zero), 0, -1)
    high = np.where(low < 0, 0, depth + 1)
    while bool((high - low > 1).any()):
        open_ = high - low > 1
        middle = np.where(open_, (low + high) // 2, low)
        ok = fits(np.maximum(middle, 0))
        low = np.where(open_ & ok, middle, low)
        high = np.where(open_ & ~ok, middle, high)
    return np.asarray(low, dtype=np.int64)


def lowest_coupon_prices_fen(products: Sequence[Product]) -> IntArray:
    """Each product's lowest 普惠券后价 in fen, 0 where it has none (not checked)."""
    return np.fromiter(
        (p.lowest_coupon_price_fen or 0 for p in products), dtype=np.int64, count=len(products)
    )


def cycle_coupon_fen(prices_fen: IntArray, tiers: Sequence[CouponTier], rules: Rules) -> IntArray:
    """The store coupon one unit at each price reaches, counted in the 2026 check when the
    store's coupons cover the whole activity cycle (``coupons_cover_cycle``); 0 otherwise."""
    counted = np.zeros_like(prices_fen)
    if not rules.platform.coupons_cover_cycle:
        return counted
    for tier in tiers:
        reached = prices_fen >= tier.threshold_fen
        counted = np.where(reached, np.maximum(counted, tier.amount_fen), counted)
    return counted
