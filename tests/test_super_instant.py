"""超级立减 as a per-product decision: the rules key, the candidate rows, the plan, its files."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_examples import table_brute_force
from strategies import examples
from test_planner import tiny_stores

from models.money import super_instant_unit_fen
from models.product import Product
from models.rules import Mechanism, Rules, StoreTools, SuperInstantRules
from pricing.errors import InputError
from pricing.formats.plan_context import PlanContext
from pricing.formats.plan_json import plan_from_json, plan_to_json
from pricing.formats.plans import load_plan_prices
from pricing.formats.rules import load_rules
from pricing.formats.sheets import PlanPrices
from pricing.optimize.candidates import ProductArrays, build_candidates
from pricing.optimize.demand import coupon_ladders, store_orders
from pricing.optimize.planner import PlanOptions, make_plan, store_margin_rate, store_scope
from pricing.outputs.export import ExportOptions, export_plan
from pricing.verify.checker import StoreSetup, check_store

SOLVE = settings(max_examples=examples(0.3), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
RATES = (Decimal("0.10"), Decimal("0.20"))


def test_the_rules_file_reads_rates_and_refuses_them_beside_a_platform_mechanism(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[platform]\nmechanism = "none"\n[super_instant]\nrates = [0.2, 0.10]\n',
                    encoding="utf-8")
    assert load_rules(good).super_instant.rates == (Decimal("0.10"), Decimal("0.2"))
    clash = tmp_path / "clash.toml"
    clash.write_text("[super_instant]\nrates = [0.10]\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape('needs platform.mechanism = "none"')):
        load_rules(clash)
    out_of_range = tmp_path / "range.toml"
    out_of_range.write_text('[platform]\nmechanism = "none"\n[super_instant]\nrates = [0.5]\n',
                            encoding="utf-8")
    with pytest.raises(InputError, match=re.escape("from 0.10 to below 0.50")):
        load_rules(out_of_range)


def _rules() -> Rules:
    base = Rules()
    return base.model_copy(update={
        "platform": base.platform.model_copy(update={"mechanism": Mechanism.NONE}),
        "super_instant": SuperInstantRules(rates=RATES),
    })


def test_a_super_instant_row_sells_at_the_price_less_the_rounded_discount() -> None:
    product = Product(sku="A", list_price_fen=28800, lowest_price_fen=28800,
                      lowest_coupon_price_fen=20000, unit_cost_fen=5000, stock=10_000,
                      base_units=100.0)
    rules = _rules()
    table = build_candidates([product], rules)
    rates = table.row_super_rate
    levels = len(rules.ladder.levels) * (2 if rules.b2g1.enabled else 1)
    assert len(rates) == 1 + levels * 3
    plain, with_rate = 1, 1 + levels  # the first level, without and with 10% off
    assert rates[plain] == 0 and rates[with_rate] == Decimal("0.10")
    price = int(table.price[0, with_rate])
    assert price == table.price[0, plain]
    cut = super_instant_unit_fen(price, Decimal("0.10"))
    # Units respond to the lower price; revenue is at the lower price.
    assert table.units[0, with_rate] > table.units[0, plain]
    assert table.revenue[0, with_rate] == pytest.approx(
        table.units[0, with_rate] * (price - cut))
    # The 2026 sign-up check counts it: 9.5折 of 288 is 273.60, above the lowest 普惠券后价
    # 200 alone, and still above it after 28 off; a deeper level with 20% off passes.
    assert not table.signup_ok[0, plain]


@st.composite
def stores_with_super_instant(draw: st.DrawFn) -> tuple[list[Product], Rules]:
    products, rules = draw(tiny_stores())
    rates = tuple(sorted(set(draw(st.lists(
        st.sampled_from([Decimal("0.10"), Decimal("0.15"), Decimal("0.30"), Decimal("0.49")]),
        min_size=1, max_size=2)))))
    return products, rules.model_copy(update={
        "platform": rules.platform.model_copy(update={
            "mechanism": Mechanism.NONE,
            "store_tools": draw(st.sampled_from(list(StoreTools))),
        }),
        "super_instant": SuperInstantRules(rates=rates),
    })


@SOLVE
@given(stores_with_super_instant())
def test_plans_with_super_instant_pass_the_checker_and_match_the_brute_force(
    store: tuple[list[Product], Rules],
) -> None:
    """GIVEN a tiny catalogue whose store runs 超级立减 WHEN planned by the MILP and by the
    decomposition THEN each plan passes the exact checker (super instant lines included) and
    both find the brute-force optimum."""
    products, rules = store
    expected = table_brute_force(products, rules)
    for method in ("milp", "decompose"):
        result = make_plan(products, rules, PlanOptions(method=method, gap=0.0))
        assert result.check.passes
        for decision in result.plan.products:
            assert decision.super_instant_rate is None or (
                decision.joins and decision.super_instant_rate in rules.super_instant.rates)
        assert abs(result.plan.objective_fen - expected) <= len(products) + 2


@settings(max_examples=examples(1.0), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(stores_with_super_instant(), st.data())
def test_every_row_the_bits_allow_with_super_instant_passes_the_checker(
    store: tuple[list[Product], Rules], data: st.DataObject,
) -> None:
    """The optimizer's conditions are never looser than the checker's with super instant rows:
    any ladder and any allowed row per product give a store the checker proves safe."""
    products, rules = store
    table = build_candidates(products, rules)
    arrays = ProductArrays.of(products, rules)
    ladders = coupon_ladders(
        rules, store_orders(arrays.base_units, rules), store_margin_rate(arrays, rules)
    )
    index = data.draw(st.integers(0, len(ladders.members) - 1))
    mask = int(ladders.masks[index])
    allowed = table.valid & ((table.unsafe & mask) == 0)
    if not allowed.any(axis=1).all():
        return
    rows = np.array([data.draw(st.sampled_from(np.flatnonzero(allowed[j]).tolist()))
                     for j in range(len(products))])
    scope = store_scope(products, table, rows, mask, rules)
    setup = StoreSetup(
        products=tuple(products),
        prices_fen=tuple(int(table.price[j, rows[j]]) for j in range(len(products))),
        coupon_tiers=ladders.tiers(index, rules.coupons.candidates),
        b2g1_members=frozenset(p.sku for j, p in enumerate(products)
                               if table.row_b2g1[rows[j]] and p.b2g1_eligible),
        rules=rules, event_members=scope.joining,
        coupon_excluded=frozenset(scope.coupon_excluded), known_losers=scope.known_losers,
        super_instant={p.sku: table.row_super_rate[rows[j]] for j, p in enumerate(products)
                       if table.row_super_rate[rows[j]]},
    )
    report = check_store(setup, witnesses_for=0)
    for check in report.products:
        assert check.proven_safe or not check.guaranteed, check


def test_a_plan_records_super_instant_rates_and_its_files_keep_them() -> None:
    products = [
        Product(sku=f"P{i}", list_price_fen=price, lowest_price_fen=price,
                unit_cost_fen=price // 5, stock=10_000, base_units=80.0, elasticity=-4.0)
        for i, price in enumerate((9900, 19900, 29900))
    ]
    plan = make_plan(products, _rules()).plan
    chosen = {d.sku: d.super_instant_rate for d in plan.products if d.super_instant_rate}
    assert chosen, "with elasticity -4 a deeper paid price pays"
    again = plan_from_json(plan_to_json(plan))
    assert {d.sku: d.super_instant_rate for d in again.products
            if d.super_instant_rate} == chosen
    assert dict(PlanPrices.of_plan(again).super_instant) == chosen


@pytest.mark.parametrize("name", ["sheet.xlsx", "sheet.csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sheets_carry_super_instant_rates_and_read_back(
    tmp_path: Path, name: str, lang: str,
) -> None:
    """GIVEN a plan that gives products super instant rates WHEN exported (the review's
    超级立减让利比例, 10 for 10%) and read back THEN the prices, rates and the judge agree."""
    products = tuple(
        Product(sku=f"P{i}", list_price_fen=price, lowest_price_fen=price,
                unit_cost_fen=price // 5, stock=10_000, base_units=80.0, elasticity=-4.0)
        for i, price in enumerate((9900, 19900, 29900))
    )
    rules = _rules()
    plan = make_plan(list(products), rules).plan
    context = PlanContext(plan=plan, products=products, rules=rules)
    export_plan(context, tmp_path / name, ExportOptions(lang=lang))
    back = load_plan_prices(tmp_path / name)
    assert back == PlanPrices.of_plan(plan)
    assert back.super_instant
