"""End to end: `price-opt plan` on the samples, the plan file's schema, the infeasible exit code."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from cli import app
from pricing.formats.plans import load_plan_prices
from pricing.formats.products import load_products
from pricing.formats.rules import load_rules
from pricing.formats.samples import sample_products_path, sample_rules_path
from pricing.verify.checker import StoreSetup, check_store
from pricing.verify.store import store_setup

if TYPE_CHECKING:
    from conftest import PlannedStore

runner = CliRunner()
MONEY_FIELDS = ("objective", "expected_revenue")
PRODUCT_FIELDS = {
    "sku", "joins", "activity_price", "discount", "b2g1", "expected_units", "expected_revenue",
    "expected_profit", "worst_unit_margin",
}


def _is_money(value: object) -> bool:
    return isinstance(value, str) and Decimal(value).as_tuple().exponent == -2


@pytest.fixture(scope="module")
def sample_plan(sample_plan: PlannedStore) -> tuple[Path, dict]:
    """The session's plan of the samples (conftest.py): ``price-opt plan``, no arguments."""
    assert "Expected profit" in sample_plan.output
    return sample_plan.path, sample_plan.document


def test_plan_on_the_samples_writes_the_documented_schema(sample_plan: tuple[Path, dict]) -> None:
    _, data = sample_plan
    assert data["status"] in ("optimal", "feasible")
    for field in MONEY_FIELDS:
        assert _is_money(data[field]), field
    assert {"name", "status", "gap", "seconds"} <= set(data["solver"])
    assert isinstance(data["b2g1"], bool)
    for tier in data["coupon_tiers"]:
        assert _is_money(tier["threshold"]) and _is_money(tier["amount"])
    products, _ = load_products(sample_products_path())
    assert [p["sku"] for p in data["products"]] == [p.sku for p in products]
    for product in data["products"]:
        assert set(product) >= PRODUCT_FIELDS
        assert _is_money(product["activity_price"]) and _is_money(product["expected_profit"])
    inputs = data["inputs"]
    assert len(inputs["products_sha256"]) == 64 and len(inputs["rules_sha256"]) == 64
    assert inputs["rules"]["platform"]["mechanism"]


def test_the_written_plan_passes_the_exact_checker(sample_plan: tuple[Path, dict]) -> None:
    path, data = sample_plan
    products, _ = load_products(sample_products_path())
    rules = load_rules(sample_rules_path())
    setup: StoreSetup = store_setup(load_plan_prices(path), products, rules)
    report = check_store(setup)
    assert report.passes
    assert not any(check.loses for check in report.products)
    # Every hero joins.
    heroes = {p.sku for p in products if p.role.value == "hero"}
    joined = {p["sku"] for p in data["products"] if p["joins"]}
    assert heroes <= joined


def test_plan_is_the_same_with_highs(sample_plan: tuple[Path, dict], tmp_path: Path) -> None:
    _, data = sample_plan
    out = tmp_path / "plan-highs.json"
    result = runner.invoke(app, ["plan", "--solver", "highs", "--out", str(out), "--show", "0"])
    assert result.exit_code == 0, result.output
    other = json.loads(out.read_text(encoding="utf-8"))
    assert abs(Decimal(other["objective"]) - Decimal(data["objective"])) <= Decimal("0.01") * len(
        data["products"]
    )


def _write_catalogue(path: Path, rows: list[str]) -> Path:
    header = "sku,role,list_price,unit_cost,stock,base_units\n"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_impossible_hero_is_excluded_and_named_and_the_plan_is_written(
    tmp_path: Path,
) -> None:
    """GIVEN a hero whose cost outruns its everyday price WHEN planned THEN the plan is written
    (exit 0) with the hero excluded and named; with --strict it exits 3 and writes nothing."""
    products = _write_catalogue(tmp_path / "products.csv", [
        "HERO-THIN,hero,100.00,88.00,100,50",
        "FINE-1,regular,200.00,60.00,100,50",
    ])
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", str(products), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "HERO-THIN" in result.output
    assert "stop free shipping" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    [excluded] = data["excluded"]
    assert excluded["sku"] == "HERO-THIN"
    assert excluded["reason"] == "loses_at_everyday_price"
    assert excluded["role"] == "hero"
    assert data["violations"] == []

    strict_out = tmp_path / "strict.json"
    strict_out.write_text("the user's earlier plan", encoding="utf-8")
    strict = runner.invoke(app, ["plan", str(products), "--out", str(strict_out), "--strict",
                                   "--force"])
    assert strict.exit_code == 3, strict.output
    assert "HERO-THIN" in strict.output
    assert "FINE-1" not in strict.output
    assert "Traceback" not in strict.output
    assert strict_out.read_text(encoding="utf-8") == "the user's earlier plan"
    assert not (tmp_path / "strict.json.bak").exists()


def test_validate_warns_about_products_that_lose_at_their_everyday_price(tmp_path: Path) -> None:
    products = _write_catalogue(tmp_path / "products.csv", [
        "CABLE,regular,9.90,3.00,100,50",
        "FINE-1,regular,200.00,60.00,100,50",
    ])
    result = runner.invoke(app, ["validate", str(products)])
    assert result.exit_code == 0, result.output
    assert "CABLE loses money on a one-unit order at its everyday price 9.90" in result.output
    assert "raise the price by" in result.output
    assert "stop free shipping" in result.output
    assert "FINE-1 loses" not in result.output


def test_bad_option_values_are_usage_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--solver", "gurobi", "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 2  # a usage error
    assert "expected cbc or highs" in result.output
    assert not (tmp_path / "p.json").exists()


def test_a_time_limit_still_gives_a_verified_plan(tmp_path: Path, small_store: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", str(small_store), "--time-limit", "5", "--method", "milp",
                                 "--out", str(out), "--show", "0"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["solver"]["time_limit"] == 5
