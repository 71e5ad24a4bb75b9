"""The worst-basket checker is never beaten, and ``margin_check`` reports it faithfully.

Three kinds of evidence:

* generated catalogues and generated carts: no cart leaves a line (per unit) or an order less
  than the checker's proven bounds, and every witness cart, quoted, gives exactly the margin
  the checker reported;
* a brute force over every small cart (0–3 units of each product, and an amount bought in
  another store of the cross-store pool that lands on each of the next three multiples of the
  cross-store step) never goes below the bound, and finds nothing worse than the witness by
  more than the rounding of the splits where the witness search is exact;
* for the cases where the witness is a search, not a proof (buy-two-get-one members, products
  with a purchase limit, stores where a line can be discounted to zero), hand-made stores whose
  worst carts an earlier search missed: the witness now is the brute-force worst, and the
  bound is below it.

Where the witness search is exact: for a product that is not a buy-two-get-one member, has no
purchase limit of its own, and sits in a store where no line can be discounted to zero, the
witness is the worst cart up to the largest-remainder rounding of the splits (a line's share of
each order discount and of the commission is rounded to the fen, so a different line order or
top-up can move up to three fen a line). Outside that domain the search tries the likely worst
shapes (see :func:`pricing.verify.checker._witness_carts`) and sometimes misses the worst cart by
more; the bound, which the plan and the verdicts rest on, holds everywhere.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import buyer_carts, examples, setup_cart, store_setups

from models.cart import Cart
from models.product import Product
from models.rules import (
    CouponRules,
    CouponTier,
    Mechanism,
    PlatformRules,
    Rules,
    SignupCheck,
    StoreRules,
    StoreTools,
)
from pricing.engine.stacking import quote
from pricing.errors import InputError
from pricing.formats.carts import cart_from_json, cart_to_json, load_cart
from pricing.optimize.candidates import build_candidates
from pricing.verify.checker import STORE, StoreSetup, cart_margins, check_store
from pricing.verify.margin_check import (
    discount_prices_fen,
    discounted_price_fen,
    margin_check,
    margin_check_to_json,
    parse_coupon_tiers,
    parse_discount,
    witness_file_name,
    write_witnesses,
)

# --- helpers ----------------------------------------------------------------------------------


def unit_margin_of(
    cart: Cart, costs_fen: Mapping[str, int], rules: Rules, sku: str
) -> Fraction:
    """The margin per unit of ``sku`` (the first line of it in the store) in ``cart``."""
    result = quote(cart)
    margins, _ = cart_margins(cart, result, costs_fen, rules)
    for line, margin in zip(cart.lines, margins, strict=True):
        if line.sku == sku and margin is not None:
            return Fraction(margin, line.quantity)
    raise ValueError(f"{sku} is not in the cart")


def costs_of(setup: StoreSetup) -> dict[str, int]:
    return {p.sku: p.unit_cost_fen for p in setup.products}


@dataclass(frozen=True)
class BruteForce:
    """The least unit margin of each product, and the least order margin, over small carts."""

    unit: dict[str, tuple[Fraction, Cart]]
    order: tuple[int, Cart]


def brute_force(setup: StoreSetup, max_units: int = 3) -> BruteForce:
    """Quote every cart with 0–``max_units`` units of each product (within its purchase
    limit), each with no top-up and with the top-ups that bring the cross-store eligible
    amount to the next three multiples of the step."""
    rules = setup.rules
    costs = costs_of(setup)
    every = rules.platform.cross_store_every_fen
    pooled = rules.platform.mechanism is Mechanism.CROSS_STORE
    ranges = [range(min(max_units, p.purchase_limit or max_units) + 1) for p in setup.products]
    unit: dict[str, tuple[Fraction, Cart]] = {}
    order: tuple[int, Cart] | None = None
    for quantities in itertools.product(*ranges):
        subtotal = sum(q * p for q, p in zip(quantities, setup.prices_fen, strict=True))
        if not any(quantities):
            continue
        first = (-subtotal) % every
        top_ups = [0, *(first + k * every for k in range(3) if first + k * every)] if pooled \
            else [0]
        for top_up in top_ups:
            cart = setup_cart(setup, quantities, top_up)
            assert cart is not None
            margins, order_margin = cart_margins(cart, quote(cart), costs, rules)
            for cart_line, margin in zip(cart.lines, margins, strict=True):
                if margin is None:
                    continue
                per_unit = Fraction(margin, cart_line.quantity)
                if cart_line.sku not in unit or per_unit < unit[cart_line.sku][0]:
                    unit[cart_line.sku] = (per_unit, cart)
            if order is None or order_margin < order[0]:
                order = (order_margin, cart)
    assert order is not None
    return BruteForce(unit=unit, order=order)


def units_in_store(cart: Cart, sku: str) -> int:
    return sum(x.quantity for x in cart.lines if x.sku == sku and x.store == STORE)


# --- the checker is never beaten by generated carts -------------------------------------------

CARTS_PER_SETUP = 8


@settings(max_examples=examples(1.0))
@given(store_setups(max_products=5), st.data())
def test_no_generated_cart_beats_the_checkers_bounds(
    setup: StoreSetup, data: st.DataObject
) -> None:
    """GIVEN a catalogue at generated prices, coupon tiers, B2G1 members and rules WHEN a buyer
    builds any cart (quantities within limits, lines in any order, any top-up in another store)
    THEN no line keeps less per unit than its product's bound, and no order less than the
    order bound."""
    report = check_store(setup)
    bounds = {check.sku: check.bound_fen for check in report.products}
    costs = costs_of(setup)
    for _ in range(CARTS_PER_SETUP):
        cart = data.draw(buyer_carts(setup))
        margins, order_margin = cart_margins(cart, quote(cart), costs, setup.rules)
        for cart_line, margin in zip(cart.lines, margins, strict=True):
            if margin is not None:
                assert Fraction(margin, cart_line.quantity) >= bounds[cart_line.sku], cart_line
        if report.order_bound_fen is not None:
            assert order_margin >= report.order_bound_fen


@settings(max_examples=examples(1.0))
@given(store_setups(max_products=5))
def test_every_witness_is_a_real_cart_that_reproduces_its_margin(setup: StoreSetup) -> None:
    """Each witness, quoted, gives exactly the reported margin; it respects purchase limits,
    offers only what the store offers, and survives the public cart format unchanged."""
    report = check_store(setup)
    costs = costs_of(setup)
    prices = dict(zip((p.sku for p in setup.products), setup.prices_fen, strict=True))
    limits = {p.sku: p.purchase_limit for p in setup.products}
    for check in report.products:
        assert check.witness is not None and check.witness_margin is not None
        witness = check.witness
        assert witness.lines[0].sku == check.sku
        assert unit_margin_of(witness, costs, setup.rules, check.sku) == check.witness_margin
        assert check.witness_margin >= check.bound_fen
        assert witness.stores[STORE] == setup.offer()
        for cart_line in witness.lines:
            if cart_line.store == STORE:
                assert cart_line.unit_price_fen == prices[cart_line.sku]
                limit = limits[cart_line.sku]
                assert limit is None or units_in_store(witness, cart_line.sku) <= limit
        assert cart_from_json(json.loads(json.dumps(cart_to_json(witness)))) == witness
    assert report.worst_order_witness is not None
    _, order_margin = cart_margins(
        report.worst_order_witness, quote(report.worst_order_witness), costs, setup.rules
    )
    assert order_margin == report.worst_order_margin_fen


# --- brute force on tiny catalogues -----------------------------------------------------------


SPLIT_ROUNDING_FEN = 3


def _exact_witness_domain(setup: StoreSetup, product: Product, cap_possible: bool) -> bool:
    """Where the witness search finds the worst cart (see the module docstring)."""
    return (
        product.sku not in setup.b2g1_members
        and product.purchase_limit is None
        and not cap_possible
    )


def _check_against_brute_force(setup: StoreSetup) -> None:
    report = check_store(setup)
    brute = brute_force(setup)
    for product, check in zip(setup.products, report.products, strict=True):
        least, cart = brute.unit[check.sku]
        assert least >= check.bound_fen, (check.sku, cart)
        assert check.witness_margin is not None
        if _exact_witness_domain(setup, product, check.cap_possible):
            # The witness may hold more than three units (then it can be worse than anything
            # the brute force tries); it is never better than the brute force by more than the
            # rounding of the splits.
            assert check.witness_margin <= least + SPLIT_ROUNDING_FEN, (check.sku, cart)
    if report.order_bound_fen is not None:
        assert brute.order[0] >= report.order_bound_fen, brute.order[1]


def _exclusive_coupon_setup(
    list_prices: tuple[int, int, int], prices: tuple[int, int, int], threshold_fen: int
) -> StoreSetup:
    """P1 outside buy-two-get-one, P2 eligible, P3 in it; exclusive store tools, cross-store
    pooling, one coupon of ¥1 off at ``threshold_fen``, no costs."""
    def item(sku: str, list_price: int, member: bool) -> Product:
        return Product(sku=sku, item_id=sku, title=f"product {sku}", list_price_fen=list_price,
                       lowest_price_fen=list_price * 7 // 10, unit_cost_fen=0, stock=0,
                       base_units=0.0, b2g1_eligible=member)

    tier = CouponTier(threshold_fen=threshold_fen, amount_fen=100)
    rules = Rules(
        platform=PlatformRules(commission_rate=Decimal(0), min_discount=Decimal(0),
                               official_rate=Decimal(0), mechanism=Mechanism.CROSS_STORE,
                               store_tools=StoreTools.EXCLUSIVE),
        store=StoreRules(shipping_cost_fen=0, handling_cost_fen=0, margin_floor_rate=Decimal(0)),
        coupons=CouponRules(candidates=(tier,)),
    )
    return StoreSetup(
        products=tuple(item(sku, price, member) for sku, price, member in
                       zip(("P1", "P2", "P3"), list_prices, (False, True, True), strict=True)),
        prices_fen=prices, coupon_tiers=(tier,), b2g1_members=frozenset({"P3"}), rules=rules,
    )


def _member_in_the_coupon_filler_setup() -> StoreSetup:
    """P1 ¥388.68, P2 ¥251, P3 ¥78.33 in buy-two-get-one, a 662−1 coupon: P1's worst cart
    reaches the coupon with P2 and one unit of P3 (one member unit does not fire the offer), a
    smaller subtotal than P1 + P1 or P1 + 2 × P2."""
    return _exclusive_coupon_setup((85900, 25100, 23500), (38868, 25100, 7833), 66200)


def _one_member_unit_tops_up_the_coupon_setup() -> StoreSetup:
    """P1 ¥126.33, P2 ¥251, P3 ¥0.33 in buy-two-get-one, a 630−1 coupon: P2 + 3 × P1 is
    ¥629.99, one fen short; one unit of P3 (which does not fire the offer) tops it up, a
    smaller subtotal than 3 × P2."""
    return _exclusive_coupon_setup((12700, 25100, 100), (12633, 25100, 33), 63000)


@settings(max_examples=examples(0.5))
@given(store_setups(max_products=3))
@example(setup=_member_in_the_coupon_filler_setup())
@example(setup=_one_member_unit_tops_up_the_coupon_setup())
def test_brute_force_over_small_carts_agrees_with_the_checker(setup: StoreSetup) -> None:
    """GIVEN a tiny catalogue WHEN every cart of up to three units per product is quoted THEN
    none goes below the checker's bounds, and where the witness search is exact the witness
    is the brute-force worst, up to the rounding of the splits."""
    _check_against_brute_force(setup)


@pytest.mark.slow
@settings(max_examples=examples(3.0))
@given(store_setups(min_products=3, max_products=4))
def test_brute_force_agrees_with_the_checker_on_four_products(setup: StoreSetup) -> None:
    _check_against_brute_force(setup)


# --- worst carts that need a wider search, by example ---------------------------------------

PLAIN = Rules(
    platform=PlatformRules(commission_rate=Decimal(0), mechanism=Mechanism.NONE),
    store=StoreRules(shipping_cost_fen=0, handling_cost_fen=0),
    coupons=CouponRules(candidates=()),
)


def product(sku: str, price: int, cost: int = 0, limit: int | None = None) -> Product:
    return Product(sku=sku, title=sku, list_price_fen=price, lowest_price_fen=price,
                   unit_cost_fen=cost, stock=100, base_units=10.0, purchase_limit=limit)


def own_limit_setup() -> StoreSetup:
    """A (¥60, limit 1) reaches the ¥100-save-¥20 coupon only with B (¥100): A + B."""
    return StoreSetup(
        products=(product("A", 6000, limit=1), product("B", 10000)),
        prices_fen=(6000, 10000),
        coupon_tiers=(CouponTier(threshold_fen=10000, amount_fen=2000),),
        b2g1_members=frozenset(), rules=PLAIN,
    )


def b2g1_partner_setup() -> StoreSetup:
    """E (¥300, limit 2) and F (¥100) both in buy-two-get-one."""
    return StoreSetup(
        products=(product("E", 30000, limit=2), product("F", 10000)),
        prices_fen=(30000, 10000), coupon_tiers=(), b2g1_members=frozenset({"E", "F"}),
        rules=PLAIN,
    )


def cap_overflow_setup() -> StoreSetup:
    """Every ¥100 save ¥70 with B2G1 on M: M's line is cut at zero and N bears the rest."""
    rules = PLAIN.model_copy(update={"platform": PlatformRules(
        commission_rate=Decimal(0), mechanism=Mechanism.CROSS_STORE,
        cross_store_every_fen=10000, cross_store_save_fen=7000,
    )})
    return StoreSetup(
        products=(product("N", 10000, cost=2500), product("M", 10000)),
        prices_fen=(10000, 10000), coupon_tiers=(), b2g1_members=frozenset({"M"}), rules=rules,
    )


def test_a_limited_product_is_witnessed_with_another_product_reaching_the_coupon() -> None:
    """A (¥60, limit 1) reaches the ¥100-save-¥20 coupon only with B (¥100): the witness is
    A + B, the ¥20 split 60 : 100 takes 7.50 from A (52.50), as the brute force finds. The bound
    assumes the ¥120 basket A + A (49.94), which the limit rules out: sound, cautious."""
    setup = own_limit_setup()
    check = check_store(setup).products[0]
    least, worst = brute_force(setup).unit["A"]
    assert (check.witness_margin, least, check.bound_fen) == (Fraction(5250), Fraction(5250),
                                                             4994)
    assert check.witness is not None
    assert [(x.sku, x.quantity) for x in check.witness.lines] == [("A", 1), ("B", 1)]
    assert [(x.sku, x.quantity) for x in worst.lines] == [("A", 1), ("B", 1)]


def test_buy_two_get_one_with_cheaper_partners_is_witnessed_with_one_own_unit() -> None:
    """E (¥300, limit 2) and F (¥100) in buy-two-get-one: E, E, F splits the free ¥100 600 : 100
    (E keeps 257.145 a unit); E with two F's gives E 300/500 of it, 240.00 a unit, the worst
    cart of up to three units a product. More F's make it worse: E with 3k − 1 F's bears
    300·k/(3k + 2) of the free units, 85.71 a unit with eleven F's (214.29), and the witness
    search, which walks up to twelve units a product, finds that cart. The bound charges E a
    full third of its price (199.94), the limit of that family of carts."""
    setup = b2g1_partner_setup()
    check = check_store(setup).products[0]
    least, worst = brute_force(setup).unit["E"]
    assert (least, check.bound_fen) == (Fraction(24000), 19994)
    assert [(x.sku, x.quantity) for x in worst.lines] == [("E", 1), ("F", 2)]
    assert check.witness is not None and check.witness_margin == Fraction(21429)
    assert [(x.sku, x.quantity) for x in check.witness.lines] == [("E", 1), ("F", 11)]


def test_a_line_cut_to_zero_passes_its_overflow_on_and_the_witness_shows_the_loss() -> None:
    """N + 3 × M: M's line loses a free unit (B2G1) and then its 7/10 cross-store share would
    take it below zero; what M cannot take falls on N, which then sells at −5.00, the worst cart
    of up to three units a product. With nine M's (three free) the overflow takes all of N's
    line: N receives nothing (−25.00), the witness the search walks to. The bound (only
    receives ≥ 0 is certain: −25.06) is below it, and `check` reports N as losing."""
    setup = cap_overflow_setup()
    report = check_store(setup)
    check = report.products[0]
    least, worst = brute_force(setup).unit["N"]
    assert check.cap_possible
    assert (check.witness_margin, least, check.bound_fen) == (Fraction(-2500), Fraction(-500),
                                                             -2506)
    assert check.witness is not None
    assert [(x.sku, x.quantity) for x in check.witness.lines if x.store == STORE] == [
        ("N", 1), ("M", 9)
    ]
    assert [(x.sku, x.quantity) for x in worst.lines] == [("N", 1), ("M", 3)]
    result = margin_check(setup.products, setup.rules, {"N": 10000, "M": 10000}, (), {"M"})
    assert result.products[0].loses and not result.passes


@pytest.mark.parametrize("build", [own_limit_setup, b2g1_partner_setup, cap_overflow_setup])
def test_the_witness_is_at_least_as_bad_as_the_brute_force_worst_in_these_stores(
    build: object,
) -> None:
    """The brute force stops at three units a product; the witness search may go further."""
    assert callable(build)
    setup = build()
    report = check_store(setup)
    brute = brute_force(setup)
    for check in report.products:
        assert check.witness_margin is not None
        assert check.bound_fen <= check.witness_margin <= brute.unit[check.sku][0]


# --- margin_check: pricing, assumptions, verdicts ---------------------------------------------

RULES = Rules(
    platform=PlatformRules(commission_rate=Decimal("0.05"), mechanism=Mechanism.CROSS_STORE,
                           cross_store_every_fen=30000, cross_store_save_fen=5000),
    store=StoreRules(shipping_cost_fen=800, handling_cost_fen=150),
)


def catalogue() -> tuple[Product, ...]:
    """A model-car store: a fat-margin 1:18 car, a thin-margin 1:64 car, a display case."""
    return (
        Product(sku="M18-911", title="1:18 保时捷911", list_price_fen=89900,
                lowest_price_fen=89900, unit_cost_fen=30000, stock=100, base_units=50,
                purchase_limit=2),
        Product(sku="M64-G63", title="1:64 奔驰G63", list_price_fen=6900,
                lowest_price_fen=6900, unit_cost_fen=2500, stock=500, base_units=200),
        Product(sku="ACC-CASE", title="亚克力展示盒", list_price_fen=12900,
                lowest_price_fen=11900, unit_cost_fen=4000, stock=300, base_units=80,
                b2g1_eligible=False),
    )


@pytest.mark.parametrize(
    ("list_price", "discount", "expected"),
    [(89900, "0.5", 44950), (1999, "0.5", 1000), (1, "0.5", 1), (6900, "0.25", 5175),
     (12345, "0", 12345), (999, "0.333", 666)],
)
def test_discounted_price_is_list_times_one_minus_discount_half_up(
    list_price: int, discount: str, expected: int
) -> None:
    assert discounted_price_fen(list_price, Decimal(discount)) == expected


def test_parse_discount_accepts_shares_and_percentages_and_refuses_the_rest() -> None:
    assert parse_discount("0.5") == Decimal("0.5")
    assert parse_discount(" 30% ") == Decimal("0.3")
    for bad in ("1", "-0.1", "abc", "150%", "nan", ""):
        with pytest.raises(InputError, match="expected a discount"):
            parse_discount(bad)


def test_parse_coupon_tiers_reads_the_merchandisers_notation() -> None:
    tiers = parse_coupon_tiers("599-50, 0-5,299-20")
    assert [tier.label for tier in tiers] == ["0-5", "299-20", "599-50"]
    assert parse_coupon_tiers("满299减20,满599.5减50") == (
        CouponTier(threshold_fen=29900, amount_fen=2000),
        CouponTier(threshold_fen=59950, amount_fen=5000),
    )


def test_parse_coupon_tiers_reports_every_bad_tier_at_once() -> None:
    with pytest.raises(InputError) as caught:
        parse_coupon_tiers("299-20,abc,100-100,99.999-5,299-30")
    messages = [problem.message for problem in caught.value.problems]
    assert len(messages) == 4
    assert "tier 2: expected threshold-amount" in messages[0]
    assert "tier 3: a coupon must save less than its threshold" in messages[1]
    assert "finer than a fen" in messages[2]
    assert "tier 5: two tiers share a threshold" in messages[3]


def test_margin_check_at_half_price_finds_the_thin_margin_car_losing() -> None:
    products = catalogue()
    prices = discount_prices_fen(products, Decimal("0.5"))
    result = margin_check(products, RULES, prices, RULES.coupons.candidates, frozenset())
    rows = {row.sku: row for row in result.products}
    assert rows["M64-G63"].loses and not rows["M64-G63"].proven_safe
    assert not rows["M18-911"].loses and rows["M18-911"].proven_safe
    assert result.losers[0].sku == "M64-G63"
    assert not result.passes
    for row in result.products:
        assert row.activity_price_fen == prices[row.sku] and row.joins
        assert row.witness is not None and row.witness_margin is not None
        assert row.worst_unit_margin_fen == row.witness_margin.__floor__()
        assert row.loses == (row.witness_margin < 0)
        assert row.worst_unit_margin_fen >= row.proven_bound_fen
        # The witness, quoted, gives the reported margin.
        costs = {p.sku: p.unit_cost_fen for p in products}
        assert unit_margin_of(row.witness, costs, RULES, row.sku) == row.witness_margin
    # Half price is 50% off, deep enough; the case's lowest price 119 is above 64.50.
    assert all(row.meets_signup for row in result.products)


def test_more_coupon_tiers_never_make_the_worst_cart_better() -> None:
    """The buyer takes the best coupon the cart reaches, so offering every candidate (the
    default of `check --discount`) is the worst case of any subset."""
    products = catalogue()
    prices = discount_prices_fen(products, Decimal("0.3"))
    every = margin_check(products, RULES, prices, RULES.coupons.candidates, frozenset())
    for size in range(len(RULES.coupons.candidates)):
        for subset in itertools.combinations(RULES.coupons.candidates, size):
            fewer = margin_check(products, RULES, prices, subset, frozenset())
            for worst, better in zip(every.products, fewer.products, strict=True):
                assert worst.proven_bound_fen <= better.proven_bound_fen
                assert worst.witness_margin is not None and better.witness_margin is not None
                assert worst.witness_margin <= better.witness_margin + 1


def test_products_outside_the_prices_stay_at_list_price_and_do_not_sign_up() -> None:
    products = catalogue()
    result = margin_check(products, RULES, {"M18-911": 62900}, (), frozenset())
    rows = {row.sku: row for row in result.products}
    assert rows["M18-911"].joins and rows["M18-911"].activity_price_fen == 62900
    assert rows["M18-911"].meets_signup is True
    assert not rows["ACC-CASE"].joins and rows["ACC-CASE"].activity_price_fen == 12900
    assert rows["ACC-CASE"].meets_signup is None
    # Not joining does not spare a product the cross-store reduction: the witness takes it.
    witness = rows["ACC-CASE"].witness
    assert witness is not None and quote(witness).lines[0].cross_store_discount_fen > 0


def test_signup_uses_the_price_after_the_pro_rated_cross_store_reduction() -> None:
    """¥200 with every 300 save 30 counts as ¥180: it signs up under a lowest price of 180,
    not of 179.99."""
    rules = Rules(platform=PlatformRules(cross_store_every_fen=30000, cross_store_save_fen=3000,
                                         signup_check=SignupCheck.PRO_RATED))
    def verdict(lowest: int) -> bool | None:
        item = Product(sku="X", list_price_fen=30000, lowest_price_fen=lowest,
                       unit_cost_fen=5000, stock=1, base_units=1)
        return margin_check((item,), rules, {"X": 20000}, (), ()).products[0].meets_signup
    assert verdict(18000) is True
    assert verdict(17999) is False


def test_margin_check_refuses_unknown_skus_and_prices_below_a_fen() -> None:
    with pytest.raises(InputError) as caught:
        margin_check(catalogue(), RULES, {"NOPE": 100, "M18-911": 0}, (), {"GHOST"},
                     source="plan.json")
    rendered = str(caught.value)
    assert "NOPE" in rendered and "GHOST" in rendered and "at least 0.01" in rendered
    assert "plan.json" in rendered


def test_margin_check_json_has_the_public_fields() -> None:
    products = catalogue()
    prices = discount_prices_fen(products, Decimal("0.5"))
    result = margin_check(products, RULES, prices, RULES.coupons.candidates, {"M64-G63"})
    data = json.loads(json.dumps(margin_check_to_json(result)))
    assert set(data) >= {"products", "worst_order_margin", "passes", "notes"}
    assert data["passes"] is False and data["loses"] is True
    row = next(r for r in data["products"] if r["sku"] == "M64-G63")
    assert set(row) >= {"sku", "activity_price", "worst_unit_margin", "proven_bound", "loses",
                        "meets_signup", "witness"}
    assert row["activity_price"] == "34.50" and row["loses"] is True
    assert cart_from_json(row["witness"]) is not None
    assert data["b2g1_members"] == ["M64-G63"]
    assert any("buy two get one: 1 product" in note for note in data["notes"])


def test_witness_files_are_carts_quote_reads_and_reproduce_the_loss(tmp_path: Path) -> None:
    products = catalogue()
    prices = discount_prices_fen(products, Decimal("0.5"))
    result = margin_check(products, RULES, prices, RULES.coupons.candidates, frozenset())
    written = write_witnesses(result, tmp_path / "witnesses")
    assert [path.name for path in written] == [
        witness_file_name(row.sku) for row in result.losers
    ]
    costs = {p.sku: p.unit_cost_fen for p in products}
    for path, row in zip(written, result.losers, strict=True):
        cart = load_cart(path)
        assert unit_margin_of(cart, costs, RULES, row.sku) == row.witness_margin
    assert not list((tmp_path / "witnesses").glob(".*"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("sku", "name"),
    [("M18-911", "M18-911.json"), ("a/b\\c", "a_b_c.json"), ("款式 1", "款式_1.json"),
     ("..", "product.json")],
)
def test_witness_file_names_are_safe(sku: str, name: str) -> None:
    assert witness_file_name(sku) == name


def _setups_for(products: Sequence[Product]) -> StoreSetup:
    return StoreSetup(products=tuple(products), prices_fen=tuple(p.list_price_fen
                      for p in products), coupon_tiers=(), b2g1_members=frozenset(),
                      rules=RULES)


def test_a_catalogue_at_everyday_prices_without_coupons_is_proven_safe() -> None:
    products = catalogue()
    result = margin_check(products, RULES, {}, (), frozenset())
    assert result.passes and not result.losers and not result.unproven
    assert check_store(_setups_for(products)).passes


# --- exclusive store tools: the larger of the two, not the sum ---------------------------------


def _b2g1_and_coupon_rules(store_tools: StoreTools) -> Rules:
    return Rules(
        platform=PlatformRules(mechanism=Mechanism.NONE, commission_rate=Decimal("0.05"),
                               store_tools=store_tools),
        store=StoreRules(shipping_cost_fen=0, handling_cost_fen=0),
        coupons=CouponRules(candidates=(CouponTier(threshold_fen=0, amount_fen=2_000),)),
    )


@pytest.mark.parametrize("store_tools", list(StoreTools))
def test_optimizer_takes_the_larger_store_tool_under_exclusive_and_the_sum_under_stacked(
    store_tools: StoreTools,
) -> None:
    """GIVEN a ¥100 product costing ¥42 at 7.5折 (¥75) in buy-two-get-one, with a ¥20
    no-threshold coupon WHEN the optimizer marks which tiers are unsafe THEN under exclusive
    the coupon is safe with B2G1 (a line bears its ¥25 share of B2G1 or the ¥20 coupon, never
    both: the larger leaves 0.95 × 50 − 42 = ¥5.50) and under stacked it is not; the checker
    and a brute force over every cart of up to six units agree: stacked, three units pay
    225 − 75 − 20 = ¥130, ¥43.33 a unit, 0.95 × 43.33 − 42 < 0."""
    product = Product(sku="P", list_price_fen=10_000, lowest_price_fen=10_000,
                      unit_cost_fen=4_200, stock=100, base_units=10, b2g1_eligible=True)
    rules = _b2g1_and_coupon_rules(store_tools)
    table = build_candidates((product,), rules)
    row = next(r for r, level in enumerate(table.levels)
               if level == Decimal("0.75") and table.row_b2g1[r])
    exclusive = store_tools is StoreTools.EXCLUSIVE
    assert bool(table.unsafe[0, row] & 1) is not exclusive
    setup = StoreSetup(products=(product,), prices_fen=(7_500,),
                       coupon_tiers=rules.coupons.candidates, b2g1_members=frozenset({"P"}),
                       rules=rules)
    assert check_store(setup).passes is exclusive
    worst = brute_force(setup, max_units=6).unit["P"][0]
    assert (worst >= 0) is exclusive


@pytest.mark.slow
def test_the_witness_search_misses_b2g1_members_and_limited_products_rarely() -> None:
    """GIVEN 500 seeded stores of 3–4 products (B2G1 in most, purchase limits on many)
    WHEN each product's witness is compared with the brute-force worst cart
    THEN it misses B2G1 members and limited products about as often as the rest (the README
    states the measured rates; ``python tests/witness_miss.py N`` prints them)."""
    from witness_miss import measure

    measured = measure(500)
    print(measured.render())
    assert measured.rate("b2g1") <= 0.012 and measured.rate("limited") <= 0.012
    assert measured.rate("b2g1") <= measured.rate("other") + 0.003
    assert measured.rate("limited") <= measured.rate("other") + 0.003


@given(
    kinds=st.lists(st.tuples(st.sampled_from([0, 100, 250, 999, 1_500]),
                             st.sampled_from([None, 2]), st.booleans()), min_size=2, max_size=8),
    store_tools=st.sampled_from(list(StoreTools)),
    held=st.dictionaries(st.integers(0, 7), st.integers(1, 3), max_size=3),
    missing=st.integers(1, 6_000),
)
# The cart holds the first product of a kind, which has no room left; the next one has.
@example(kinds=[(100, 2, True)] * 3 + [(90, None, False)], store_tools=StoreTools.EXCLUSIVE,
         held={0: 1}, missing=200)
def test_fillers_from_one_product_of_each_kind_are_the_whole_catalogues(
    kinds: list[tuple[int, int | None, bool]], store_tools: StoreTools, held: dict[int, int],
    missing: int,
) -> None:
    """The witness search fills a cart up to a threshold with the fewest units of one product;
    it looks at the first product of each kind (price, limit, buy-two-get-one) only. Against the
    search over every product, on stores with many products of a kind and carts holding some."""
    from pricing.engine.bounds import coupon_stacks_with_offer
    from pricing.verify.checker import (
        _fillers,
        _fillers_of_every_product,
        _greedy_filler,
        _merged,
        _StoreArrays,
        _within_limits,
    )

    products = tuple(
        Product(sku=f"P{i}", title=f"P{i}", list_price_fen=max(price, 1),
                lowest_price_fen=max(price, 1), unit_cost_fen=0, stock=10, base_units=1.0,
                purchase_limit=limit)
        for i, (price, limit, _) in enumerate(kinds)
    )
    rules = Rules(platform=PlatformRules(store_tools=store_tools))
    setup = StoreSetup(
        products=products, prices_fen=tuple(price for price, _, _ in kinds), coupon_tiers=(),
        b2g1_members=frozenset(f"P{i}" for i, (_, _, member) in enumerate(kinds) if member),
        rules=rules,
    )
    arrays = _StoreArrays(setup)
    held = {i: q for i, q in held.items() if i < len(kinds)}
    expected: list[dict[int, int]] = []
    greedy = _greedy_filler(arrays, missing)
    if greedy is not None:
        expected.append(greedy)
    outside = bool(arrays.in_b2g1.any()) and not coupon_stacks_with_offer(rules)
    if not (expected and _within_limits(arrays, _merged(held, expected[0])) and not outside):
        expected = _fillers_of_every_product(arrays, held, missing, outside, expected)
    assert _fillers(arrays, None, held, missing) == expected
