"""The bound of a buy-two-get-one member is a lower bound on every cart, and a tight one.

The checker bounds the free units' share of a B2G1 member's unit by ``p·β(E)`` instead of a
full third of its price (see :func:`pricing.verify.checker._b2g1_member_bound_fen`). These
properties test it against a brute force over every small cart, in stores made for it: every
product in buy-two-get-one, purchase limits on most, coupons sometimes limited away from some
products, under both ``store_tools`` settings.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, fen, rules, tier_ladders
from test_checker import PLAIN, brute_force, product

from models.product import Product
from models.rules import CouponTier, Mechanism, PlatformRules, StoreTools
from pricing.verify.checker import StoreSetup, check_store


@st.composite
def b2g1_stores(draw: st.DrawFn, store_tools: StoreTools) -> StoreSetup:
    """Two to four products, most in buy-two-get-one, most with a purchase limit of 1–3."""
    count = draw(st.integers(2, 4))
    catalogue = []
    for index in range(count):
        list_price = draw(fen(100, 120_000))
        catalogue.append(Product(
            sku=f"P{index + 1}", list_price_fen=list_price, lowest_price_fen=list_price,
            unit_cost_fen=draw(st.integers(0, list_price)), stock=100, base_units=10.0,
            purchase_limit=draw(st.sampled_from([None, 1, 1, 2, 2, 3])),
            b2g1_eligible=True,
        ))
    the_rules = draw(rules())
    the_rules = the_rules.model_copy(update={"platform": the_rules.platform.model_copy(
        update={"store_tools": store_tools})})
    members = frozenset(p.sku for p in catalogue if draw(st.integers(0, 4)) > 0)
    excluded = frozenset(p.sku for p in catalogue if draw(st.integers(0, 4)) == 0)
    return StoreSetup(
        products=tuple(catalogue),
        prices_fen=tuple(
            draw(st.integers(max(1, p.list_price_fen // 3), p.list_price_fen)) for p in catalogue
        ),
        coupon_tiers=draw(tier_ladders(max_tiers=3, max_threshold=150_000)),
        b2g1_members=members,
        rules=the_rules,
        coupon_excluded=excluded,
    )


def _no_small_cart_beats_the_bound(setup: StoreSetup) -> None:
    report = check_store(setup)
    brute = brute_force(setup)
    for check in report.products:
        least, cart = brute.unit[check.sku]
        assert least >= check.bound_fen, (check.sku, check.bound_fen, cart)
        assert check.witness_margin is not None and check.witness_margin >= check.bound_fen


@settings(max_examples=examples(0.5), deadline=None)
@given(b2g1_stores(StoreTools.STACKED))
def test_no_small_cart_beats_a_b2g1_members_bound_under_stacked_tools(
    setup: StoreSetup,
) -> None:
    """GIVEN a store where most products are in B2G1 with purchase limits, coupon and B2G1
    stacking WHEN every cart of up to three units a product is quoted THEN none leaves a unit
    less than its product's bound."""
    _no_small_cart_beats_the_bound(setup)


@settings(max_examples=examples(0.5), deadline=None)
@given(b2g1_stores(StoreTools.EXCLUSIVE))
def test_no_small_cart_beats_a_b2g1_members_bound_under_exclusive_tools(
    setup: StoreSetup,
) -> None:
    """The same under exclusive store tools (a line takes the coupon or B2G1)."""
    _no_small_cart_beats_the_bound(setup)


def _two_members(limit_e: int | None, store_tools: StoreTools = StoreTools.EXCLUSIVE
                 ) -> StoreSetup:
    rules = PLAIN.model_copy(update={"platform": PlatformRules(
        commission_rate=Decimal(0), mechanism=Mechanism.NONE, store_tools=store_tools)})
    return StoreSetup(
        products=(product("E", 30000, limit=limit_e), product("F", 10000, limit=2)),
        prices_fen=(30000, 10000), coupon_tiers=(), b2g1_members=frozenset({"E", "F"}),
        rules=rules,
    )


def test_a_member_that_can_never_get_a_third_unit_bears_no_free_units() -> None:
    """E (¥300, limit 1) and F (¥100, limit 2): a cart holds at most three members' units,
    E + F + F, whose free unit is an F: E bears 300/500 of ¥100, ¥60 a unit (keeps 240).
    A full third would charge ¥100 (bound 199.94); the free units are worth at most ¥100
    (the third-dearest unit available) in a sub-order of at least ¥500: bound 239.94."""
    setup = _two_members(limit_e=1)
    check = check_store(setup).products[0]
    assert check.witness_margin == 24000
    assert check.bound_fen == 23994


def test_a_members_bound_counts_the_gap_to_the_nearest_member_price() -> None:
    """E (¥300, limit 1) beside F (¥100) without a limit: E + (3k − 1)·F bears
    300·k·100/(300 + (3k − 1)·100) a unit, rising towards 100 as k grows; the bound is the
    limit, and no finite cart reaches it."""
    rules = PLAIN.model_copy(update={"platform": PlatformRules(
        commission_rate=Decimal(0), mechanism=Mechanism.NONE)})
    setup = StoreSetup(
        products=(product("E", 30000, limit=1), product("F", 10000)),
        prices_fen=(30000, 10000), coupon_tiers=(), b2g1_members=frozenset({"E", "F"}),
        rules=rules,
    )
    check = check_store(setup).products[0]
    assert check.bound_fen == 19994
    assert check.witness_margin is not None and check.witness_margin > check.bound_fen


def test_a_coupon_kept_from_other_members_is_charged_on_the_smaller_sub_order() -> None:
    """Stacked tools, I and J (¥100 each) in B2G1, the ¥50-save-¥40 coupon covering I only:
    I + J + J gives I a third of the free ¥100 and the whole ¥40 (its coupon base is I alone),
    26.67 left. The bound counts the coupon on I's ¥100, not on the ¥300 B2G1 basket."""
    rules = PLAIN.model_copy(update={"platform": PlatformRules(
        commission_rate=Decimal(0), mechanism=Mechanism.NONE, store_tools=StoreTools.STACKED)})
    setup = StoreSetup(
        products=(product("I", 10000), product("J", 10000)), prices_fen=(10000, 10000),
        coupon_tiers=(CouponTier(threshold_fen=5000, amount_fen=4000),),
        b2g1_members=frozenset({"I", "J"}), rules=rules, coupon_excluded=frozenset({"J"}),
    )
    check = check_store(setup).products[0]
    least, _ = brute_force(setup).unit["I"]
    assert least == check.witness_margin == 2667  # 100 − 33 (a third of ¥100) − 40
    assert check.bound_fen == 2660  # was 53.27: the coupon counted on the ¥300 basket
