"""The demand forecast: expected units at a price, and what a coupon ladder is worth.

Everything here is a forecast, so it is float arithmetic; money leaves this module only as
expected values that the plan rounds to the fen once.

**Units of a product at activity price ``p``** (constant elasticity around the everyday price)::

    units = base_units × (p / list_price) ^ elasticity
            × (1 + event_uplift)      if the product joins the event (the venue's traffic)
            × (1 + b2g1.uplift)       if it joins buy-two-get-one
    units = min(units, stock)         a forecast never sells more than the store holds

``base_units`` is the forecast at the everyday price without the event venue; the elasticity
is the product's own or the rules' default.

**A coupon ladder** (the set of store-coupon tiers offered) is a store-level choice. Its value
is estimated on the store's baseline orders, ``N = Σ base_units × (1 + event_uplift) /
units_per_order``, split into the order-value bands of the rules. An order of band ``b``
(typical value ``v_b``) can use the best tier whose threshold is at most ``v_b``, worth ``A_b``:

* it costs ``coupon_redemption × A_b × (1 − commission)`` per order of the band (the
  merchant receives ``A_b`` less and pays commission on less);
* it brings ``coupon_response × A_b / v_b`` more orders of the band, each earning the store's
  average contribution ``margin_rate × v_b − shipping``.

So ``value(L) = N × Σ_b share_b × (response × A_b/v_b × (margin_rate × v_b − ship)
− redemption × A_b × (1 − c))`` and its discount spend ``N × Σ_b share_b × redemption × A_b``.
Both are constants per ladder, which keeps the optimisation linear: the ladder's effect does not
depend on which products join (the products' own effects are in their candidate rows).

**A multi-piece offer** (``[offers] candidates``, none or one per ladder) saves an order of
``q`` pieces in band ``b`` ``O_b(q)`` (the best tier ``q`` reaches: ``(1 − r)·v_b`` for
满件打折, ``y`` for 满件减钱); pieces per order are geometric with mean ``units_per_order``. It
needs no redemption: every order reaching a tier takes it. How it meets the coupon follows
``store_tools``: stacked, an order takes both, ``redemption × A_b + O_b(q)``; exclusive (since
2026-03-10), the one the buyer takes, ``redemption × max(A_b, O_b(q)) + (1 − redemption) ×
O_b(q)``. The response term uses the headline saving, ``A_b + O_b(q)`` or ``max(A_b,
O_b(q))``. Without an offer both reduce to the coupon formulas above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from models.rules import CouponTier, PiecesOffer, Rules
from pricing.engine.bounds import coupon_stacks_with_offer
from pricing.optimize.offers import (
    StoreToolBit,
    ladder_mask,
    offer_saving_fen,
    pieces_distribution,
    tool_bits,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def rounded_units(units: FloatArray, digits: int = 3) -> list[float]:
    """``[round(u, digits) for u in units]``, the forecasts as a plan records them, vectorized
    (a property test holds the two equal).

    Python rounds the exact binary value to ``digits`` decimals and returns the float nearest
    that decimal; ``rint(u × 10^digits) / 10^digits`` returns the same float (a correctly
    rounded division of the same whole number) unless the scaled product, itself rounded, lies
    within a rounding error of a half: those few, and any non-finite or huge value, are
    rounded by Python itself."""
    values = np.asarray(units, dtype=np.float64)
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        from_half = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5)
        unsure = ~(from_half > 1e-6 * np.maximum(1.0, np.abs(scaled))) | ~(
            np.abs(scaled) < 2.0**52
        )
    rounded: list[float] = (np.rint(scaled) / scale).tolist()
    for index in np.flatnonzero(unsure).tolist():
        rounded[index] = round(float(values[index]), digits)
    return rounded


def expected_units(
    base_units: FloatArray,
    list_price_fen: IntArray,
    price_fen: IntArray,
    elasticity: FloatArray,
    joins: BoolArray,
    in_b2g1: BoolArray,
    stock: IntArray,
    rules: Rules,
) -> FloatArray:
    """Expected units sold (see the module docstring); all arguments broadcast."""
    ratio = price_fen / list_price_fen
    units = base_units * np.power(ratio, elasticity)
    units = units * np.where(joins, 1.0 + rules.demand.event_uplift, 1.0)
    units = units * np.where(in_b2g1, 1.0 + rules.b2g1.uplift, 1.0)
    return np.asarray(np.minimum(units, stock), dtype=np.float64)


@dataclass(frozen=True)
class Ladders:
    """Every coupon ladder the store may offer: subsets of the candidates, at most ``max_tiers``.

    ``members[i]`` are the candidate indices of ladder ``i`` (ladder 0 is "no coupons"),
    ``masks[i]`` the same as a bitmask, ``value`` and ``spend`` its forecast value and discount
    spend in fen (floats: forecasts).
    """

    members: tuple[tuple[int, ...], ...]
    masks: IntArray
    value: FloatArray
    spend: FloatArray
    # Per ladder: the offer candidate it runs (-1: none); None when no offer is a candidate.
    offers: IntArray | None = None
    # Every bit of the masks (coupon tiers, then offers and pairs; see pricing.optimize.offers).
    tools: tuple[CouponTier | StoreToolBit, ...] | None = None

    def tiers(self, index: int, candidates: Sequence[CouponTier]) -> tuple[CouponTier, ...]:
        """The coupon tiers of ladder ``index``, by threshold."""
        return tuple(candidates[k] for k in self.members[index] if k < len(candidates))

    def offer(self, index: int) -> int | None:
        """The offer candidate ladder ``index`` runs, or None."""
        if self.offers is None or self.offers[index] < 0:
            return None
        return int(self.offers[index])


def store_orders(base_units: FloatArray, rules: Rules) -> float:
    """The store's baseline number of orders during the event."""
    total_units = float(base_units.sum()) * (1.0 + rules.demand.event_uplift)
    return total_units / rules.demand.units_per_order


def coupon_ladders(rules: Rules, orders: float, margin_rate: float) -> Ladders:
    """Enumerate the ladders and forecast each one's value and spend."""
    candidates = rules.coupons.candidates
    offers = rules.offers.candidates
    max_tiers = min(rules.coupons.max_tiers, len(candidates))
    combos = tuple(
        combo
        for size in range(max_tiers + 1)
        for combo in combinations(range(len(candidates)), size)
    )
    choices = [(combo, offer) for offer in (None, *range(len(offers))) for combo in combos]
    commission = float(rules.platform.commission_rate)
    shipping = float(rules.store.shipping_cost_fen)
    demand = rules.demand
    stacked = coupon_stacks_with_offer(rules)
    chance = pieces_distribution(demand.units_per_order)
    values = np.zeros(len(choices))
    spends = np.zeros(len(choices))
    masks = np.zeros(len(choices), dtype=np.int64)
    members: list[tuple[int, ...]] = []
    for index, (combo, offer) in enumerate(choices):
        masks[index] = ladder_mask(rules, combo, offer)
        members.append(tuple(k for k in range(63) if int(masks[index]) >> k & 1))
        value = spend = 0.0
        for band in demand.order_bands:
            reachable = [
                candidates[k].amount_fen
                for k in combo
                if candidates[k].threshold_fen <= band.typical_fen
            ]
            coupon = float(max(reachable)) if reachable else 0.0
            typical = float(band.typical_fen)
            if offer is None:
                amount, cost = coupon, demand.coupon_redemption * coupon
            else:
                amount, cost = _with_offer(offers[offer], coupon, typical, chance, stacked,
                                           demand.coupon_redemption)
            if amount <= 0.0:
                continue
            uplift = demand.coupon_response * amount / typical
            value += band.share * (
                uplift * (margin_rate * typical - shipping) - cost * (1.0 - commission)
            )
            spend += band.share * cost
        values[index] = orders * value
        spends[index] = orders * spend
    return Ladders(
        members=tuple(members), masks=masks, value=values, spend=spends,
        offers=np.array([-1 if offer is None else offer for _, offer in choices], dtype=np.int64)
        if offers else None,
        tools=tool_bits(rules),
    )


def _with_offer(
    offer: PiecesOffer, coupon: float, typical: float, chance: FloatArray, stacked: bool,
    redemption: float,
) -> tuple[float, float]:
    """The headline saving and the expected cost of an order of a band with a coupon worth
    ``coupon`` and a pieces offer (see the module docstring), over the pieces per order."""
    saving = np.array([offer_saving_fen(offer, n, typical) for n in range(1, len(chance) + 1)])
    if stacked:
        headline = coupon + saving
        taken = redemption * coupon + saving
    else:
        headline = np.maximum(coupon, saving)
        taken = redemption * headline + (1.0 - redemption) * saving
    total = float(chance.sum())
    return float((chance * headline).sum()) / total, float((chance * taken).sum()) / total
