"""Who bears which discount: the platform mechanism on event products only (or every product,
``mechanism_scope = "store"``), store coupons on the products they cover. The engine, the
checker and the plan agree under both settings."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import buyer_carts, carts, examples, store_setups

from models.cart import Cart, CartLine, CrossStore, StoreOffer
from models.rules import CouponTier, MechanismScope
from pricing.engine.stacking import quote
from pricing.verify.checker import StoreSetup, cart_margins, check_store

SETTINGS = settings(max_examples=examples(0.8), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(carts(), st.data())
def test_a_line_outside_the_event_or_the_coupons_bears_none_of_them(
    cart: Cart, data: st.DataObject
) -> None:
    """GIVEN any cart whose lines are flagged in or out of the event and the coupons WHEN quoted
    THEN lines outside the event get no official or cross-store discount, lines the coupons do
    not cover get no store coupon, and every split still adds up to the fen."""
    flagged = tuple(
        line.model_copy(update={"event": data.draw(st.booleans()),
                                "store_coupons": data.draw(st.booleans())})
        for line in cart.lines
    )
    cart = cart.model_copy(update={"lines": flagged})
    result = quote(cart)
    for line, line_quote in zip(cart.lines, result.lines, strict=True):
        if not line.event:
            assert line_quote.official_discount_fen == 0
            assert line_quote.cross_store_discount_fen == 0
        if not line.store_coupons and line.item_coupon is None:
            assert line_quote.coupon_discount_fen == 0
        assert line_quote.paid_fen >= 0
    assert result.paid_fen == sum(q.paid_fen for q in result.lines)


def test_the_cross_store_threshold_counts_only_event_lines() -> None:
    offer = StoreOffer(cross_store=CrossStore(every_fen=30_000, save_fen=5_000))
    lines = (
        CartLine(sku="IN", store="S", unit_price_fen=20_000, quantity=1),
        CartLine(sku="OUT", store="S", unit_price_fen=20_000, quantity=1, event=False),
    )
    result = quote(Cart(stores={"S": offer}, lines=lines))
    assert [q.cross_store_discount_fen for q in result.lines] == [0, 0]
    both_in = quote(Cart(stores={"S": offer}, lines=(lines[0], lines[0].model_copy(
        update={"sku": "IN2"}))))
    assert sum(q.cross_store_discount_fen for q in both_in.lines) == 5_000


def test_a_scoped_coupon_counts_only_the_lines_it_covers() -> None:
    offer = StoreOffer(coupons=(CouponTier(threshold_fen=29_900, amount_fen=2_000),))
    lines = (
        CartLine(sku="A", store="S", unit_price_fen=20_000, quantity=1),
        CartLine(sku="B", store="S", unit_price_fen=20_000, quantity=1, store_coupons=False),
    )
    assert quote(Cart(stores={"S": offer}, lines=lines)).paid_fen == 40_000
    covered = (lines[0], lines[1].model_copy(update={"store_coupons": True}))
    assert quote(Cart(stores={"S": offer}, lines=covered)).paid_fen == 38_000


@settings(max_examples=examples(1.2), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store_setups(max_products=4), st.sampled_from(list(MechanismScope)), st.data())
def test_no_cart_beats_the_checkers_bound_under_either_scope(
    setup: StoreSetup, scope: MechanismScope, data: st.DataObject
) -> None:
    """GIVEN a store where some products join the event and some are left out of the coupons,
    under either ``mechanism_scope`` WHEN a buyer builds any cart THEN no unit keeps less than
    the checker's bound."""
    rules = setup.rules.model_copy(update={
        "platform": setup.rules.platform.model_copy(update={"mechanism_scope": scope}),
    })
    skus = [p.sku for p in setup.products]
    joining = frozenset(s for s in skus if data.draw(st.booleans()))
    excluded = frozenset(s for s in skus if s not in joining and data.draw(st.booleans()))
    setup = StoreSetup(
        products=setup.products, prices_fen=tuple(
            price if p.sku in joining else p.list_price_fen
            for p, price in zip(setup.products, setup.prices_fen, strict=True)
        ),
        coupon_tiers=setup.coupon_tiers,
        b2g1_members=setup.b2g1_members & joining, rules=rules,
        event_members=joining, coupon_excluded=excluded,
    )
    report = check_store(setup, witnesses_for=0)
    bounds = {check.sku: check.bound_fen for check in report.products}
    costs = {p.sku: p.unit_cost_fen for p in setup.products}
    for _ in range(5):
        cart = data.draw(buyer_carts(setup))
        margins, _ = cart_margins(cart, quote(cart), costs, rules)
        for line, margin in zip(cart.lines, margins, strict=True):
            if margin is None:
                continue
            assert Fraction(margin, line.quantity) >= bounds[line.sku]
