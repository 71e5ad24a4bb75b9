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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from models.rules import CouponTier, Rules

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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

    def tiers(self, index: int, candidates: Sequence[CouponTier]) -> tuple[CouponTier, ...]:
        """The coupon tiers of ladder ``index``, by threshold."""
        return tuple(candidates[k] for k in self.members[index])


def store_orders(base_units: FloatArray, rules: Rules) -> float:
    """The store's baseline number of orders during the event."""
    total_units = float(base_units.sum()) * (1.0 + rules.demand.event_uplift)
    return total_units / rules.demand.units_per_order


def coupon_ladders(rules: Rules, orders: float, margin_rate: float) -> Ladders:
    """Enumerate the ladders and forecast each one's value and spend."""
    candidates = rules.coupons.candidates
    max_tiers = min(rules.coupons.max_tiers, len(candidates))
    members = tuple(
        combo
        for size in range(max_tiers + 1)
        for combo in combinations(range(len(candidates)), size)
    )
    commission = float(rules.platform.commission_rate)
    shipping = float(rules.store.shipping_cost_fen)
    demand = rules.demand
    values = np.zeros(len(members))
    spends = np.zeros(len(members))
    masks = np.zeros(len(members), dtype=np.int64)
    for index, combo in enumerate(members):
        masks[index] = sum(1 << k for k in combo)
        value = spend = 0.0
        for band in demand.order_bands:
            reachable = [
                candidates[k].amount_fen
                for k in combo
                if candidates[k].threshold_fen <= band.typical_fen
            ]
            if not reachable:
                continue
            amount = float(max(reachable))
            typical = float(band.typical_fen)
            uplift = demand.coupon_response * amount / typical
            value += band.share * (
                uplift * (margin_rate * typical - shipping)
                - demand.coupon_redemption * amount * (1.0 - commission)
            )
            spend += band.share * demand.coupon_redemption * amount
        values[index] = orders * value
        spends[index] = orders * spend
    return Ladders(members=members, masks=masks, value=values, spend=spends)
