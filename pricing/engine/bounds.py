"""The conservative unit-margin bound shared by the checker and the optimizer.

With proportional allocation, a line's share of an order-level discount is the order's
discount *rate*, so the margin one unit of a product keeps in a store sub-order of single-item
subtotal ``S`` is at least::

    receives = p − o − b·p/3 − A·p/S − p·Y/X
    margin   = (1 − c)·receives − cost − handling − ship·p/S − ROUNDING_ALLOWANCE

where ``p`` is the single-item price, ``o`` the official instant discount per unit, ``b`` 1 when
the product is in buy-two-get-one (the free units are never more than a third of the eligible
amount), ``A`` the store coupon the sub-order reaches, ``Y/X`` the cross-store rate (never
exceeded: ``floor(E/X)·Y ≤ E·Y/X``), ``c`` the commission and ``ship`` the per-order shipping
the store pays. The coupon and shipping terms fall as ``S`` grows, so the worst sub-order
reaching a coupon of threshold ``T`` is the smallest one: ``S ≥ max(T, p)``. The optimizer uses
exactly ``S = max(T, p)``; the checker uses the smallest subtotal a buyer can really build
from the store's prices and purchase limits, which is never smaller, so a plan the optimizer
accepts always passes the checker.

``ROUNDING_ALLOWANCE_FEN`` covers every rounding an exact quote makes against the line: the
largest-remainder splits of the activity, coupon and cross-store discounts (at most one fen
each, two for the cross-store split over stores then lines), the shipping split (one fen) and
the commission rounding (half a fen), 5.5 fen in all, plus floating-point error far below a
fen. The bound is reported in whole fen, rounded down.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from models.rules import Mechanism, Rules

ROUNDING_ALLOWANCE_FEN = 6

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def official_discount_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """The official instant discount per unit, rounded half up to the fen (0 without it)."""
    if rules.platform.mechanism is not Mechanism.OFFICIAL:
        return np.zeros_like(prices_fen)
    # Half up, in integers: the same result as models.money.fen_times_rate for each price.
    numerator, denominator = rules.platform.official_rate.as_integer_ratio()
    return np.asarray((2 * prices_fen * numerator + denominator) // (2 * denominator))


def cross_store_rate(rules: Rules) -> float:
    """The worst cross-store discount rate ``Y / X`` a line can bear (0 without it)."""
    if rules.platform.mechanism is not Mechanism.CROSS_STORE:
        return 0.0
    return rules.platform.cross_store_save_fen / rules.platform.cross_store_every_fen


def margin_floor_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """What each unit must keep: ``margin_floor_rate × price``, rounded up to the fen."""
    rate = rules.store.margin_floor_rate
    if rate == 0:
        return np.zeros_like(prices_fen)
    numerator, denominator = Decimal(rate).as_integer_ratio()
    return -((-prices_fen * numerator) // denominator)


def unit_margin_bound_fen(
    prices_fen: IntArray,
    official_fen: IntArray,
    costs_fen: IntArray,
    in_b2g1: npt.NDArray[np.bool_],
    coupon_fen: IntArray | int,
    basket_fen: IntArray,
    rules: Rules,
) -> IntArray:
    """The least margin one unit keeps in a sub-order of subtotal ``basket_fen`` (whole fen).

    All arguments broadcast; ``basket_fen`` must be at least the price. See the module
    docstring for the formula and why it is a lower bound.
    """
    price = prices_fen.astype(np.float64)
    basket = np.asarray(basket_fen, dtype=np.float64)
    commission = float(rules.platform.commission_rate)
    receives = (
        price
        - official_fen
        - np.where(in_b2g1, price / 3.0, 0.0)
        - np.asarray(coupon_fen, dtype=np.float64) * price / basket
        - price * cross_store_rate(rules)
    )
    margin = (
        (1.0 - commission) * receives
        - costs_fen
        - rules.store.handling_cost_fen
        - rules.store.shipping_cost_fen * price / basket
        - ROUNDING_ALLOWANCE_FEN
    )
    return np.floor(margin).astype(np.int64)


def worst_rate(
    prices_fen: IntArray,
    official_fen: IntArray,
    in_b2g1: npt.NDArray[np.bool_],
    coupon_fen: IntArray | int,
    basket_fen: IntArray,
    rules: Rules,
) -> FloatArray:
    """The share of a line's single-item amount all stacked discounts can take, at most."""
    price = prices_fen.astype(np.float64)
    return np.asarray(
        official_fen / price
        + np.where(in_b2g1, 1.0 / 3.0, 0.0)
        + np.asarray(coupon_fen, dtype=np.float64) / np.asarray(basket_fen, dtype=np.float64)
        + cross_store_rate(rules),
        dtype=np.float64,
    )
