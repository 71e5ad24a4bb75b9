"""The plan file: JSON and workbook round trips, errors by field, a plan's prices, atomic writes."""

from __future__ import annotations

import json
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_examples import RULES, TIERS, build_plan, catalogue, plan_with_files
from strategies import examples

from models.plan import (
    Plan,
    PlanInputs,
    PlanStatus,
    ProductDecision,
    SolverInfo,
    product_decisions,
)
from models.rules import CouponTier
from pricing.errors import AtomicWriteError, InputError
from pricing.formats.atomic import write_atomic, write_text_atomic
from pricing.formats.plan_context import plan_context
from pricing.formats.plan_json import (
    decision_json,
    decisions_json,
    plan_from_json,
    plan_to_json,
)
from pricing.formats.plans import load_plan_prices, read_plan, write_plan
from pricing.formats.sheets import PlanPrices, csv_safe_text, csv_text_back
from pricing.verify.store import store_setup

FILE_SETTINGS = settings(
    max_examples=examples(0.4), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- generated plans ---------------------------------------------------------------------------

signed_fen = st.integers(-10**12, 10**12)
finite = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
CONTROL = [chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\x7f"]


def plain_text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Text a plan can hold: anything but control characters (readers refuse those)."""
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=CONTROL),
                   min_size=min_size, max_size=max_size)


json_scalars = st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=8) | \
    st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=8,
)


@st.composite
def decisions(draw: st.DrawFn, sku: str) -> ProductDecision:
    level = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=draw(
        st.integers(1, 4))))
    list_price = draw(st.integers(1, 10**9))
    return ProductDecision(
        sku=sku, item_id=draw(plain_text(max_size=12)), title=draw(plain_text(max_size=30)),
        joins=draw(st.booleans()), list_price_fen=list_price,
        activity_price_fen=draw(st.integers(0, list_price)), level=level,
        b2g1=draw(st.booleans()), expected_units=draw(finite),
        expected_revenue_fen=draw(signed_fen), expected_profit_fen=draw(signed_fen),
        worst_unit_margin_fen=draw(signed_fen), meets_signup=draw(st.booleans()),
    )


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in ProductDecision.model_fields}


@given(st.lists(decisions("S"), max_size=5))
def test_product_decisions_from_columns_equal_validated_ones(made: list[ProductDecision]) -> None:
    """GIVEN valid decisions WHEN assembled from columns (the planner's fast path) THEN each
    equals the validated model, field by field and in its dump."""
    built = product_decisions(_columns([d.model_dump() for d in made]))
    assert built == tuple(made)
    assert [d.model_dump() for d in built] == [d.model_dump() for d in made]
    assert [d.model_dump_json() for d in built] == [d.model_dump_json() for d in made]


@given(st.lists(decisions("S"), max_size=6))
def test_decisions_json_at_once_is_each_decisions_json(made: list[ProductDecision]) -> None:
    """The plan file's products, written in one pass, are what each decision writes alone."""
    assert [list(row.items()) for row in decisions_json(made)] == [
        list(decision_json(d).items()) for d in made  # the same keys in the same order
    ]


@pytest.mark.parametrize(("field", "value"), [
    ("level", Decimal(0)), ("level", Decimal("1.01")), ("expected_units", -0.5),
    ("expected_units", float("nan")), ("joins", "maybe"), ("list_price_fen", 1.5),
])
def test_product_decisions_from_columns_validate_what_is_off(field: str, value: object) -> None:
    """GIVEN a value out of its field's type or range WHEN assembled from columns THEN pydantic
    refuses it, as building the model does."""
    row = ProductDecision(
        sku="S", joins=True, list_price_fen=100, activity_price_fen=90, level=Decimal("0.9"),
        expected_units=1.0, expected_revenue_fen=90, expected_profit_fen=10,
        worst_unit_margin_fen=5,
    ).model_dump()
    row[field] = value
    with pytest.raises(ValueError):
        product_decisions(_columns([row]))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    skus = draw(st.lists(plain_text(min_size=1, max_size=12), max_size=6, unique=True))
    thresholds = draw(st.lists(st.integers(0, 10**7), max_size=4, unique=True))
    tiers = tuple(
        CouponTier(threshold_fen=t, amount_fen=draw(st.integers(1, max(1, t - 1)))
                   if t > 1 else draw(st.integers(1, 10**5)))
        for t in thresholds if t != 1
    )
    inputs = draw(st.none() | st.builds(
        PlanInputs, products_file=plain_text(max_size=20),
        products_sha256=plain_text(max_size=64), rules_file=st.none() | plain_text(max_size=20),
        rules_sha256=st.none() | plain_text(max_size=9),
        rules=st.dictionaries(plain_text(max_size=8), json_values, max_size=4),
        created_at=plain_text(max_size=25), price_opt_version=plain_text(max_size=8),
    ))
    return Plan(
        status=draw(st.sampled_from(PlanStatus)),
        objective_fen=draw(signed_fen), expected_revenue_fen=draw(signed_fen),
        baseline_profit_fen=draw(signed_fen), baseline_revenue_fen=draw(signed_fen),
        expected_discount_spend_fen=draw(signed_fen),
        solver=SolverInfo(
            name=draw(plain_text(max_size=8)), method=draw(plain_text(max_size=8)),
            status=draw(plain_text(max_size=8)),
            gap=draw(st.none() | st.floats(allow_nan=False, allow_infinity=False)),
            seconds=draw(finite), variables=draw(st.integers(0, 10**7)),
            constraints=draw(st.integers(0, 10**7)),
            time_limit=draw(st.none() | finite), gap_limit=draw(st.none() | finite),
            candidates_total=draw(st.integers(0, 10**7)),
            candidates_pruned=draw(st.integers(0, 10**7)),
        ),
        coupon_tiers=tiers, b2g1=draw(st.booleans()),
        worst_unit_margin_fen=draw(signed_fen),
        products=tuple(draw(decisions(sku)) for sku in skus),
        inputs=inputs,
    )


@given(plans())
@settings(max_examples=examples(2.0), deadline=None)
def test_plan_to_json_and_back_is_the_identity(plan: Plan) -> None:
    document = json.loads(json.dumps(plan_to_json(plan), ensure_ascii=False, allow_nan=False))
    assert plan_from_json(document) == plan


@given(plan=plans())
@FILE_SETTINGS
def test_a_plan_file_reads_back_to_the_same_plan(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    assert read_plan(path) == plan


def test_the_plan_json_has_the_public_fields_with_money_as_two_decimal_strings() -> None:
    plan, _ = build_plan()
    document = plan_to_json(plan)
    assert {"status", "objective", "expected_revenue", "solver", "coupon_tiers", "b2g1",
            "products", "inputs", "worst_unit_margin", "baseline_profit"} <= set(document)
    assert document["coupon_tiers"] == [{"threshold": "199.00", "amount": "15.00"},
                                        {"threshold": "399.00", "amount": "30.00"}]
    first = document["products"][0]
    assert first["activity_price"] == "764.15"
    assert first["discount"] == "0.15" and first["level"] == "0.85"
    assert {"name", "status", "gap", "seconds"} <= set(document["solver"])


def test_a_plan_workbook_reads_back_to_the_same_plan(tmp_path: Path) -> None:
    plan, _, _ = plan_with_files(tmp_path)
    path = tmp_path / "plan.xlsx"
    write_plan(plan, path)
    assert read_plan(path) == plan
    assert load_plan_prices(path) == PlanPrices.of_plan(plan)


def test_bad_fields_are_all_reported_by_their_json_path() -> None:
    plan, _ = build_plan()
    document: dict[str, Any] = plan_to_json(plan)
    document["objective"] = "12.345"
    document["coupon_tiers"][0]["amount"] = "abc"
    document["products"][1]["activity_price"] = -5
    document["products"][2]["level"] = "1.5"
    document["products"][3]["colour"] = "red"
    del document["products"][4]["joins"]
    with pytest.raises(InputError) as raised:
        plan_from_json(document, "plan.json")
    where = {problem.column for problem in raised.value.problems}
    assert where == {"objective", "coupon_tiers[0].amount", "products[1].activity_price",
                     "products[2].level", "products[3].colour", "products[4].joins"}
    assert "plan.json" in str(raised.value)


def test_a_tier_that_saves_its_whole_threshold_is_an_input_error() -> None:
    document = plan_to_json(build_plan()[0])
    document["coupon_tiers"] = [{"threshold": "10.00", "amount": "10.00"}]
    with pytest.raises(InputError, match="coupon_tiers"):
        plan_from_json(document)


def test_a_discount_that_disagrees_with_the_level_is_refused() -> None:
    document = plan_to_json(build_plan()[0])
    document["products"][0]["discount"] = "0.30"
    with pytest.raises(InputError, match=r"products\[0\]\.discount"):
        plan_from_json(document)


def test_read_plan_names_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_plan(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_plan(broken)
    with pytest.raises(InputError, match=r"\.json or \.xlsx"):
        write_plan(build_plan()[0], tmp_path / "plan.txt")


def test_plan_prices_hold_the_joining_products_only(tmp_path: Path) -> None:
    _, _, path = plan_with_files(tmp_path)
    prices = load_plan_prices(path)
    assert prices.joins == {"M18-911-WH", "M18-GTR-BK", "M24-AE86", "M24-BTL-YL"}
    assert prices.prices_fen["M18-911-WH"] == 76415
    assert prices.b2g1_members == {"M18-GTR-BK", "M24-AE86"}
    assert prices.coupon_tiers == TIERS


def test_store_setup_puts_products_that_stay_out_at_their_everyday_price() -> None:
    plan, check = build_plan()
    setup = store_setup(PlanPrices.of_plan(plan), catalogue(), RULES)
    assert setup.prices_fen == tuple(c.price_fen for c in check.products)
    assert setup.prices_fen[-1] == 5900


def test_store_setup_refuses_skus_the_products_do_not_have() -> None:
    plan, _ = build_plan()
    with pytest.raises(InputError, match="M18-911-WH"):
        store_setup(PlanPrices.of_plan(plan), catalogue()[1:], RULES)


def test_plan_context_finds_the_recorded_inputs_and_warns_when_they_changed(
    tmp_path: Path,
) -> None:
    plan, _, path = plan_with_files(tmp_path)
    context = plan_context(plan, path)
    assert context.products == catalogue() and context.rules == RULES and not context.warnings
    with (tmp_path / "products.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert "changed" in plan_context(plan, path).warnings[0]
    (tmp_path / "products.csv").unlink()
    with pytest.raises(InputError, match="--products"):
        plan_context(plan, path)


@given(st.text())
def test_csv_neutralising_is_undone_exactly(text: str) -> None:
    safe = csv_safe_text(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_text_back(safe) == text


# --- atomic writes -----------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")

    def half_then_fail(temp_path: Path) -> None:
        temp_path.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["plan.json"]


def test_an_atomic_write_keeps_the_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_text_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_writing_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AtomicWriteError, match="cannot write"):
        write_text_atomic(tmp_path / "no" / "such" / "plan.json", "x")
