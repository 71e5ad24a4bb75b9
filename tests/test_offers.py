"""Multi-piece offers (``pieces_discount`` 满件打折, ``pieces_save`` 满件减钱) as optimizer
candidates: the rules file, the safety bits, the forecast, the plan and its files."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_examples import table_brute_force
from strategies import examples, pieces_offers
from test_planner import tiny_stores

from models.product import Product
from models.rules import (
    CouponRules,
    CouponTier,
    OfferRules,
    PiecesDiscountActivity,
    PiecesDiscountTier,
    PiecesSaveActivity,
    PiecesSaveTier,
    Rules,
    StoreTools,
)
from pricing.errors import InputError
from pricing.formats.plan_context import PlanContext
from pricing.formats.plan_json import plan_from_json, plan_to_json
from pricing.formats.plans import load_plan_prices
from pricing.formats.rules import load_rules, rules_from_document, rules_to_dict
from pricing.formats.sheets import PlanPrices
from pricing.formats.tiers import TierTextError, parse_offer
from pricing.optimize.candidates import ProductArrays, build_candidates
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.offers import offer_bit, pair_bit
from pricing.optimize.planner import PlanOptions, make_plan, store_margin_rate
from pricing.outputs.export import export_plan
from pricing.verify.checker import StoreSetup, check_store

SOLVE = settings(max_examples=examples(0.3), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])

NINE_TENTHS = PiecesDiscountActivity(tiers=(PiecesDiscountTier(pieces=2, rate=Decimal("0.90")),))
SAVE_20 = PiecesSaveActivity(tiers=(PiecesSaveTier(pieces=3, amount_fen=2000),))


# --- the rules file ----------------------------------------------------------------------------


def test_the_rules_file_reads_offer_candidates_with_the_issues_kind_names(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        "[offers]\ncandidates = [\n"
        '  {kind = "pieces_discount", tiers = [{pieces = 2, rate = 0.90}]},\n'
        '  {kind = "pieces_save", tiers = [{pieces = 3, amount = 20}]},\n]\n',
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.offers.candidates == (NINE_TENTHS, SAVE_20)
    assert rules_from_document(rules_to_dict(rules), "again") == rules


def test_bad_offer_candidates_are_named_by_their_place(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        "[offers]\ncandidates = [\n"
        '  {kind = "pieces_off", tiers = [{pieces = 2, rate = 0.90}]},\n'
        '  {kind = "pieces_save", tiers = [{pieces = 2, amount = 20.001}]},\n'
        '  {kind = "pieces_save", tiers = [{pieces = 2, rate = 0.9}]},\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_rules(path)
    text = str(caught.value)
    assert "offers.candidates item 1: kind: expected pieces_discount or pieces_save" in text
    assert "offers.candidates item 2: tiers item 1" in text
    assert "offers.candidates item 3: tiers: expected a list of {pieces = N, amount = …}" in text


def test_offer_labels_read_back_and_bad_labels_are_refused() -> None:
    for offer in (NINE_TENTHS, SAVE_20):
        assert parse_offer(offer.label) == offer
    for text in ("2 pieces 9折", "2pcs×1.5", "2pcs-0.001"):
        with pytest.raises(TierTextError):
            parse_offer(text)


# --- the safety bits and the ladders -----------------------------------------------------------


def _rules(store_tools: StoreTools, offers: tuple = (NINE_TENTHS, SAVE_20)) -> Rules:
    base = Rules()
    return base.model_copy(update={
        "platform": base.platform.model_copy(update={"store_tools": store_tools}),
        "coupons": CouponRules(candidates=(CouponTier(threshold_fen=9900, amount_fen=1000),)),
        "offers": OfferRules(candidates=offers),
    })


@pytest.mark.parametrize("store_tools", list(StoreTools))
def test_each_ladder_runs_none_or_one_offer_and_stacked_ladders_hold_the_pairs(
    store_tools: StoreTools,
) -> None:
    rules = _rules(store_tools)
    ladders = coupon_ladders(rules, orders=1000.0, margin_rate=0.3)
    # No coupon or the one tier, times no offer or one of two.
    assert len(ladders.members) == 2 * 3
    for index in range(len(ladders.members)):
        offer = ladders.offer(index)
        tiers = ladders.tiers(index, rules.coupons.candidates)
        mask = int(ladders.masks[index])
        assert (offer is None) == all(not mask >> offer_bit(rules, j) & 1 for j in range(2))
        pair = offer is not None and bool(tiers) and store_tools is StoreTools.STACKED
        assert bool(offer is not None and mask >> pair_bit(rules, 0, offer) & 1) == pair


def test_under_exclusive_an_offer_with_a_coupon_costs_less_than_stacked() -> None:
    exclusive = coupon_ladders(_rules(StoreTools.EXCLUSIVE), 1000.0, 0.3)
    stacked = coupon_ladders(_rules(StoreTools.STACKED), 1000.0, 0.3)
    both = next(i for i in range(len(exclusive.members))
                if exclusive.offer(i) == 0 and exclusive.tiers(i, (CouponTier(
                    threshold_fen=9900, amount_fen=1000),)))
    coupon_only = next(i for i in range(len(exclusive.members))
                       if exclusive.offer(i) is None and len(exclusive.members[i]) == 1)
    offer_only = next(i for i in range(len(exclusive.members))
                      if exclusive.offer(i) == 0 and len(exclusive.members[i]) == 1)
    assert exclusive.spend[both] < stacked.spend[both]
    assert exclusive.spend[both] >= max(exclusive.spend[coupon_only], exclusive.spend[offer_only])


def test_a_buy_two_get_one_row_never_sits_beside_an_offer() -> None:
    rules = _rules(StoreTools.EXCLUSIVE)
    product = Product(sku="A", list_price_fen=20000, lowest_price_fen=20000,
                      unit_cost_fen=2000, stock=100, base_units=10.0, b2g1_eligible=True)
    table = build_candidates([product], rules)
    offer_mask = (1 << offer_bit(rules, 0)) | (1 << offer_bit(rules, 1))
    b2g1_rows = np.flatnonzero(table.row_b2g1)
    assert len(b2g1_rows)
    assert ((table.unsafe[0, b2g1_rows] & offer_mask) == offer_mask).all()


# --- the optimizer against the checker ---------------------------------------------------------


@st.composite
def stores_with_offers(draw: st.DrawFn) -> tuple[list[Product], Rules]:
    products, rules = draw(tiny_stores())
    offers = tuple(dict.fromkeys(draw(st.lists(pieces_offers(), min_size=1, max_size=2))))
    store_tools = draw(st.sampled_from(list(StoreTools)))
    return products, rules.model_copy(update={
        "platform": rules.platform.model_copy(update={"store_tools": store_tools}),
        "offers": OfferRules(candidates=offers),
    })


@SOLVE
@given(stores_with_offers())
def test_plans_with_offer_candidates_pass_the_checker_and_match_the_brute_force(
    store: tuple[list[Product], Rules],
) -> None:
    """GIVEN a tiny catalogue with pieces-offer candidates, under either store-tools setting
    WHEN planned by the MILP and by the decomposition THEN each plan passes the exact checker
    (make_plan refuses one that does not) and both find the brute-force optimum."""
    products, rules = store
    expected = table_brute_force(products, rules)
    for method in ("milp", "decompose"):
        result = make_plan(products, rules, PlanOptions(method=method, gap=0.0))
        assert result.check.passes
        plan = result.plan
        assert plan.pieces_offer is None or not plan.b2g1
        assert abs(plan.objective_fen - expected) <= len(products) + 2


@settings(max_examples=examples(1.0), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(stores_with_offers(), st.data())
def test_every_row_the_bits_allow_beside_an_offer_passes_the_checker(
    store: tuple[list[Product], Rules], data: st.DataObject,
) -> None:
    """The optimizer's conditions are never looser than the checker's: GIVEN any ladder with
    an offer and any row per product its safety bits allow beside it WHEN the store is checked
    THEN every product that joins or stays out safely is proven safe."""
    products, rules = store
    table = build_candidates(products, rules)
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    with_offer = [i for i in range(len(ladders.members)) if ladders.offer(i) is not None]
    index = data.draw(st.sampled_from(with_offer))
    mask = int(ladders.masks[index])
    allowed = table.valid & ((table.unsafe & mask) == 0)
    if not allowed.any(axis=1).all():
        return
    rows = [data.draw(st.sampled_from(np.flatnonzero(allowed[j]).tolist()))
            for j in range(len(products))]
    picked = range(len(products))
    joins = {p.sku for j, p in zip(picked, products, strict=True) if table.row_joins[rows[j]]}
    offer_index = ladders.offer(index)
    assert offer_index is not None
    from pricing.optimize.planner import store_scope

    scope = store_scope(products, table, np.array(rows), mask, rules)
    setup = StoreSetup(
        products=tuple(products),
        prices_fen=tuple(int(table.price[j, rows[j]]) for j in picked),
        coupon_tiers=ladders.tiers(index, rules.coupons.candidates),
        b2g1_members=frozenset(), rules=rules, event_members=frozenset(joins),
        coupon_excluded=frozenset(scope.coupon_excluded), known_losers=scope.known_losers,
        pieces_offer=rules.offers.candidates[offer_index],
    )
    report = check_store(setup, witnesses_for=0)
    for check in report.products:
        assert check.proven_safe or not check.guaranteed, check


# --- the plan and its files --------------------------------------------------------------------


def test_a_plan_records_its_offer_and_its_files_keep_it() -> None:
    products = [
        Product(sku=f"P{i}", list_price_fen=price, lowest_price_fen=price,
                unit_cost_fen=price // 5, stock=1000, base_units=50.0, b2g1_eligible=False)
        for i, price in enumerate((9900, 19900, 29900))
    ]
    rules = _rules(StoreTools.EXCLUSIVE, offers=(NINE_TENTHS,))
    rules = rules.model_copy(update={"demand": rules.demand.model_copy(
        update={"coupon_response": 8.0})})
    plan = make_plan(products, rules).plan
    assert plan.pieces_offer == NINE_TENTHS
    again = plan_from_json(plan_to_json(plan))
    assert again.pieces_offer == NINE_TENTHS
    assert PlanPrices.of_plan(again).pieces_offer == NINE_TENTHS
    broken = plan_to_json(plan)
    broken["pieces_offer"] = {"kind": "b2g1"}
    with pytest.raises(InputError, match="pieces_offer"):
        plan_from_json(broken)


def test_brute_force_ladders_hold_every_offer_choice() -> None:
    rules = _rules(StoreTools.STACKED)
    ladders = coupon_ladders(rules, 10.0, 0.2)
    choices = {(ladders.tiers(i, rules.coupons.candidates), ladders.offer(i))
               for i in range(len(ladders.members))}
    expected = set(itertools.product(
        [(), rules.coupons.candidates], [None, 0, 1]
    ))
    assert choices == expected


@pytest.mark.parametrize("name", ["sheet.xlsx", "sheet.csv"])
def test_the_sheets_carry_the_offer_and_read_back(tmp_path: Path, name: str) -> None:
    products = tuple(
        Product(sku=f"P{i}", list_price_fen=price, lowest_price_fen=price,
                unit_cost_fen=price // 5, stock=1000, base_units=50.0, b2g1_eligible=False)
        for i, price in enumerate((9900, 19900, 29900))
    )
    rules = _rules(StoreTools.EXCLUSIVE, offers=(NINE_TENTHS,))
    rules = rules.model_copy(update={"demand": rules.demand.model_copy(
        update={"coupon_response": 8.0})})
    plan = make_plan(list(products), rules).plan
    assert plan.pieces_offer == NINE_TENTHS
    export_plan(PlanContext(plan=plan, products=products, rules=rules), tmp_path / name)
    back = load_plan_prices(tmp_path / name)
    assert back == PlanPrices.of_plan(plan)
    assert back.pieces_offer == NINE_TENTHS
