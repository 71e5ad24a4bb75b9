"""The exact stacking engine: what a buyer pays for a cart and what each merchant receives.

The rules are Tmall/Taobao's "parallel threshold" stacking (see the README):

1. the single-item price ``p`` of each line is given (the lowest single-item tool already won);
2. per-unit discounts: the official instant discount ``p × rate`` (rounded by the cart's
   ``official_rounding``: up to the yuan from ¥100 and up to the fen below, or half up to the
   fen), the item instant discount (单品立减) and the super instant discount (超级立减, a rate
   rounded up by price band, :func:`models.money.super_instant_unit_fen`);
3. the store's multi-piece offer (多件优惠): the highest "spend T save A" tier reached,
   buy-two-get-one (of every three eligible units the cheapest is free), N pieces at x折 (the
   discount rounded half up to the fen on the amount) or N pieces save y;
4. one coupon per store: the best store coupon reached, or the lines' item coupons, whichever
   saves more (a tie goes to the store coupon);
5. cross-store reduction ``floor(E / X) × Y`` over the stores sharing the identical tier;
6. red packets, platform-funded, last.

How 3 and 4 combine is the cart's ``store_tools``. ``stacked`` (before 2026-03-10): both apply
to the whole sub-order. ``exclusive`` (since 2026-03-10, 互斥择优): each line takes either the
coupon or the multi-piece offer, never both; of every assignment of the store's lines to the
two tools the engine takes the one that saves the buyer most (the platform does not publish
its choice; the buyer's best is the merchant's worst). Each tool's threshold is then checked on
the lines assigned to it and its discount split over them. Ties go to the assignment with more
lines on the coupon, then to the earlier lines on the coupon.

The official discount and the cross-store reduction reach only lines of products signed up for
the event (``CartLine.event``); store coupons only lines they cover (``CartLine.store_coupons``),
and their thresholds count only those lines. Every threshold (and the pieces discount) is
checked against single-item amounts ``Σ p × q`` of the eligible lines, before any per-unit
discount, never against what is left after earlier discounts. Each order-level discount is split
over its lines in proportion to their single-item amounts with
:func:`models.money.allocate_proportional`, so the parts add up to the fen. No store's sub-order
goes below zero: a discount is cut to what is left of the sub-order, and other stores keep their
shares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from models.cart import (
    Activity,
    B2G1Activity,
    Cart,
    CartLine,
    CartQuote,
    LineQuote,
    PiecesDiscountActivity,
    PiecesSaveActivity,
    SpendSaveActivity,
    StoreOffer,
    StoreQuote,
)
from models.money import (
    allocate_proportional,
    official_discount_unit_fen,
    super_instant_unit_fen,
    times_rate_fen,
)
from models.rules import CouponTier, OfficialRounding, StoreTools


@dataclass
class _LineState:
    """The running waterfall of one line while the discounts are applied."""

    line: CartLine
    subtotal: int
    remaining: int
    official: int = 0
    instant: int = 0
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


def super_instant_fen(line: CartLine) -> int:
    """The super instant discount per unit of a line (0 without one)."""
    if line.super_instant is None:
        return 0
    if line.super_instant.amount_fen is not None:
        return line.super_instant.amount_fen
    assert line.super_instant.rate is not None
    return super_instant_unit_fen(line.unit_price_fen, line.super_instant.rate)


def _apply_per_unit(store: _StoreState, rounding: OfficialRounding) -> None:
    """Official, item instant and super instant discounts, per unit, capped at the line."""
    rate = store.offer.official_rate
    for state in store.lines:
        line = state.line
        if rate is not None and line.event:
            per_unit = official_discount_unit_fen(
                line.unit_price_fen, rate, rounding is OfficialRounding.YUAN_UP
            )
            state.official = min(per_unit * line.quantity, state.remaining)
            state.remaining -= state.official
        instant = (line.item_instant_fen + super_instant_fen(line)) * line.quantity
        state.instant = min(instant, state.remaining)
        state.remaining -= state.instant


def activity_saving(activity: Activity | None, lines: Sequence[CartLine]) -> int:
    """What the multi-piece offer takes off these lines, before the cap at zero."""
    if activity is None or not lines:
        return 0
    amount = sum(line.unit_price_fen * line.quantity for line in lines)
    if isinstance(activity, SpendSaveActivity):
        tier = best_tier_reached(activity.tiers, amount)
        return 0 if tier is None else tier.amount_fen
    if isinstance(activity, B2G1Activity):
        return b2g1_free_value(
            [line.unit_price_fen for line in lines if line.b2g1 for _ in range(line.quantity)]
        )
    pieces = sum(line.quantity for line in lines)
    if isinstance(activity, PiecesDiscountActivity):
        rates = [tier.rate for tier in activity.tiers if tier.pieces <= pieces]
        return times_rate_fen(amount, 1 - min(rates)) if rates else 0
    assert isinstance(activity, PiecesSaveActivity)
    amounts = [tier.amount_fen for tier in activity.tiers if tier.pieces <= pieces]
    return max(amounts, default=0)


def _apply_activity(store: _StoreState, states: list[_LineState]) -> None:
    activity = store.offer.activity
    if isinstance(activity, B2G1Activity):
        states = [state for state in states if state.line.b2g1]
    _apply(states, activity_saving(activity, [state.line for state in states]), "activity")


def _coupon_choice(
    store: _StoreState, states: list[_LineState]
) -> tuple[CouponTier | None, list[int]]:
    """The store coupon these lines reach and each line's item-coupon saving (capped)."""
    covered = [state for state in states if state.line.store_coupons]
    tier = best_tier_reached(store.offer.coupons, sum(state.subtotal for state in covered))
    item_savings = [
        min(state.line.item_coupon.amount_fen, state.remaining)
        if state.line.item_coupon is not None
        and state.subtotal >= state.line.item_coupon.threshold_fen
        else 0
        for state in states
    ]
    return tier, item_savings


def _coupon_saving(store: _StoreState, states: list[_LineState]) -> int:
    tier, item_savings = _coupon_choice(store, states)
    remaining = sum(state.remaining for state in states if state.line.store_coupons)
    store_saving = min(tier.amount_fen, remaining) if tier is not None else 0
    return max(store_saving, sum(item_savings))


def _apply_coupon(store: _StoreState, states: list[_LineState]) -> None:
    """One coupon per store: the best store coupon, or the item coupons, whichever saves more."""
    if not states:
        return
    tier, item_savings = _coupon_choice(store, states)
    remaining = sum(state.remaining for state in states if state.line.store_coupons)
    store_saving = min(tier.amount_fen, remaining) if tier is not None else 0
    if tier is not None and store_saving >= sum(item_savings) and store_saving > 0:
        _apply([state for state in states if state.line.store_coupons], tier.amount_fen,
               "coupon")
        store.coupon_used = f"store {tier.label}"
    elif sum(item_savings) > 0:
        for state, saving in zip(states, item_savings, strict=True):
            state.coupon += saving
            state.remaining -= saving
        store.coupon_used = "item coupons"


def _has_coupon(store: _StoreState) -> bool:
    return bool(store.offer.coupons) or any(
        state.line.item_coupon is not None for state in store.lines
    )


def _best_assignment(store: _StoreState) -> tuple[list[_LineState], list[_LineState]]:
    """The lines on the coupon and the lines on the multi-piece offer that save most in all."""
    lines = store.lines
    if store.offer.activity is None or not _has_coupon(store):
        return (lines, []) if store.offer.activity is None else ([], lines)
    activity = store.offer.activity
    best: tuple[int, int, int] | None = None
    best_mask = 0
    for mask in range(1 << len(lines)):
        on_offer = [state for i, state in enumerate(lines) if mask >> i & 1]
        on_coupon = [state for i, state in enumerate(lines) if not mask >> i & 1]
        offer_states = (
            [state for state in on_offer if state.line.b2g1]
            if isinstance(activity, B2G1Activity) else on_offer
        )
        offer_saving = min(
            activity_saving(activity, [state.line for state in offer_states]),
            sum(state.remaining for state in offer_states),
        )
        saving = offer_saving + _coupon_saving(store, on_coupon)
        key = (saving, len(on_coupon), -mask)
        if best is None or key > best:
            best, best_mask = key, mask
    return (
        [state for i, state in enumerate(lines) if not best_mask >> i & 1],
        [state for i, state in enumerate(lines) if best_mask >> i & 1],
    )


def _apply_store_tools(store: _StoreState, store_tools: StoreTools) -> None:
    if store_tools is StoreTools.STACKED:
        _apply_activity(store, store.lines)
        _apply_coupon(store, store.lines)
        return
    on_coupon, on_offer = _best_assignment(store)
    _apply_activity(store, on_offer)
    _apply_coupon(store, on_coupon)


def _apply_across_stores(
    stores: list[_StoreState], amount: int, attribute: str, event_only: bool = False
) -> None:
    """Split an amount over stores by single-item amount; each store's share is cut at zero.

    ``event_only``: only the lines of event products take part (the cross-store reduction)."""
    if amount <= 0:
        return
    lines = [
        [state for state in store.lines if state.line.event or not event_only]
        for store in stores
    ]
    shares = allocate_proportional(
        amount, [sum(state.subtotal for state in part) for part in lines]
    )
    for part, share in zip(lines, shares, strict=True):
        _apply(part, share, attribute)


def _apply_cross_store(stores: list[_StoreState]) -> None:
    pools: dict[tuple[int, int], list[_StoreState]] = defaultdict(list)
    for store in stores:
        tier = store.offer.cross_store
        if tier is not None:
            pools[(tier.every_fen, tier.save_fen)].append(store)
    for (every, save), pool in pools.items():
        eligible = sum(state.subtotal for store in pool for state in store.lines
                       if state.line.event)
        _apply_across_stores(pool, (eligible // every) * save, "cross_store", event_only=True)


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
        _apply_per_unit(store, cart.official_rounding)
        _apply_store_tools(store, cart.store_tools)
    _apply_cross_store(active)
    _apply_across_stores(active, cart.red_packet_fen, "red_packet")
    line_quotes = tuple(
        LineQuote(
            sku=state.line.sku,
            store=state.line.store,
            quantity=state.line.quantity,
            subtotal_fen=state.subtotal,
            official_discount_fen=state.official,
            instant_discount_fen=state.instant,
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
