"""The exact stacking engine: what a buyer pays for a cart and what each merchant receives.

The rules are Tmall/Taobao's "parallel threshold" stacking (see the README):

1. the single-item price ``p`` of each line is given (the lowest single-item tool already won);
2. official instant discount: ``round_half_up(p × rate)`` per unit, where the store has it;
3. one store activity: the highest "spend T save A" tier reached, or buy-two-get-one (of every
   three eligible units the cheapest is free);
4. one coupon per store: the best store coupon the sub-order reaches, or the line's item
   coupons, whichever saves more (a tie goes to the store coupon);
5. cross-store reduction ``floor(E / X) × Y`` over the stores sharing the identical tier;
6. red packets, platform-funded, last.

Every threshold is checked against single-item amounts ``Σ p × q`` of the eligible lines, never
against what is left after earlier discounts. Each order-level discount is split over its lines
in proportion to their single-item amounts with :func:`models.money.allocate_proportional`, so
the parts add up to the fen. No store's sub-order goes below zero: a discount is cut to what is
left of the sub-order, and other stores keep their shares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from models.cart import (
    B2G1Activity,
    Cart,
    CartLine,
    CartQuote,
    LineQuote,
    SpendSaveActivity,
    StoreOffer,
    StoreQuote,
)
from models.money import allocate_proportional, fen_times_rate
from models.rules import CouponTier


@dataclass
class _LineState:
    """The running waterfall of one line while the discounts are applied."""

    line: CartLine
    subtotal: int
    remaining: int
    official: int = 0
    activity: int = 0
    coupon: int = 0
    cross_store: int = 0
    red_packet: int = 0


@dataclass
class _StoreState:
    name: str
    offer: StoreOffer
    lines: list[_LineState] = field(default_factory=list)
    coupon_used: str | None = None

    @property
    def subtotal(self) -> int:
        return sum(state.subtotal for state in self.lines)

    @property
    def remaining(self) -> int:
        return sum(state.remaining for state in self.lines)


def best_tier_reached(tiers: tuple[CouponTier, ...], base_fen: int) -> CouponTier | None:
    """The tier that saves most among those whose threshold ``base_fen`` reaches."""
    reached = [tier for tier in tiers if tier.threshold_fen <= base_fen]
    if not reached:
        return None
    return max(reached, key=lambda tier: (tier.amount_fen, -tier.threshold_fen))


def b2g1_free_value(unit_prices: list[int]) -> int:
    """Of every three eligible units, the cheapest is free: the sum of the ``n // 3`` cheapest."""
    free_units = len(unit_prices) // 3
    return sum(sorted(unit_prices)[:free_units])


def _apply(states: list[_LineState], amount: int, attribute: str) -> int:
    """Split ``amount`` over ``states`` by single-item amount, capped at what each has left.

    The amount is first cut to what the lines have left in total (the cap at zero); returns
    the amount actually applied.
    """
    if not states or amount <= 0:
        return 0
    applied = min(amount, sum(state.remaining for state in states))
    parts = allocate_proportional(
        applied,
        [state.subtotal for state in states],
        caps=[state.remaining for state in states],
    )
    for state, part in zip(states, parts, strict=True):
        setattr(state, attribute, getattr(state, attribute) + part)
        state.remaining -= part
    return applied


def _apply_official(store: _StoreState) -> None:
    rate = store.offer.official_rate
    if rate is None:
        return
    for state in store.lines:
        per_unit = fen_times_rate(state.line.unit_price_fen, rate)
        part = min(per_unit * state.line.quantity, state.remaining)
        state.official = part
        state.remaining -= part


def _apply_activity(store: _StoreState) -> None:
    activity = store.offer.activity
    if isinstance(activity, SpendSaveActivity):
        tier = best_tier_reached(activity.tiers, store.subtotal)
        if tier is not None:
            _apply(store.lines, tier.amount_fen, "activity")
    elif isinstance(activity, B2G1Activity):
        eligible = [state for state in store.lines if state.line.b2g1]
        unit_prices = [
            state.line.unit_price_fen for state in eligible for _ in range(state.line.quantity)
        ]
        _apply(eligible, b2g1_free_value(unit_prices), "activity")


def _apply_coupon(store: _StoreState) -> None:
    """One coupon per store: the best store coupon, or the item coupons, whichever saves more."""
    tier = best_tier_reached(store.offer.coupons, store.subtotal)
    store_saving = min(tier.amount_fen, store.remaining) if tier is not None else 0
    item_savings = [
        min(state.line.item_coupon.amount_fen, state.remaining)
        if state.line.item_coupon is not None
        and state.subtotal >= state.line.item_coupon.threshold_fen
        else 0
        for state in store.lines
    ]
    if tier is not None and store_saving >= sum(item_savings) and store_saving > 0:
        _apply(store.lines, tier.amount_fen, "coupon")
        store.coupon_used = f"store {tier.label}"
    elif sum(item_savings) > 0:
        for state, saving in zip(store.lines, item_savings, strict=True):
            state.coupon += saving
            state.remaining -= saving
        store.coupon_used = "item coupons"


def _apply_across_stores(stores: list[_StoreState], amount: int, attribute: str) -> None:
    """Split an amount over stores by single-item amount; each store's share is cut at zero."""
    if amount <= 0:
        return
    shares = allocate_proportional(amount, [store.subtotal for store in stores])
    for store, share in zip(stores, shares, strict=True):
        _apply(store.lines, share, attribute)


def _apply_cross_store(stores: list[_StoreState]) -> None:
    pools: dict[tuple[int, int], list[_StoreState]] = defaultdict(list)
    for store in stores:
        tier = store.offer.cross_store
        if tier is not None:
            pools[(tier.every_fen, tier.save_fen)].append(store)
    for (every, save), pool in pools.items():
        eligible = sum(store.subtotal for store in pool)
        _apply_across_stores(pool, (eligible // every) * save, "cross_store")


def quote(cart: Cart) -> CartQuote:
    """Quote a cart exactly: every line's waterfall and every store's sub-order, in fen."""
    stores = {name: _StoreState(name, offer) for name, offer in sorted(cart.stores.items())}
    states: list[_LineState] = []
    for line in cart.lines:
        subtotal = line.unit_price_fen * line.quantity
        state = _LineState(line=line, subtotal=subtotal, remaining=subtotal)
        states.append(state)
        stores[line.store].lines.append(state)
    active = [store for store in stores.values() if store.lines]
    for store in active:
        _apply_official(store)
        _apply_activity(store)
        _apply_coupon(store)
    _apply_cross_store(active)
    _apply_across_stores(active, cart.red_packet_fen, "red_packet")
    line_quotes = tuple(
        LineQuote(
            sku=state.line.sku,
            store=state.line.store,
            quantity=state.line.quantity,
            subtotal_fen=state.subtotal,
            official_discount_fen=state.official,
            activity_discount_fen=state.activity,
            coupon_discount_fen=state.coupon,
            cross_store_discount_fen=state.cross_store,
            red_packet_fen=state.red_packet,
            paid_fen=state.remaining,
            merchant_receives_fen=state.remaining + state.red_packet,
        )
        for state in states
    )
    store_quotes = tuple(
        StoreQuote(
            store=store.name,
            subtotal_fen=store.subtotal,
            paid_fen=store.remaining,
            merchant_receives_fen=store.remaining + sum(s.red_packet for s in store.lines),
            coupon_used=store.coupon_used,
        )
        for store in active
    )
    return CartQuote(
        paid_fen=sum(quote.paid_fen for quote in line_quotes),
        lines=line_quotes,
        stores=store_quotes,
    )
