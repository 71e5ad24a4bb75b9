"""``plan --demand``: event units from the fitted model, equal to what ``forecast`` says for the
plan's prices, and cannibalization within a category in the objective."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cli
from models.demand import DemandModel, Period
from models.product import Product
from models.rules import B2G1Rules, CouponRules, DemandRules, DiscountLadder, PlatformRules, Rules
from pricing.demand.event import CandidateDemand, EventDemand
from pricing.demand.fit import fit_demand
from pricing.demand.forecast import forecast_scenario
from pricing.formats.demand_file import load_demand, write_demand
from pricing.formats.history import Scenario, load_history
from pricing.formats.products import load_products
from pricing.formats.rules import load_rules
from pricing.optimize.candidates import ProductArrays, build_candidates
from pricing.optimize.planner import make_plan

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def sample_demand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demand") / "demand.csv"
    write_demand(fit_demand(load_history(SAMPLES / "history.csv")).model, path)
    return path


def _scenario_of(plan_products: list[tuple[str, float, bool]], days: int) -> Scenario:
    """A scenario of ``days`` days from Monday 2026-11-02 at the given prices."""
    start = np.datetime64("2026-11-02")
    rows = [(start + d, sku, price, promo) for d in range(days)
            for sku, price, promo in plan_products]
    return Scenario(
        file="scenario",
        skus=np.array([r[1] for r in rows], dtype=object),
        dates=np.array([r[0] for r in rows], dtype="datetime64[D]"),
        price=np.array([r[2] for r in rows], dtype=np.float64),
        promo=np.array([r[3] for r in rows], dtype=np.bool_),
        feature=np.zeros(len(rows), dtype=np.bool_),
        rows=np.arange(2, len(rows) + 2, dtype=np.int64),
    )


def test_a_plans_units_are_what_forecast_says_for_its_prices(
    sample_demand: Path, small_store: Path
) -> None:
    products, _ = load_products(small_store)  # ten of the sample's products
    rules = load_rules(SAMPLES / "rules.toml")
    rules = rules.model_copy(
        update={"demand": rules.demand.model_copy(update={"event_days": 14})}
    )
    model = load_demand(sample_demand)
    plan = make_plan(products, rules, demand=EventDemand.of(model, products)).plan
    decisions = plan.products
    scenario = _scenario_of(
        [(d.sku, d.activity_price_fen / 100, d.joins) for d in decisions], days=14
    )
    per_row = forecast_scenario(model, scenario, "demand.csv")
    forecast = {d.sku: 0.0 for d in decisions}
    for sku, units in zip(scenario.skus.tolist(), per_row.tolist(), strict=True):
        forecast[sku] += units
    stock = {p.sku: p.stock for p in products}
    for d in decisions:
        expected = forecast[d.sku] * (1 + rules.demand.event_uplift if d.joins else 1.0)
        expected *= 1 + rules.b2g1.uplift if d.b2g1 else 1.0
        assert d.expected_units == pytest.approx(min(expected, stock[d.sku]), abs=2e-3), d.sku


def _toy(cross: float) -> tuple[list[Product], Rules, DemandModel]:
    """Three products of one category, strongly cannibalising each other when ``cross`` > 0."""
    products = [
        Product(sku=f"P{i}", category="c", list_price_fen=10000, lowest_price_fen=10000,
                unit_cost_fen=cost, stock=10**6, base_units=1.0)
        for i, cost in enumerate((3000, 3500, 4000))
    ]
    rules = Rules(
        platform=PlatformRules(commission_rate=Decimal("0.05"), mechanism="none",
                               min_discount=Decimal("0")),
        ladder=DiscountLadder(levels=(Decimal("0.9"), Decimal("0.7"), Decimal("0.5"))),
        coupons=CouponRules(candidates=(), max_tiers=0),
        b2g1=B2G1Rules(enabled=False),
        demand=DemandRules(event_days=7, event_uplift=0.0),
    )
    model = DemandModel(
        period=Period.DAY, skus=("P0", "P1", "P2"), categories=("c", "c", "c"),
        base_units=np.array([100.0, 80.0, 60.0]), ref_price=np.array([100.0] * 3),
        elasticity=np.array([-2.5, -2.0, -3.0]), elasticity_low=np.array([-3.0] * 3),
        elasticity_high=np.array([-1.0] * 3), promo_lift=np.array([1.2] * 3),
        feature_lift=np.ones(3), cross_elasticity=np.array([cross] * 3), dow=np.ones((3, 7)),
        n_obs=np.array([365] * 3), source=("history",) * 3, flags=("",) * 3,
    )
    return products, rules, model


def _exact_profit(products: list[Product], rules: Rules, model: DemandModel,
                  rows: tuple[int, ...]) -> float:
    """The expected profit of a choice of rows, with x at the choice's own prices."""
    event = EventDemand.of(model, products)
    arrays = ProductArrays.of(products, rules)
    price = build_candidates(arrays, rules).price[np.arange(3), list(rows)]
    table = build_candidates(arrays, rules,
                             demand=CandidateDemand(event, event.category_index(price)))
    return float(table.profit[np.arange(3), list(rows)].sum())


@pytest.mark.parametrize("cross", [0.0, 1.0, 2.5])
def test_cannibalization_plan_matches_brute_force_on_a_toy_store(cross: float) -> None:
    products, rules, model = _toy(cross)
    plan = make_plan(products, rules, demand=EventDemand.of(model, products)).plan
    best = max(
        _exact_profit(products, rules, model, rows)
        for rows in itertools.product(range(4), repeat=3)
    )
    assert plan.objective_fen == pytest.approx(best, rel=1e-6, abs=3)


def test_ignoring_cannibalization_discounts_deeper_and_earns_less() -> None:
    products, rules, model = _toy(2.5)
    _, _, blind = _toy(0.0)
    aware = make_plan(products, rules, demand=EventDemand.of(model, products)).plan
    naive = make_plan(products, rules, demand=EventDemand.of(blind, products)).plan

    def rows_of(plan_products: tuple) -> tuple[int, ...]:  # type: ignore[type-arg]
        levels = {None: 0, Decimal("0.9"): 1, Decimal("0.7"): 2, Decimal("0.5"): 3}
        return tuple(levels[d.level if d.joins else None] for d in plan_products)

    aware_value = _exact_profit(products, rules, model, rows_of(aware.products))
    naive_value = _exact_profit(products, rules, model, rows_of(naive.products))
    assert aware_value > naive_value
    assert sum(d.activity_price_fen for d in aware.products) >= sum(
        d.activity_price_fen for d in naive.products)


def test_plan_demand_from_the_command_line(
    sample_demand: Path, small_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(cli.app, ["plan", str(small_store), "--demand", str(sample_demand),
                                     "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "10 of 10 products use the fitted model over 11 event days" in " ".join(
        result.output.split())
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["inputs"]["demand_file"] == str(sample_demand.resolve())
    result = runner.invoke(cli.app, ["check", "--plan", str(out)])
    assert result.exit_code == 0, result.output
