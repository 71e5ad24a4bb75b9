"""The candidate table: every product × (out, ladder level, ladder level with B2G1), vectorized.

Rows of the table (the same for every product, ``R`` in all)::

    0                   stays out of the event, at its everyday price
    1 … L               joins at ladder level i
    L+1 … 2L            joins at ladder level i and buy-two-get-one (when the rules allow it)
    then, for each super instant rate of ``[super_instant] rates``, the joining rows again
    with that super instant discount (超级立减, per unit, rounded up by price band)

For each product × row: the activity price (fen), whether it meets the sign-up rules, expected
units, revenue, discount spend and profit (forecasts, fen as floats), and ``unsafe``: a bitmask
over the coupon candidates, bit ``k`` set when a cart reaching candidate ``k`` could take a unit
below its margin floor (:func:`pricing.engine.bounds.unit_margin_bound_fen` with the least subtotal
``S = max(threshold, price)``, never larger than the checker's, so the optimizer is at least as
cautious as the checker).

Expected profit of a row, per unit, with ``c`` the commission, ``o`` the official discount rate,
``t·Y/X`` the expected cross-store take (the share of orders that reach it times its rate),
``f`` the expected free share of B2G1 units and ``ship/u`` shipping per unit::

    profit = units × ((1 − c) × p × (1 − o − t·Y/X − b·f) − cost − handling − ship/u)
    spend  = units × ((list − p) + p × (o + t·Y/X + b·f))
    revenue = units × p × (1 − b·f)

The platform mechanism (``o`` and ``t·Y/X``) reaches only the rows that join, unless
``platform.mechanism_scope = "store"``. A row with a super instant discount ``s`` per unit
(only where the mechanism is "none") sells at ``p − s`` to the buyer: units respond to ``p −
s``, ``p − s`` replaces ``p`` in the profit, spend and revenue above, the 2026 sign-up check
counts ``s`` as a universal offer, and the safety bounds take it as a per-unit discount (the
thresholds still look at ``p``).

A joining row is **dropped** before any model is built when it breaks a sign-up rule or is
unsafe even without a coupon (or can be discounted to nothing); the "out" row is dropped for a
hero that can join; and any row is dropped when another row of the same product is at least as
profitable, no more expensive (with a budget) and unsafe with no more coupon tiers (dominated).
The "out" row is never dropped for safety: staying out is the store as it is. A product whose
"out" row is unsafe even without a coupon loses money at its everyday price (a fact the plan
names); with ``coupons.scope = "auto"`` the "out" row bears no coupon tier (the plan limits the
coupons away from a product outside the event that cannot bear them, see ``out_unsafe``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from models.money import super_instant_unit_fen_array
from models.product import Product, Role
from models.rules import CouponScope, Mechanism, PriceEnding, Rules
from pricing.demand.event import CandidateDemand
from pricing.engine.bounds import (
    ROUNDING_ALLOWANCE_FEN,
    bears_mechanism,
    coupon_stacks_with_offer,
    cross_store_rate,
    margin_floor_fen,
    official_discount_fen,
)
from pricing.engine.signup import ladder_price_fen, lowest_coupon_prices_fen, meets_signup
from pricing.optimize.demand import expected_units
from pricing.optimize.offers import offer_unsafe, offers_alone_mask
from pricing.optimize.rule_dominance import rule_attributes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ProductArrays:
    """The catalogue as columns (one entry per product)."""

    list_price: IntArray
    lowest_price: IntArray
    lowest_coupon_price: IntArray  # 0: none given, not checked
    cost: IntArray
    stock: IntArray
    base_units: FloatArray
    elasticity: FloatArray
    b2g1_eligible: BoolArray
    hero: BoolArray
    category: tuple[str, ...] = ()
    price_line: tuple[str, ...] = ()
    item_id: tuple[str, ...] = ()

    @classmethod
    def of(cls, products: Sequence[Product], rules: Rules) -> ProductArrays:
        count = len(products)
        default = rules.demand.default_elasticity

        def column(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
            return np.fromiter(map(attrgetter(name), products), dtype, count)

        return cls(
            list_price=column("list_price_fen", np.int64),
            lowest_price=column("lowest_price_fen", np.int64),
            lowest_coupon_price=lowest_coupon_prices_fen(products),
            cost=column("unit_cost_fen", np.int64),
            stock=column("stock", np.int64),
            base_units=column("base_units", np.float64),
            elasticity=np.fromiter(
                (default if p.elasticity is None else p.elasticity for p in products),
                np.float64,
                count,
            ),
            b2g1_eligible=column("b2g1_eligible", np.bool_),
            hero=np.fromiter((p.role is Role.HERO for p in products), np.bool_, count),
            category=tuple(map(attrgetter("category"), products)),
            price_line=tuple(map(attrgetter("price_line"), products)),
            item_id=tuple(map(attrgetter("item_id"), products)),
        )


@dataclass(frozen=True)
class DropCounts:
    """How many product × row candidates were dropped before the model, and why."""

    total: int = 0
    signup: int = 0
    unsafe: int = 0
    role: int = 0
    dominated: int = 0

    @property
    def dropped(self) -> int:
        return self.signup + self.unsafe + self.role + self.dominated


@dataclass(frozen=True)
class CandidateTable:
    """The product × row table the optimizer chooses from (see the module docstring)."""

    levels: tuple[Decimal, ...]  # per row: the share of the everyday price (1 for "out")
    row_joins: BoolArray  # per row
    row_b2g1: BoolArray  # per row
    price: IntArray  # n × R
    signup_ok: BoolArray  # n × R
    units: FloatArray  # n × R
    revenue: FloatArray  # n × R
    spend: FloatArray  # n × R
    profit: FloatArray  # n × R
    unsafe: IntArray  # n × R, bitmask over coupon candidates
    base_safe: BoolArray  # n × R: safe with no coupon at all
    valid: BoolArray  # n × R: kept for the model
    joinable: BoolArray  # n: some joining row meets sign-up and is safe without a coupon
    out_unsafe: IntArray  # n: the coupon candidates the everyday price cannot bear
    drops: DropCounts = field(default_factory=DropCounts)
    # n: could join on its own, but another SKU of its item cannot (item_joins_together)
    item_blocked: BoolArray | None = None
    # Per row: the super instant rate (超级立减) it gives, 0 for none (empty: no such rows).
    row_super_rate: tuple[Decimal, ...] = ()

    @property
    def size(self) -> int:
        return int(self.price.shape[0])


def super_instant_fen(price: IntArray, row_super_rate: Sequence[Decimal]) -> IntArray:
    """The super instant discount per unit of every product × row (0 where a row has none)."""
    discount = np.zeros_like(price)
    for row, rate in enumerate(row_super_rate):
        if rate:
            discount[:, row] = super_instant_unit_fen_array(price[:, row], rate)
    return discount


def price_with_ending(prices_fen: IntArray, ending: PriceEnding) -> IntArray:
    """Level prices with the ladder's ``price_ending``: unchanged (``fen``), down to the whole
    yuan (``yuan``), or down to the largest whole-yuan price ending in 9 (``9``: 187.50 → 179);
    0 where no such price is left (then the level is not offered)."""
    if ending is PriceEnding.FEN:
        return prices_fen
    yuan = prices_fen // 100
    if ending is PriceEnding.YUAN:
        return np.asarray(yuan * 100, dtype=np.int64)
    nine = yuan - (yuan - 9) % 10
    return np.asarray(np.where(nine > 0, nine * 100, 0), dtype=np.int64)


def _row_layout(
    rules: Rules,
) -> tuple[tuple[Decimal, ...], BoolArray, BoolArray, tuple[Decimal, ...]]:
    levels = rules.ladder.levels
    with_b2g1 = rules.b2g1.enabled
    joining = (*levels, *(levels if with_b2g1 else ()))
    joining_b2g1 = [False] * len(levels) + ([True] * len(levels) if with_b2g1 else [])
    rates = rules.super_instant.rates
    row_levels = (Decimal(1), *joining * (1 + len(rates)))
    joins = np.array([False] + [True] * (len(row_levels) - 1), dtype=bool)
    b2g1 = np.array([False] + joining_b2g1 * (1 + len(rates)), dtype=bool)
    super_rates = (Decimal(0), *(rate for rate in (Decimal(0), *rates) for _ in joining))
    return row_levels, joins, b2g1, super_rates


def build_candidates(
    products: Sequence[Product] | ProductArrays,
    rules: Rules,
    with_budget: bool | None = None,
    demand: CandidateDemand | None = None,
) -> CandidateTable:
    """Build the table for a catalogue under the rules, with its rows pruned.

    With ``demand`` (``plan --demand``), products with a fitted row take their units from the
    fitted model (:mod:`pricing.demand.event`), and their rows' profit carries the
    cannibalization externality while the planner optimises.
    """
    arrays = products if isinstance(products, ProductArrays) else ProductArrays.of(products, rules)
    with_budget = rules.store.budget_fen > 0 if with_budget is None else with_budget
    row_levels, row_joins, row_b2g1, row_super_rate = _row_layout(rules)
    count, rows = len(arrays.list_price), len(row_levels)
    list_price = arrays.list_price[:, None]

    price = np.empty((count, rows), dtype=np.int64)
    price[:, 0] = arrays.list_price
    for row in range(1, rows):
        price[:, row] = price_with_ending(
            ladder_price_fen(arrays.list_price, row_levels[row]), rules.ladder.price_ending
        )
    priced = price > 0  # an ending can leave a cheap product no price at a level
    price = np.where(priced, price, arrays.list_price[:, None])
    super_fen = super_instant_fen(price, row_super_rate)
    signup_ok = meets_signup(
        price, np.broadcast_to(list_price, price.shape),
        np.broadcast_to(arrays.lowest_price[:, None], price.shape), rules,
        # The 2026 check counts no store coupon here (the tiers are still to be chosen):
        # stricter than the check of a finished plan, never looser. A super instant discount
        # is a universal offer the product runs all cycle: it counts.
        lowest_coupon_price_fen=np.broadcast_to(arrays.lowest_coupon_price[:, None], price.shape),
        universal_offer_fen=super_fen,
    )
    signup_ok &= priced
    signup_ok[:, 0] = True  # staying out needs no sign-up
    in_b2g1 = np.broadcast_to(row_b2g1[None, :], price.shape) & arrays.b2g1_eligible[:, None]
    b2g1_possible = ~row_b2g1[None, :] | arrays.b2g1_eligible[:, None]

    paid = price - super_fen  # what the buyer pays per unit before store and platform tools
    units = expected_units(
        arrays.base_units[:, None], list_price, paid, arrays.elasticity[:, None],
        row_joins[None, :], in_b2g1, arrays.stock[:, None], rules,
    )
    if demand is not None:
        fitted_units = demand.units(paid, row_joins[None, :], in_b2g1, arrays.stock[:, None],
                                    rules)
        units = np.where(np.isnan(fitted_units), units, fitted_units)
    # The platform mechanism reaches the rows that join (every row when mechanism_scope is
    # "store").
    bears = np.broadcast_to(bears_mechanism(row_joins, rules)[None, :], price.shape)
    commission = float(rules.platform.commission_rate)
    official_rate = np.where(
        bears,
        float(rules.platform.official_rate)
        if rules.platform.mechanism is Mechanism.OFFICIAL
        else 0.0,
        0.0,
    )
    cross_take = np.where(
        bears, rules.demand.cross_store_take_rate * cross_store_rate(rules), 0.0
    )
    free_share = np.where(in_b2g1, rules.b2g1.free_share, 0.0)
    price_f = paid.astype(np.float64)
    kept_share = 1.0 - official_rate - cross_take - free_share
    per_unit = (
        (1.0 - commission) * price_f * kept_share
        - arrays.cost[:, None]
        - rules.store.handling_cost_fen
        - rules.store.shipping_cost_fen / rules.demand.units_per_order
    )
    profit = units * per_unit
    if demand is not None:
        profit = profit + demand.extra_objective(paid)
    spend = units * ((list_price - price_f) + price_f * (official_rate + cross_take + free_share))
    revenue = units * price_f * (1.0 - free_share)

    # The super instant discount is a per-unit discount like the official one (never both).
    official = np.where(bears, official_discount_fen(price, rules), 0) + super_fen
    floors = margin_floor_fen(price, rules)
    cost = np.broadcast_to(arrays.cost[:, None], price.shape)
    base_safe = base_safe_rows(price, official, cost, in_b2g1, floors, bears, rules)
    # Exclusive store tools: a coupon line never bears B2G1 too (the larger of the two, not
    # the sum; proof in pricing.engine.bounds.coupon_stacks_with_offer). The offer-only case
    # is the base bound above. ``zeroes``: the tiers that can cut a line to nothing.
    with_coupon_b2g1 = in_b2g1 if coupon_stacks_with_offer(rules) else np.zeros_like(in_b2g1)
    unsafe, zeroes = coupon_unsafe_bits(
        price, official, cost, with_coupon_b2g1, floors, bears, rules
    )

    # The multi-piece offer candidates ([offers]): their bits, see pricing.optimize.offers.
    offer_bits, offer_alone, offer_zeroes = offer_unsafe(
        price, official, cost, floors, bears, in_b2g1, rules
    )
    unsafe |= offer_bits
    zeroes |= offer_zeroes

    valid = np.broadcast_to(b2g1_possible, price.shape).copy()
    total = int(valid.sum())
    dropped_signup = int((valid & ~signup_ok).sum())
    valid &= signup_ok
    dropped_unsafe = int((valid[:, 1:] & ~base_safe[:, 1:]).sum())
    valid[:, 1:] &= base_safe[:, 1:]
    # Staying out at the everyday price is always possible: it is the store as it is. A product
    # that loses even so is a fact the plan names; its row stays, outside the guarantee.
    joinable: BoolArray = np.asarray(valid[:, 1:].any(axis=1), dtype=bool)
    item_blocked: BoolArray | None = None
    if rules.business.item_joins_together and arrays.item_id:
        # An item joins only whole: a SKU that cannot join keeps its item's SKUs out.
        item_blocked = joinable & ~items_joinable(joinable, arrays.item_id)
        dropped_unsafe += int(valid[item_blocked, 1:].sum())
        valid[item_blocked, 1:] = False
        joinable = joinable & ~item_blocked
    # The coupon tiers (alone or stacked with an offer) the everyday price cannot bear: what
    # limiting the coupons away from the product fixes (the offer alone it does not).
    out_unsafe = unsafe[:, 0] & ~np.int64(offers_alone_mask(rules))
    if rules.coupons.scope is CouponScope.AUTO:
        # Outside the event, the plan limits the coupons away from a product that cannot bear
        # them (its row then bears no coupon tier); the multi-piece offer stays store-wide.
        unsafe[:, 0] = np.where(base_safe[:, 0], offer_alone[:, 0], offer_zeroes[:, 0])
    else:
        # A product that loses at its everyday price with no coupon at all is outside the
        # guarantee: it does not stop the store from offering coupons, except one that could
        # cut its line to nothing (the cut would then spill over the other lines).
        unsafe[:, 0] = np.where(base_safe[:, 0], unsafe[:, 0], zeroes[:, 0])
    role_rows = np.zeros(price.shape, dtype=bool)
    if rules.business.heroes.hard:
        role_rows[:, 0] = arrays.hero & joinable  # a hero that can join must join
    dropped_role = int((valid & role_rows).sum())
    valid &= ~role_rows
    before = int(valid.sum())
    attributes = rule_attributes(
        rules, row_levels, row_joins, row_b2g1, price, spend, joinable, arrays.list_price,
        arrays.category, arrays.price_line,
    )
    valid = _drop_dominated(
        valid, profit, spend, unsafe, with_budget,
        None if attributes is None else attributes.classes,
        () if attributes is None else attributes.at_most,
    )
    drops = DropCounts(
        total=total, signup=dropped_signup, unsafe=dropped_unsafe, role=dropped_role,
        dominated=before - int(valid.sum()),
    )
    return CandidateTable(
        levels=row_levels, row_joins=row_joins, row_b2g1=row_b2g1, price=price,
        signup_ok=signup_ok, units=units, revenue=revenue, spend=spend, profit=profit,
        unsafe=unsafe, base_safe=base_safe, valid=valid, joinable=np.asarray(joinable, dtype=bool),
        out_unsafe=out_unsafe, drops=drops, item_blocked=item_blocked,
        row_super_rate=row_super_rate,
    )


def base_safe_rows(
    price: IntArray,
    official: IntArray,
    cost: IntArray,
    in_b2g1: BoolArray,
    floors: IntArray,
    bears: BoolArray,
    rules: Rules,
) -> BoolArray:
    """Per product × row: safe with no coupon at all, ``unit_margin_bound_fen ≥ floor`` and
    ``worst_rate < 1`` at ``S = price`` (:mod:`pricing.engine.bounds`), the same floats in the
    same order, worked in place (a property test holds them equal): a table of 10,000 products
    is 210,000 rows, and each temporary array the formulas would make costs as much as the
    arithmetic."""
    price_f = price.astype(np.float64)
    keep = 1.0 - float(rules.platform.commission_rate)
    cross = np.where(bears, cross_store_rate(rules), 0.0)
    term = np.empty_like(price_f)
    # unit_margin_bound_fen: receives = p − o − 0 − b·p/3 − 0·p/S − p·Y/X, S = p
    margin = np.subtract(price_f, official)
    margin -= 0.0
    margin -= np.where(in_b2g1, price_f / 3.0, 0.0)
    np.multiply(np.asarray(0, dtype=np.float64), price_f, out=term)
    term /= price_f
    margin -= term
    np.multiply(price_f, cross, out=term)
    margin -= term
    # margin = (1 − c)·receives − cost − handling − ship·p/S − allowance
    margin *= keep
    margin -= cost
    margin -= rules.store.handling_cost_fen
    np.multiply(rules.store.shipping_cost_fen, price_f, out=term)
    term /= price_f
    margin -= term
    margin -= ROUNDING_ALLOWANCE_FEN
    bound = np.floor(margin).astype(np.int64)
    # worst_rate: o/p + 0/p + b/3 + 0/S + Y/X
    rate = np.divide(official, price_f)
    np.divide(np.asarray(0.0, dtype=np.float64), price_f, out=term)
    rate += term
    rate += np.where(in_b2g1, 1.0 / 3.0, 0.0)
    np.divide(np.asarray(0, dtype=np.float64), price_f, out=term)
    rate += term
    rate += cross
    return np.asarray((bound >= floors) & (rate < 1.0), dtype=bool)


def coupon_unsafe_bits(
    price: IntArray,
    official: IntArray,
    cost: IntArray,
    in_b2g1: BoolArray,
    floors: IntArray,
    bears: BoolArray,
    rules: Rules,
) -> tuple[IntArray, IntArray]:
    """Per product × row, bit ``k`` set for coupon candidate ``k``: in ``unsafe`` when a cart
    reaching it could take a unit below its floor (or the line to nothing), in ``zeroes`` when
    it could take the line to nothing.

    The same as :func:`~pricing.engine.bounds.unit_margin_bound_fen` and
    :func:`~pricing.engine.bounds.worst_rate` at ``S = max(threshold, price)`` for each
    candidate (a property test holds them equal): the terms that do not depend on the
    candidate are computed once, the others in the same order, so every float is the same; and
    a row whose every input equals an earlier row's (under exclusive store tools a
    buy-two-get-one row is its level's row again) copies that row's bits.
    """
    if not rules.coupons.candidates:
        return np.zeros(price.shape, dtype=np.int64), np.zeros(price.shape, dtype=np.int64)
    inputs = np.broadcast_arrays(price, official, cost, in_b2g1, floors, bears)
    if inputs[0].ndim == 2:
        same_as = _first_equal_columns(inputs)
        distinct = sorted(set(same_as))
        if len(distinct) < len(same_as):
            price, official, cost, in_b2g1, floors, bears = (
                np.ascontiguousarray(array[:, distinct]) for array in inputs
            )
            unsafe, zeroes = _coupon_unsafe_bits(
                price, official, cost, in_b2g1, floors, bears, rules
            )
            columns = [distinct.index(first) for first in same_as]
            return unsafe[:, columns], zeroes[:, columns]
    return _coupon_unsafe_bits(price, official, cost, in_b2g1, floors, bears, rules)


def _first_equal_columns(arrays: Sequence[npt.NDArray[Any]]) -> list[int]:
    """For each column, the first column equal to it in every one of ``arrays`` (columns are
    matched on the first array's bytes, then checked in the others)."""
    leading = np.ascontiguousarray(arrays[0].T)
    firsts: dict[bytes, list[int]] = {}
    same_as: list[int] = []
    for column in range(leading.shape[0]):
        alike = firsts.setdefault(leading[column].tobytes(), [])
        first = next(
            (first for first in alike
             if all(np.array_equal(array[:, column], array[:, first]) for array in arrays[1:])),
            None,
        )
        if first is None:
            alike.append(column)
            first = column
        same_as.append(first)
    return same_as


def _coupon_unsafe_bits(
    price: IntArray,
    official: IntArray,
    cost: IntArray,
    in_b2g1: BoolArray,
    floors: IntArray,
    bears: BoolArray,
    rules: Rules,
) -> tuple[IntArray, IntArray]:
    unsafe = np.zeros(price.shape, dtype=np.int64)
    zeroes = np.zeros(price.shape, dtype=np.int64)
    price_f = price.astype(np.float64)
    keep = 1.0 - float(rules.platform.commission_rate)
    cross = np.where(bears, cross_store_rate(rules), 0.0)
    # unit_margin_bound_fen's terms before the coupon's, and its terms after it
    before_coupon = price_f - official - 0.0 - np.where(in_b2g1, price_f / 3.0, 0.0)
    cross_fen = price_f * cross
    shipping = rules.store.shipping_cost_fen * price_f
    cost_f = np.asarray(cost, dtype=np.float64)
    # worst_rate's terms before the coupon's
    rate_before = (
        official / price_f + np.asarray(0.0, dtype=np.float64) / price_f
        + np.where(in_b2g1, 1.0 / 3.0, 0.0)
    )
    margin = np.empty_like(price_f)
    rate = np.empty_like(price_f)
    for index, tier in enumerate(rules.coupons.candidates):
        basket = np.maximum(price, tier.threshold_fen).astype(np.float64)
        amount = np.asarray(tier.amount_fen, dtype=np.float64)
        np.multiply(amount, price_f, out=margin)
        margin /= basket
        np.subtract(before_coupon, margin, out=margin)
        margin -= cross_fen  # receives
        margin *= keep
        margin -= cost_f
        margin -= rules.store.handling_cost_fen
        margin -= shipping / basket
        margin -= ROUNDING_ALLOWANCE_FEN
        bound = np.floor(margin).astype(np.int64)
        np.divide(amount, basket, out=rate)
        np.add(rate_before, rate, out=rate)
        rate += cross
        zero = rate >= 1.0
        bit = np.int64(1 << index)
        unsafe |= np.where((bound < floors) | zero, bit, np.int64(0))
        zeroes |= np.where(zero, bit, np.int64(0))
    return unsafe, zeroes


def items_joinable(joinable: BoolArray, item_id: Sequence[str]) -> BoolArray:
    """Per product: whether every SKU of its item can join."""
    _, item = np.unique(np.asarray(item_id, dtype=object), return_inverse=True)
    blocked = np.bincount(item, weights=(~joinable).astype(np.float64)) > 0
    return np.asarray(~blocked[item], dtype=bool)


def _drop_dominated(
    valid: BoolArray, profit: FloatArray, spend: FloatArray, unsafe: IntArray, with_budget: bool,
    classes: IntArray | None = None, at_most: Sequence[FloatArray] = (),
) -> BoolArray:
    """Drop rows another valid row of the same product dominates (ties: the earlier row stays).

    Row ``b`` dominates row ``a`` when ``profit_b ≥ profit_a``, ``unsafe_b ⊆ unsafe_a``, with a
    budget ``spend_b ≤ spend_a``, and with business rules both rows are of the same class and no
    larger in each of ``at_most`` (see :mod:`pricing.optimize.rule_dominance`); on a complete
    tie the lower row index is kept.
    """
    # Only valid rows can be dropped, and a row once dominated stays so: each dominating row b
    # is tested against the valid rows not dropped yet, as flat positions (product, row), so
    # the work shrinks as rows fall (nine in ten do on a real catalogue). The same test as
    # comparing all pairs at once, with temporaries of the rows still standing.
    product_of, row_of = np.nonzero(valid)
    standing = np.arange(len(row_of))
    profit_a, unsafe_a = profit[product_of, row_of], unsafe[product_of, row_of]
    spend_a = spend[product_of, row_of] if with_budget else None
    class_a = None if classes is None else classes[product_of, row_of]
    attributes_a = [attribute[product_of, row_of] for attribute in at_most]
    dominated = np.zeros(len(row_of), dtype=bool)
    for b in np.flatnonzero(valid.any(axis=0)).tolist():
        if not len(standing):
            break
        j, a = product_of[standing], row_of[standing]
        p_a, m_a = profit_a[standing], unsafe_a[standing]
        p_b, m_b = profit[j, b], unsafe[j, b]
        at_least = valid[j, b] & (p_b >= p_a) & ((m_b & ~m_a) == 0)
        strictly = (p_b > p_a) | (m_b != m_a)
        if spend_a is not None:
            s_a, s_b = spend_a[standing], spend[j, b]
            at_least &= s_b <= s_a
            strictly |= s_b < s_a
        if classes is not None and class_a is not None:
            at_least &= classes[j, b] == class_a[standing]
        for attribute, attribute_a in zip(at_most, attributes_a, strict=True):
            x_a, x_b = attribute_a[standing], attribute[j, b]
            at_least &= x_b <= x_a
            strictly |= x_b < x_a
        falls = at_least & (strictly | (b < a)) & (a != b)
        dominated[standing[falls]] = True
        standing = standing[~falls]
    kept = valid.copy()
    kept[product_of[dominated], row_of[dominated]] = False
    return kept
