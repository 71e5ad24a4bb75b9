"""The platform's rules since 2026-03-10: exclusive store tools, N-pieces offers, item and super
instant discounts, the official discount's rounding, to the fen, under both settings.

Every published example of DOMAIN.md ("The rules in force since 10 March 2026") is a cart file
in ``tests/data/carts/2026_*.json`` (the exclusive setting, the default); the legacy numbers are
the same carts quoted with ``store_tools = "stacked"``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given
from strategies import carts
from typer.testing import CliRunner

import cli
from models.cart import (
    B2G1Activity,
    Cart,
    CartLine,
    CartQuote,
    CrossStore,
    SpendSaveActivity,
    StoreOffer,
)
from models.money import (
    official_discount_unit_fen,
    super_instant_unit_fen,
    times_rate_fen,
)
from models.product import Product
from models.rules import CouponTier, OfficialRounding, PlatformRules, Rules, StoreTools
from pricing.engine.stacking import best_tier_reached, quote
from pricing.errors import CartError
from pricing.formats.carts import cart_from_json, cart_to_json, load_cart
from pricing.formats.products import load_products
from pricing.optimize.candidates import build_candidates
from pricing.verify.margin_check import margin_check

CARTS = Path(__file__).parent / "data" / "carts"
runner = CliRunner()

# cart file → (buyer pays under exclusive, under stacked), in fen. Worked from DOMAIN.md:
PUBLISHED: dict[str, tuple[int, int]] = {
    # ¥100 × 2, 满2件9折 and a 满200减10 coupon: after the change the 9折 (¥20) beats the coupon
    # (¥10): ¥180; before it both: 200 × 0.9 − 10 = ¥170.
    "2026_pieces_discount_vs_coupon.json": (18000, 17000),
    # ¥100 × 3, 满2件减20 and 满300减10: after ¥280, before ¥270.
    "2026_pieces_save_vs_coupon.json": (28000, 27000),
    # A ¥100 takes its 满100减20 item coupon (80); B, C, D take 满3件9折 (9, 18, 27): ¥134.
    # Stacked (every line in the offer): 160 − 16 − 20 = ¥124.
    "2026_lines_take_different_tools.json": (13400, 12400),
    # 满2件96折 and 满80减6 with 单品立减 0.10 / 1.00 / 3.60 per unit: thresholds and the 96折 on
    # the amount before the instant discount. Stacked ¥40 × 2: 80 − 3.20 − 6 − 7.20 = 63.60.
    "2026_item_instant_10x1.json": (990, 990),
    "2026_item_instant_20x1.json": (1900, 1900),
    "2026_item_instant_40x1.json": (3640, 3640),
    "2026_item_instant_10x2.json": (1900, 1900),
    "2026_item_instant_20x2.json": (3640, 3640),
    "2026_item_instant_40x2.json": (6680, 6360),
    # A 618 order: list ¥199, 官方立减 8.5折 (29.85 → ¥30 up to the yuan), item coupon 满199减60
    # checked on ¥199: ¥109.
    "2026_official_yuan_up.json": (10900, 10900),
    # 超级立减 10%: 288 → 29 (259.00), 211.99 → 22 (189.99), 28.10 → 2.90 (25.20); 15% of 9.99
    # half up to the fen → 1.50 (8.49); the merchant's own ¥7.77 on ¥50 (42.23).
    "2026_super_instant.json": (52491, 52491),
}


def _with(cart: Cart, **settings: object) -> Cart:
    return Cart.model_validate({**cart.model_dump(), **settings})


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_example_is_quoted_to_the_fen_under_both_settings(name: str) -> None:
    cart = load_cart(CARTS / name)
    exclusive, stacked = PUBLISHED[name]
    assert cart.store_tools is StoreTools.EXCLUSIVE  # the default of the cart format
    assert quote(cart).paid_fen == exclusive
    assert quote(_with(cart, store_tools=StoreTools.STACKED)).paid_fen == stacked


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_price_opt_quote_reproduces_the_published_example(name: str) -> None:
    result = runner.invoke(cli.app, ["quote", str(CARTS / name), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    exclusive, _ = PUBLISHED[name]
    assert data["paid"] == f"{exclusive / 100:.2f}"
    assert all("instant_discount" in line for line in data["lines"])


def test_mixed_assignment_puts_each_line_on_one_tool() -> None:
    result = quote(load_cart(CARTS / "2026_lines_take_different_tools.json"))
    by_sku = {line.sku: line for line in result.lines}
    assert by_sku["A"].coupon_discount_fen == 2000 and by_sku["A"].activity_discount_fen == 0
    assert [by_sku[s].activity_discount_fen for s in "BCD"] == [100, 200, 300]
    assert all(by_sku[s].coupon_discount_fen == 0 for s in "BCD")


def test_item_instant_is_taken_per_unit_after_the_thresholds() -> None:
    line = quote(load_cart(CARTS / "2026_item_instant_40x2.json")).lines[0]
    assert (line.instant_discount_fen, line.coupon_discount_fen, line.activity_discount_fen) == (
        720, 600, 0
    )


def test_official_rounding_fen_is_the_older_half_up_rule() -> None:
    cart = load_cart(CARTS / "2026_official_yuan_up.json")
    legacy = quote(_with(cart, official_rounding=OfficialRounding.FEN))
    assert legacy.lines[0].official_discount_fen == 2985
    assert legacy.paid_fen == 10915


@pytest.mark.parametrize(
    ("price", "rate", "yuan_up", "expected"),
    [
        (19900, "0.15", True, 3000),  # 29.85 → 30 (the 618 order)
        (19900, "0.15", False, 2985),
        (10000, "0.15", True, 1500),  # exactly ¥100: whole yuan already
        (10001, "0.15", True, 1600),  # 15.0015 → 16
        (9999, "0.15", True, 1500),  # below ¥100: up to the fen, 14.9985 → 15.00
        (9990, "0.15", True, 1499),  # 14.985 → 14.99
        (9990, "0.15", False, 1499),  # half up: 14.985 → 14.99
    ],
)
def test_official_discount_rounding(price: int, rate: str, yuan_up: bool, expected: int) -> None:
    assert official_discount_unit_fen(price, Decimal(rate), yuan_up) == expected


@pytest.mark.parametrize(
    ("price", "rate", "expected"),
    [
        (28800, "0.10", 2900),  # > ¥100: up to the yuan
        (21199, "0.10", 2200),
        (10000, "0.10", 1000),  # exactly ¥100 is the 0.1-yuan band: 10.00
        (2810, "0.10", 290),  # ¥10 < p ≤ ¥100: up to 0.1 yuan
        (1001, "0.10", 110),  # 1.001 → 1.10
        (1000, "0.15", 150),  # ≤ ¥10: half up to the fen
        (999, "0.15", 150),  # 1.4985 → 1.50
        (333, "0.15", 50),  # 0.4995 → 0.50
    ],
)
def test_super_instant_rounds_up_by_price_band(price: int, rate: str, expected: int) -> None:
    assert super_instant_unit_fen(price, Decimal(rate)) == expected


def test_pieces_discount_rounds_half_up_on_the_order_amount() -> None:
    # 3 × 33.33 = 99.99 at 9折: 9.999 off → 10.00 (not 3 × 3.333 → 3 × 3.33).
    cart = cart_from_json({
        "stores": {"S": {"activity": {"kind": "pieces_discount",
                                      "tiers": [{"pieces": 2, "rate": "0.90"}]}}},
        "lines": [{"sku": "A", "store": "S", "unit_price": "33.33", "quantity": 3}],
    })
    assert quote(cart).lines[0].activity_discount_fen == times_rate_fen(9999, Decimal("0.10"))
    assert quote(cart).paid_fen == 8999


def test_super_instant_beside_cross_store_or_official_is_an_error_naming_the_store() -> None:
    result = runner.invoke(
        cli.app, ["quote", str(CARTS / "bad_super_instant_with_cross_store.json")]
    )
    assert result.exit_code == 1
    assert "store S" in result.output and "super_instant" in result.output
    with pytest.raises(CartError, match="store T"):
        cart_from_json({
            "stores": {"T": {"official_rate": "0.15"}},
            "lines": [{"sku": "A", "store": "T", "unit_price": "50.00", "quantity": 1,
                       "super_instant": {"amount": "5.00"}}],
        })


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("store_tools", "both", "expected one of"),
        ("official_rounding", "up", "expected one of"),
    ],
)
def test_bad_settings_in_a_cart_are_named(field: str, value: str, message: str) -> None:
    with pytest.raises(CartError) as caught:
        cart_from_json({
            field: value, "stores": {"S": {}},
            "lines": [{"sku": "A", "store": "S", "unit_price": "1.00", "quantity": 1}],
        })
    assert field in str(caught.value) and message in str(caught.value)


def test_bad_new_fields_are_all_reported_at_once() -> None:
    with pytest.raises(CartError) as caught:
        cart_from_json({
            "stores": {"S": {"activity": {"kind": "pieces_discount",
                                          "tiers": [{"pieces": 0, "rate": "1.2"}]}}},
            "lines": [{"sku": "A", "store": "S", "unit_price": "10.00", "quantity": 1,
                       "item_instant": "10.001", "super_instant": {"rate": "0.05"}}],
        })
    text = str(caught.value)
    for path in ("tiers[0].pieces", "tiers[0].rate", "item_instant", "super_instant.rate"):
        assert path in text


# --- properties --------------------------------------------------------------------------------


def _paid_by_store(result: CartQuote) -> dict[str, int]:
    return {store.store: store.paid_fen for store in result.stores}


@given(carts(store_tools=StoreTools.EXCLUSIVE))
def test_under_exclusive_a_line_never_takes_two_store_tools(cart: Cart) -> None:
    for line in quote(cart).lines:
        assert line.activity_discount_fen == 0 or line.coupon_discount_fen == 0


@given(carts(store_tools=StoreTools.EXCLUSIVE))
def test_under_exclusive_every_line_waterfall_adds_up(cart: Cart) -> None:
    result = quote(cart)
    for cart_line, line in zip(cart.lines, result.lines, strict=True):
        parts = (line.official_discount_fen, line.instant_discount_fen,
                 line.activity_discount_fen, line.coupon_discount_fen,
                 line.cross_store_discount_fen, line.red_packet_fen, line.paid_fen)
        assert min(parts) >= 0
        assert sum(parts) == line.subtotal_fen == cart_line.unit_price_fen * cart_line.quantity


def _no_coupon_cut_at_zero_under_stacked(cart: Cart, stacked: CartQuote) -> bool:
    """Under stacked, no coupon the buyer could use, taken or passed over, is larger than what
    its lines have left after the per-unit discounts and the multi-piece offer: each item coupon
    whose threshold its line reaches, and the store coupon the covered lines reach."""
    left = [
        line.subtotal_fen - line.official_discount_fen - line.instant_discount_fen
        - line.activity_discount_fen
        for line in stacked.lines
    ]
    for cart_line, after_offer in zip(cart.lines, left, strict=True):
        coupon = cart_line.item_coupon
        if (coupon is not None
                and cart_line.unit_price_fen * cart_line.quantity >= coupon.threshold_fen
                and coupon.amount_fen > after_offer):
            return False
    for name, offer in cart.stores.items():
        covered = [i for i, line in enumerate(cart.lines)
                   if line.store == name and line.store_coupons]
        tier = best_tier_reached(
            offer.coupons,
            sum(cart.lines[i].unit_price_fen * cart.lines[i].quantity for i in covered),
        )
        if tier is not None and tier.amount_fen > sum(left[i] for i in covered):
            return False
    return True


@given(carts())
def test_exclusive_never_pays_less_than_stacked_without_b2g1(cart: Cart) -> None:
    """GIVEN any cart whose stores run no buy-two-get-one and in which, under stacked, no line
    is cut to zero and no coupon is cut by the cap at zero (not even one the buyer passes over:
    every item coupon its line reaches and the store coupon reached fit in what their lines have
    left after the offer) WHEN it is quoted under both settings THEN no store is paid less under
    exclusive: every tool on a subset of the lines saves no more than on all of them, and the
    coupon stacked on the offer saves its whole face as it does on a subset.

    Why the cap is outside: under stacked the offer's share leaves a line less room, so a coupon
    is cut to what is left (an item coupon loses what the line cannot bear, and the tie may then
    go to the store coupon without any line reaching zero), while under exclusive the same line,
    off the offer, may bear its coupon whole (pinned below: a ¥0.01 × 2 line with a ¥1 item
    coupon beside a spend-save ¥1)."""
    cart = _with(cart, stores={
        name: offer.model_dump() if not isinstance(offer.activity, B2G1Activity)
        else {**offer.model_dump(), "activity": None}
        for name, offer in cart.stores.items()
    })
    stacked_quote = quote(_with(cart, store_tools=StoreTools.STACKED))
    assume(all(line.paid_fen > 0 for line in stacked_quote.lines))
    assume(_no_coupon_cut_at_zero_under_stacked(cart, stacked_quote))
    exclusive = _paid_by_store(quote(_with(cart, store_tools=StoreTools.EXCLUSIVE)))
    stacked = _paid_by_store(stacked_quote)
    for store, paid in stacked.items():
        assert exclusive[store] >= paid


def test_exclusive_can_pay_less_where_stacked_cuts_a_passed_over_item_coupon_at_zero() -> None:
    """Why a coupon cut at zero under stacked is outside the property above, though no line
    pays ¥0 there: store B has a spend-save ¥1 (threshold 0), a ¥0.01 store coupon and
    cross-store 300−50 (not reached); lines 2 × ¥1.00 and 2 × ¥0.01 with a ¥1 item coupon.

    Stacked: the offer's ¥1 is split 99 / 1 fen, so the ¥0.01 line has 1 fen left and its item
    coupon is cut to 1 fen; the ¥0.01 store coupon ties it and wins: 202 − 100 − 1 = 101 fen,
    lines 100 / 1. Exclusive: the ¥1.00 line takes the offer (its ¥1 whole), the ¥0.01 line,
    off the offer, bears 2 fen of its item coupon: 202 − 100 − 2 = 100 fen, lines 100 / 0."""
    cart = Cart(
        stores={"B": StoreOffer(
            coupons=(CouponTier(threshold_fen=0, amount_fen=1),),
            activity=SpendSaveActivity(tiers=(CouponTier(threshold_fen=0, amount_fen=100),)),
            cross_store=CrossStore(every_fen=30000, save_fen=5000),
        )},
        lines=(
            CartLine(sku="A1", store="B", unit_price_fen=100, quantity=2),
            CartLine(sku="A1", store="B", unit_price_fen=1, quantity=2,
                     item_coupon=CouponTier(threshold_fen=0, amount_fen=100)),
        ),
    )
    stacked = quote(_with(cart, store_tools=StoreTools.STACKED))
    assert stacked.paid_fen == 101
    assert [line.paid_fen for line in stacked.lines] == [100, 1]
    assert [line.activity_discount_fen for line in stacked.lines] == [99, 1]
    assert [line.coupon_discount_fen for line in stacked.lines] == [1, 0]
    assert stacked.stores[0].coupon_used is not None
    assert stacked.stores[0].coupon_used.startswith("store")
    assert not _no_coupon_cut_at_zero_under_stacked(cart, stacked)
    exclusive = quote(cart)
    assert exclusive.paid_fen == 100
    assert [line.paid_fen for line in exclusive.lines] == [100, 0]
    assert [line.activity_discount_fen for line in exclusive.lines] == [100, 0]
    assert [line.coupon_discount_fen for line in exclusive.lines] == [0, 2]


def test_exclusive_can_pay_less_with_no_line_at_zero_when_stacked_cuts_a_coupon() -> None:
    """The cap, not a line at ¥0, is the condition: a spend-save ¥1 and a ¥0.03 store coupon,
    lines 2 × ¥1.00 and 2 × ¥0.03 with a ¥0.05 item coupon. Stacked: the offer leaves the
    ¥0.03 line 3 fen, its item coupon is cut to 3 and ties the store coupon, which wins:
    206 − 100 − 3 = 103 fen. Exclusive: the ¥0.03 line bears its 5 fen whole: 101 fen. No line
    pays ¥0 under either setting."""
    cart = Cart(
        stores={"B": StoreOffer(
            coupons=(CouponTier(threshold_fen=0, amount_fen=3),),
            activity=SpendSaveActivity(tiers=(CouponTier(threshold_fen=0, amount_fen=100),)),
        )},
        lines=(
            CartLine(sku="A", store="B", unit_price_fen=100, quantity=2),
            CartLine(sku="C", store="B", unit_price_fen=3, quantity=2,
                     item_coupon=CouponTier(threshold_fen=0, amount_fen=5)),
        ),
    )
    stacked = quote(_with(cart, store_tools=StoreTools.STACKED))
    exclusive = quote(cart)
    assert (stacked.paid_fen, exclusive.paid_fen) == (103, 101)
    assert [line.paid_fen for line in stacked.lines] == [100, 3]
    assert [line.paid_fen for line in exclusive.lines] == [100, 1]
    assert not _no_coupon_cut_at_zero_under_stacked(cart, stacked)


def test_with_b2g1_exclusive_can_pay_less_because_a_cheap_unit_leaves_the_offer() -> None:
    """Why B2G1 is outside the property above: stacked, a ¥1 unit joins the three ¥100 units
    and is the free one; exclusive, it takes its ¥0.50 item coupon instead, leaving the offer,
    and a ¥100 unit is free. Buy-two-get-one is not monotone in the units it covers."""
    cart = Cart(
        stores={"S": StoreOffer(activity=B2G1Activity())},
        lines=(
            CartLine(sku="A", store="S", unit_price_fen=10000, quantity=3, b2g1=True),
            CartLine(sku="B", store="S", unit_price_fen=100, quantity=1, b2g1=True,
                     item_coupon=CouponTier(threshold_fen=0, amount_fen=50)),
        ),
    )
    assert quote(_with(cart, store_tools=StoreTools.STACKED)).paid_fen == 30100 - 100 - 50
    assert quote(cart).paid_fen == 30100 - 10000 - 50


@given(carts())
def test_new_fields_round_trip_through_the_cart_format(cart: Cart) -> None:
    assert cart_from_json(json.loads(json.dumps(cart_to_json(cart)))) == cart


# --- the 2026 sign-up check -----------------------------------------------------------------------


def _product(**fields: object) -> Product:
    base: dict[str, object] = dict(sku="X", list_price_fen=30_000, lowest_price_fen=30_000,
                                   unit_cost_fen=5_000, stock=10, base_units=10)
    return Product.model_validate({**base, **fields})


def test_products_file_reads_the_lowest_coupon_price_column(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "SKU,日常价,最低普惠券后价,成本价,库存,预估销量\nA,300,155.50,50,10,5\nB,200,,50,10,5\n",
        encoding="utf-8",
    )
    products, problems = load_products(path)
    assert not problems
    assert [p.lowest_coupon_price_fen for p in products] == [15_550, None]


def test_check_counts_cycle_long_coupons_in_the_signup_check_and_says_so_when_short() -> None:
    """GIVEN ¥200 with every-300-save-50 (¥166.67 after the pro-rated reduction), a ¥5
    no-threshold coupon and a lowest 普惠券后价 of ¥162 WHEN the coupons cover the cycle THEN
    ¥161.67 signs up; WHEN they do not THEN it fails, and check says the coupons still count in
    the no-loss proof."""
    item = _product(lowest_coupon_price_fen=16_200)
    tier = (CouponTier(threshold_fen=0, amount_fen=500),)
    covering = Rules()
    short = Rules(platform=PlatformRules(coupons_cover_cycle=False))
    full = margin_check((item,), covering, {"X": 20_000}, tier, ())
    assert full.products[0].meets_signup is True
    assert any("cover the whole activity cycle" in note for note in full.notes)
    partial = margin_check((item,), short, {"X": 20_000}, tier, ())
    assert partial.products[0].meets_signup is False
    assert any("no-loss proof above counts them" in note for note in partial.notes)
    assert any("1 product(s) fail the sign-up check only because" in n for n in partial.notes)
    # The checker counts the short coupon all the same: the same bound either way.
    assert partial.products[0].proven_bound_fen == full.products[0].proven_bound_fen


def test_plan_candidates_apply_the_lowest_coupon_price() -> None:
    """Without coupons counted, ¥300 at 9折 = ¥270 counts ¥225 after every-300-save-50; a lowest
    普惠券后价 of ¥200 keeps every level above 8折 (¥240 → ¥200) out of the sign-up."""
    table = build_candidates((_product(lowest_coupon_price_fen=20_000),), Rules())
    ok = {level: bool(table.signup_ok[0, row]) for row, level in enumerate(table.levels)
          if table.row_joins[row] and not table.row_b2g1[row]}
    assert ok[Decimal("0.85")] is False and ok[Decimal("0.80")] is True


def test_a_store_with_too_many_lines_for_the_exclusive_search_is_named() -> None:
    lines = [{"sku": f"A{i}", "store": "S", "unit_price": "10.00", "quantity": 1}
             for i in range(17)]
    data = {"stores": {"S": {"coupons": [{"threshold": "0", "amount": "1.00"}],
                             "activity": {"kind": "b2g1"}}}, "lines": lines}
    with pytest.raises(CartError, match="store S has 17 lines") as caught:
        cart_from_json(data)
    assert "stores.S" in str(caught.value)
    assert quote(cart_from_json({**data, "store_tools": "stacked"})).paid_fen == 16_900


def test_check_says_when_short_coupons_are_left_out_of_the_signup_check(tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text(
        "sku,list_price,lowest_coupon_price,unit_cost,stock,base_units\nA,300,162,50,10,5\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.toml"
    rules.write_text("[platform]\ncoupons_cover_cycle = false\n[coupons]\n"
                     "candidates = [[0, 5]]\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["check", str(products), "--rules", str(rules),
                                     "--discount", "0.3334", "--lang", "en"])
    assert "store tools: exclusive" in result.output
    assert "the no-loss proof above counts them" in result.output
    assert "1 product(s) fail the sign-up check only because" in result.output
