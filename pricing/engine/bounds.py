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
the store pays. Under exclusive store tools (since 2026-03-10) ``b`` and ``A`` never apply to
the same line: callers take the smaller of the coupon-only and the offer-only bound
(:func:`coupon_stacks_with_offer`). The coupon and shipping terms fall as ``S`` grows, so the
worst sub-order reaching a coupon of threshold ``T`` is the smallest one: ``S ≥ max(T, p)``.
The optimizer uses exactly ``S = max(T, p)``; the checker uses the smallest subtotal a buyer
can really build from the store's prices and purchase limits, which is never smaller, so a
plan the optimizer accepts always passes the checker.

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

from models.money import official_discount_unit_fen_array, times_rate_fen_array
from models.rules import (
    Mechanism,
    MechanismScope,
    OfficialRounding,
    PiecesDiscountTier,
    PiecesSaveTier,
    Rules,
    StoreTools,
)

ROUNDING_ALLOWANCE_FEN = 6

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def official_discount_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """The official instant discount per unit, rounded as the rules' ``official_rounding``
    says (the same integers the stacking engine takes; 0 without the mechanism)."""
    if rules.platform.mechanism is not Mechanism.OFFICIAL:
        return np.zeros_like(prices_fen)
    return official_discount_unit_fen_array(
        prices_fen,
        rules.platform.official_rate,
        rules.platform.official_rounding is OfficialRounding.YUAN_UP,
    )


def coupon_stacks_with_offer(rules: Rules) -> bool:
    """Whether a line can bear both a store coupon and the store's multi-piece offer.

    Under ``store_tools = "stacked"`` it can, and the bound adds the two rates. Under
    ``"exclusive"`` it cannot, and the bound may take the **larger** of the two instead of the
    sum: the margin of a unit is at least the smaller of its coupon-only and offer-only
    bounds. Proof. In the exact quote every line ``l`` of a store sub-order is assigned to one
    tool, the coupon (lines ``C``) or the multi-piece offer (lines ``M``), ``C ∩ M = ∅``. The
    coupon's discount ``A`` is split over ``C`` in proportion, so ``l ∈ C`` bears
    ``A·p_l q_l / S_C`` with ``S_C = Σ_C p q ≥ T`` (the threshold is checked on ``C`` alone);
    ``C`` is itself a basket the buyer could build (a subset of the cart within the purchase
    limits), so ``S_C`` is at least the smallest reachable subtotal ``≥ T`` holding the unit,
    the basket the coupon bound uses, and the coupon-only bound holds for ``l``. A line in
    ``M`` bears its share of the offer only: for buy-two-get-one at most a third of its
    amount (the free units are the cheapest third of ``M``'s eligible units, split in
    proportion), which is the offer-only bound. No line bears both, and every other term
    (per-unit discounts, cross-store rate ``Y/X``, shipping ``ship·p/S`` with ``S ≥ S_C``,
    commission) is the same in both bounds; so each line's margin is at least the bound of the
    tool it took, hence at least the smaller of the two bounds, which is where
    ``1 − c > 0`` turns "larger discount rate" into "smaller margin".
    """
    return rules.platform.store_tools is StoreTools.STACKED


def pieces_offer_fen(
    tier: PiecesDiscountTier | PiecesSaveTier, prices_fen: IntArray, basket_fen: IntArray
) -> FloatArray:
    """The most one tier of a pieces offer takes off one unit at ``prices_fen`` in a sub-order
    of subtotal at least ``basket_fen`` that reaches the tier (float fen).

    ``pieces_discount`` (from N pieces pay rate ``r``): the order's discount
    ``round_half_up(amount·(1 − r))`` is at most ``amount·(1 − r) + ½`` fen, and a line's
    proportional share of the half fen is at most half a fen, so a unit bears at most
    ``(1 − r)·p + ½``; the split's own rounding is in ``ROUNDING_ALLOWANCE_FEN``.
    ``pieces_save`` (from N pieces save ``y``): ``y`` split in proportion, ``y·p/S``, largest
    where ``S`` is least. A cart reaching several tiers takes the best one, which is the bound
    of that tier, so the least bound over the tiers holds for every cart.
    """
    price = prices_fen.astype(np.float64)
    if isinstance(tier, PiecesDiscountTier):
        return np.asarray((1.0 - float(tier.rate)) * price + 0.5, dtype=np.float64)
    return np.asarray(
        tier.amount_fen * price / np.asarray(basket_fen, dtype=np.float64), dtype=np.float64
    )


def cross_store_rate(rules: Rules) -> float:
    """The worst cross-store discount rate ``Y / X`` a line can bear (0 without it)."""
    if rules.platform.mechanism is not Mechanism.CROSS_STORE:
        return 0.0
    return rules.platform.cross_store_save_fen / rules.platform.cross_store_every_fen


def bears_mechanism(joins: npt.NDArray[np.bool_], rules: Rules) -> npt.NDArray[np.bool_]:
    """Which products the platform mechanism reaches: those joining the event, or every product
    when ``platform.mechanism_scope = "store"``."""
    if rules.platform.mechanism_scope is MechanismScope.STORE:
        return np.ones_like(joins, dtype=bool)
    return np.asarray(joins, dtype=bool)


def margin_floor_fen(prices_fen: IntArray, rules: Rules) -> IntArray:
    """What each unit must keep: ``margin_floor_rate × price``, rounded up to the fen."""
    rate = rules.store.margin_floor_rate
    if rate == 0:
        return np.zeros_like(prices_fen)
    return times_rate_fen_array(prices_fen, Decimal(rate), up=True)


def unit_margin_bound_fen(
    prices_fen: IntArray,
    official_fen: IntArray,
    costs_fen: IntArray,
    in_b2g1: npt.NDArray[np.bool_],
    coupon_fen: IntArray | int,
    basket_fen: IntArray,
    rules: Rules,
    bears_mechanism: npt.NDArray[np.bool_] | bool = True,
    offer_fen: FloatArray | float = 0.0,
) -> IntArray:
    """The least margin one unit keeps in a sub-order of subtotal ``basket_fen`` (whole fen).

    All arguments broadcast; ``basket_fen`` must be at least the price. ``bears_mechanism``:
    the cross-store reduction reaches the product (pass the official discount as 0 where it
    does not). ``offer_fen``: the most a pieces offer takes off one unit (see
    :func:`pieces_offer_fen`). See the module docstring for the formula and why it is a lower
    bound.
    """
    price = prices_fen.astype(np.float64)
    basket = np.asarray(basket_fen, dtype=np.float64)
    commission = float(rules.platform.commission_rate)
    receives = (
        price
        - official_fen
        - offer_fen
        - np.where(in_b2g1, price / 3.0, 0.0)
        - np.asarray(coupon_fen, dtype=np.float64) * price / basket
        - price * np.where(bears_mechanism, cross_store_rate(rules), 0.0)
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
    bears_mechanism: npt.NDArray[np.bool_] | bool = True,
    offer_fen: FloatArray | float = 0.0,
) -> FloatArray:
    """The share of a line's single-item amount all stacked discounts can take, at most."""
    price = prices_fen.astype(np.float64)
    return np.asarray(
        official_fen / price
        + np.asarray(offer_fen, dtype=np.float64) / price
        + np.where(in_b2g1, 1.0 / 3.0, 0.0)
        + np.asarray(coupon_fen, dtype=np.float64) / np.asarray(basket_fen, dtype=np.float64)
        + np.where(bears_mechanism, cross_store_rate(rules), 0.0),
        dtype=np.float64,
    )
