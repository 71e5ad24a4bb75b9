"""The store's multi-piece offer as an optimizer decision: which bits of the safety masks it
owns, when a candidate row cannot bear it, and what it is expected to cost and bring.

The candidate table's ``unsafe`` bitmask has one bit per **store tool** a row may be unable to
bear. With ``K`` coupon candidates and ``P`` offer candidates (``[offers] candidates``)::

    bit k              0 ≤ k < K        coupon candidate k
    bit K + j          0 ≤ j < P        offer candidate j (the offer alone)
    bit K + P + k·P + j                 coupon k and offer j on the same line (stacked only)

A store-level choice (a "ladder") is a set of coupon tiers and none or one offer; its mask is
the bits of its tiers, of its offer and, under ``store_tools = "stacked"``, of every pair of
its tiers with its offer. A row may be chosen beside a ladder only when ``unsafe ∧ mask = 0``,
so both optimizers (the MILP and the ladder decomposition) handle offers with no change.

**When a row cannot bear offer j** (the checker's bound, :mod:`pricing.engine.bounds`, with the
least subtotal the optimizer can promise): a cart reaching tier ``(N, ·)`` holds the unit and
``N − 1`` more units, each at least the cheapest price any product has in any row, ``m``; so
``S ≥ p + (N − 1)·m``, and with a coupon of threshold ``T`` stacked, ``S ≥ max(T, p + (N −
1)·m)``. The checker's least subtotal is never smaller (it takes the plan's real prices, purchase
limits and reachable amounts), so a row the optimizer accepts always passes the checker. Under
exclusive store tools a line takes the coupon or the offer, never both (proof in
:func:`pricing.engine.bounds.coupon_stacks_with_offer`): the offer-alone bit and the coupon bits
suffice. A row in buy-two-get-one can bear no offer at all: a store runs one multi-piece offer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.rules import (
    CouponTier,
    PiecesDiscountActivity,
    PiecesDiscountTier,
    PiecesOffer,
    PiecesSaveTier,
    Rules,
)
from pricing.engine.bounds import (
    coupon_stacks_with_offer,
    pieces_offer_fen,
    unit_margin_bound_fen,
    worst_rate,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Pieces per order beyond which the forecast's geometric tail is ignored.
FORECAST_MAX_PIECES = 60


@dataclass(frozen=True)
class StoreToolBit:
    """A bit of the safety masks that is not one coupon tier: an offer, or a tier with an offer
    on one line. ``label`` names it in constraint names, e.g. ``offer2pcs×0.9``."""

    label: str


def offer_bit(rules: Rules, offer: int) -> int:
    """The bit of offer candidate ``offer`` alone."""
    return len(rules.coupons.candidates) + offer


def offers_alone_mask(rules: Rules) -> int:
    """The bits of every offer candidate alone."""
    return sum(1 << offer_bit(rules, j) for j in range(len(rules.offers.candidates)))


def pair_bit(rules: Rules, coupon: int, offer: int) -> int:
    """The bit of coupon candidate ``coupon`` stacked with offer candidate ``offer``."""
    coupons, offers = len(rules.coupons.candidates), len(rules.offers.candidates)
    return coupons + offers + coupon * offers + offer


def ladder_mask(rules: Rules, coupons: tuple[int, ...], offer: int | None) -> int:
    """The mask of a store-level choice: its coupon tiers, its offer and (stacked) the pairs."""
    mask = sum(1 << k for k in coupons)
    if offer is not None:
        mask |= 1 << offer_bit(rules, offer)
        if coupon_stacks_with_offer(rules):
            mask |= sum(1 << pair_bit(rules, k, offer) for k in coupons)
    return mask


def tool_bits(rules: Rules) -> tuple[CouponTier | StoreToolBit, ...]:
    """Every bit of the masks, in bit order, as the MILP names them."""
    offers = rules.offers.candidates
    bits: list[CouponTier | StoreToolBit] = list(rules.coupons.candidates)
    bits += [StoreToolBit(f"offer{offer.label}") for offer in offers]
    if offers and coupon_stacks_with_offer(rules):
        bits += [
            StoreToolBit(f"tier{tier.label}+offer{offer.label}")
            for tier in rules.coupons.candidates for offer in offers
        ]
    return tuple(bits)


def _tier_unsafe(
    tier: PiecesDiscountTier | PiecesSaveTier,
    price: IntArray, official: IntArray, cost: IntArray, floors: IntArray, bears: BoolArray,
    least_other_fen: int, rules: Rules, coupon: CouponTier | None,
) -> tuple[BoolArray, BoolArray]:
    """Rows that cannot bear one tier (with a coupon stacked), and rows it can cut to zero."""
    basket = price + (tier.pieces - 1) * least_other_fen
    coupon_fen = 0
    if coupon is not None:
        basket = np.maximum(basket, coupon.threshold_fen)
        coupon_fen = coupon.amount_fen
    offer = pieces_offer_fen(tier, price, basket)
    no_b2g1 = np.zeros(price.shape, dtype=bool)
    bound = unit_margin_bound_fen(
        price, official, cost, no_b2g1, coupon_fen, basket, rules, bears, offer
    )
    rate = worst_rate(price, official, no_b2g1, coupon_fen, basket, rules, bears, offer)
    return (bound < floors) | (rate >= 1.0), rate >= 1.0


def offer_unsafe(
    price: IntArray, official: IntArray, cost: IntArray, floors: IntArray, bears: BoolArray,
    in_b2g1: BoolArray, rules: Rules,
) -> tuple[IntArray, IntArray, IntArray]:
    """The offer bits (and pair bits) each row cannot bear, the same for the offer-alone bits
    only, and the bits that could cut a line to nothing (all ``n × R`` bitmasks)."""
    unsafe = np.zeros(price.shape, dtype=np.int64)
    alone = np.zeros(price.shape, dtype=np.int64)
    zeroes = np.zeros(price.shape, dtype=np.int64)
    offers = rules.offers.candidates
    if not offers:
        return unsafe, alone, zeroes
    least_other = int(price.min()) if price.size else 0
    stacked = coupon_stacks_with_offer(rules)
    for j, offer in enumerate(offers):
        pairs: list[tuple[int, CouponTier | None]] = [(offer_bit(rules, j), None)]
        if stacked:
            pairs += [(pair_bit(rules, k, j), tier)
                      for k, tier in enumerate(rules.coupons.candidates)]
        for bit, coupon in pairs:
            flag = np.int64(1 << bit)
            for tier in offer.tiers:
                bad, zero = _tier_unsafe(tier, price, official, cost, floors, bears,
                                         least_other, rules, coupon)
                bad |= in_b2g1  # one multi-piece offer per store: never beside B2G1
                unsafe |= np.where(bad, flag, np.int64(0))
                zeroes |= np.where(zero, flag, np.int64(0))
                if coupon is None:
                    alone |= np.where(bad, flag, np.int64(0))
    return unsafe, alone, zeroes


def pieces_distribution(units_per_order: float) -> FloatArray:
    """``P(q = n)`` for ``n = 1 … FORECAST_MAX_PIECES``: pieces per order, geometric with mean
    ``units_per_order`` (the rules' demand key; the tail beyond the cap is dropped)."""
    pieces = np.arange(1, FORECAST_MAX_PIECES + 1, dtype=np.float64)
    if units_per_order <= 1.0:
        return np.where(pieces == 1, 1.0, 0.0)
    stay = 1.0 - 1.0 / units_per_order
    return np.asarray((1.0 - stay) * stay ** (pieces - 1), dtype=np.float64)


def offer_saving_fen(offer: PiecesOffer, pieces: int, order_value: float) -> float:
    """What an offer saves an order of ``pieces`` units worth ``order_value`` fen (a forecast):
    the best tier the pieces reach."""
    if isinstance(offer, PiecesDiscountActivity):
        rates = [float(t.rate) for t in offer.tiers if t.pieces <= pieces]
        return order_value * (1.0 - min(rates)) if rates else 0.0
    amounts = [t.amount_fen for t in offer.tiers if t.pieces <= pieces]
    return min(float(max(amounts)), order_value) if amounts else 0.0
