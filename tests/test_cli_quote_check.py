"""``price-opt quote`` and ``price-opt check`` end to end, through Typer's CliRunner.

The quoted amounts are the hand-worked ones of ``test_stacking.py`` (the same fixture carts).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parent.parent
CARTS = Path(__file__).parent / "data" / "carts"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
runner = CliRunner()


def run(*args: str | Path) -> Any:
    return runner.invoke(app, [str(arg) for arg in args])


# --- quote ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "paid", "line_paid"),
    [
        ("single_store.json", "313.00", ["313.00"]),
        ("pooled_cross_store.json", "500.50", ["94.89", "63.67", "126.10", "215.84"]),
        ("cap_at_zero.json", "253.13", ["0.00", "253.13"]),
        ("official_b2g1.json", "169.33", ["123.74", "37.09", "8.50"]),
        ("item_vs_store_coupon.json", "375.00", ["135.00", "50.00", "135.71", "54.29"]),
        ("parallel_thresholds.json", "440.00", ["345.10", "94.90"]),
    ],
)
def test_quote_prints_each_waterfall_and_the_total(
    name: str, paid: str, line_paid: list[str]
) -> None:
    result = run("quote", CARTS / name)
    assert result.exit_code == 0, result.output
    assert f"Buyer pays ¥{paid}" in result.output
    paid_rows = [row for row in result.output.splitlines() if row.startswith("│ Paid")]
    shown = [amount for row in paid_rows for amount in re.findall(r"-?\d+\.\d{2}", row)]
    for amount in line_paid:
        assert amount in shown


def test_quote_table_shows_every_step_of_the_waterfall() -> None:
    output = run("quote", CARTS / "single_store.json").output
    for label, amount in [("Subtotal", "398.00"), ("Coupon", "-30.00"),
                          ("Cross-store", "-50.00"), ("Red packet", "-5.00"),
                          ("Paid", "313.00"), ("Merchant receives", "318.00")]:
        row = next(row for row in output.splitlines() if row.startswith(f"│ {label}"))
        assert amount in row
    assert "coupon used: item coupons" in output


def test_quote_json_is_the_public_quote_format() -> None:
    result = run("quote", CARTS / "single_store.json", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "paid": "313.00",
        "lines": [{
            "sku": "A1", "store": "A", "quantity": 2, "subtotal": "398.00",
            "official_discount": "0.00", "instant_discount": "0.00", "activity_discount": "0.00",
            "coupon_discount": "30.00", "cross_store_discount": "50.00",
            "red_packet": "5.00", "paid": "313.00", "merchant_receives": "318.00",
        }],
        "stores": [{"store": "A", "subtotal": "398.00", "paid": "313.00",
                    "merchant_receives": "318.00", "coupon_used": "item coupons"}],
    }


@pytest.mark.parametrize("name", sorted(p.name for p in CARTS.glob("[!b]*.json")))
def test_quote_json_money_is_two_decimal_strings_that_add_up(name: str) -> None:
    data = json.loads(run("quote", CARTS / name, "--json").stdout)
    line_keys = {"sku", "store", "quantity", "subtotal", "official_discount", "instant_discount",
                 "activity_discount", "coupon_discount", "cross_store_discount", "red_packet",
                 "paid", "merchant_receives"}
    assert MONEY.match(data["paid"])
    for line in data["lines"]:
        assert set(line) == line_keys
        assert all(MONEY.match(line[key]) for key in line_keys - {"sku", "store", "quantity"})
    for store in data["stores"]:
        assert {"paid", "merchant_receives"} <= set(store)
    cents = sum(round(float(line["paid"]) * 100) for line in data["lines"])
    assert cents == round(float(data["paid"]) * 100)


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("bad_unknown_store.json", "lines[0].store"),
        ("bad_negative_quantity.json", "lines[0].quantity"),
        ("bad_issue_example_both_mechanisms.json", "either cross_store or official_rate"),
        ("bad_finer_than_fen.json", "lines[0].unit_price"),
        ("bad_finer_than_fen.json", "stores.A.coupons[0].amount"),
        ("bad_malformed.json", "not valid JSON"),
    ],
)
def test_quote_names_the_bad_field_and_exits_1_without_a_traceback(name: str, named: str) -> None:
    result = run("quote", CARTS / name)
    assert result.exit_code == 1
    assert "error:" in result.stderr and named in result.stderr
    assert name in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_quote_shows_skus_verbatim_even_when_they_look_like_markup(tmp_path: Path) -> None:
    cart = tmp_path / "cart.json"
    cart.write_text(json.dumps({
        "stores": {"S": {}},
        "lines": [{"sku": "[b]X1[/b]", "store": "S", "unit_price": "9.90", "quantity": 1}],
    }), encoding="utf-8")
    result = run("quote", cart)
    assert result.exit_code == 0 and "[b]X1[/b]" in result.output


def test_quote_of_a_missing_file_says_so() -> None:
    result = run("quote", CARTS / "no_such_cart.json")
    assert result.exit_code == 1 and "file not found" in result.stderr


# --- check ------------------------------------------------------------------------------------

PRODUCTS_CSV = """\
sku,title,list_price,lowest_price,unit_cost,stock,base_units,purchase_limit,b2g1
M18-911,1:18 保时捷911 GT3,899.00,899.00,300.00,100,50,2,yes
M64-G63,1:64 奔驰G63,69.00,69.00,25.00,500,200,,yes
ACC-CASE,亚克力展示盒,129.00,119.00,40.00,300,80,,no
"""
SAFE_PRODUCTS_CSV = """\
sku,title,list_price,lowest_price,unit_cost,stock,base_units
M18-911,1:18 保时捷911 GT3,899.00,899.00,200.00,100,50
M24-AE86,1:24 丰田AE86,259.00,259.00,50.00,500,200
"""
RULES_TOML = """\
[platform]
commission_rate = 0.05
mechanism = "cross_store"
cross_store_every = 300
cross_store_save = 50

[store]
shipping_cost = 8
handling_cost = 1.50

[coupons]
candidates = [[0, 5], [99, 10], [299, 20], [599, 50]]
"""


@pytest.fixture
def store_files(tmp_path: Path) -> tuple[Path, Path]:
    products = tmp_path / "products.csv"
    products.write_text(PRODUCTS_CSV, encoding="utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    return products, rules


def test_check_at_half_price_names_the_loser_and_exits_1(store_files: tuple[Path, Path]) -> None:
    products, rules = store_files
    result = run("check", products, "--rules", rules, "--discount", "0.5")
    assert result.exit_code == 1, result.output
    assert "every product at 5折 / 50% off" in result.output
    assert re.search(r"products lose money:.*M64-G63", result.output, re.S)
    row = next(row for row in result.output.splitlines() if row.strip().startswith("M64-G63"))
    assert "LOSES" in row and "34.50" in row
    assert "coupons: 0-5, 99-10, 299-20, 599-50" in result.output
    assert "buy two get one: off" in result.output


def test_check_defaults_to_half_price(store_files: tuple[Path, Path]) -> None:
    products, rules = store_files
    default = run("check", products, "--rules", rules, "--json")
    explicit = run("check", products, "--rules", rules, "--json", "--discount", "50%")
    assert default.exit_code == explicit.exit_code == 1
    assert json.loads(default.stdout) == json.loads(explicit.stdout)


def test_check_json_lists_every_product_with_its_witness(store_files: tuple[Path, Path]) -> None:
    products, rules = store_files
    result = run("check", products, "--rules", rules, "--json")
    data = json.loads(result.stdout)
    assert {"products", "worst_order_margin", "passes", "notes"} <= set(data)
    assert data["passes"] is False
    assert [row["sku"] for row in data["products"]] == ["M18-911", "M64-G63", "ACC-CASE"]
    for row in data["products"]:
        assert {"sku", "activity_price", "worst_unit_margin", "proven_bound", "loses",
                "meets_signup", "witness"} <= set(row)
        assert MONEY.match(row["activity_price"]) and MONEY.match(row["worst_unit_margin"])
        assert MONEY.match(row["proven_bound"])
        assert set(row["witness"]) >= {"stores", "lines"}
    loser = next(row for row in data["products"] if row["sku"] == "M64-G63")
    assert loser["loses"] is True and loser["worst_unit_margin"].startswith("-")


def test_check_writes_witness_carts_that_quote_reads(
    store_files: tuple[Path, Path], tmp_path: Path
) -> None:
    products, rules = store_files
    witnesses = tmp_path / "witnesses"
    result = run("check", products, "--rules", rules, "--witness-dir", witnesses)
    assert result.exit_code == 1
    files = sorted(witnesses.glob("*.json"))
    assert "M64-G63.json" in [path.name for path in files]
    assert "witness cart(s) written" in result.output
    quoted = run("quote", witnesses / "M64-G63.json")
    assert quoted.exit_code == 0 and "M64-G63" in quoted.output


def test_check_of_an_all_safe_catalogue_exits_0(tmp_path: Path) -> None:
    products = tmp_path / "safe.csv"
    products.write_text(SAFE_PRODUCTS_CSV, encoding="utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    result = run("check", products, "--rules", rules, "--discount", "0.2",
                 "--coupons", "299-20,599-50")
    assert result.exit_code == 0, result.output
    assert "All 2 products are proven safe" in result.output
    assert "coupons: 299-20, 599-50" in result.output


def test_check_no_coupons_and_b2g1_change_the_assumptions(
    store_files: tuple[Path, Path]
) -> None:
    products, rules = store_files
    plain = json.loads(run("check", products, "--rules", rules, "--json",
                           "--no-coupons").stdout)
    with_b2g1 = json.loads(run("check", products, "--rules", rules, "--json", "--no-coupons",
                               "--b2g1").stdout)
    assert plain["coupon_tiers"] == [] and plain["b2g1_members"] == []
    # ACC-CASE is not eligible for buy-two-get-one.
    assert with_b2g1["b2g1_members"] == ["M18-911", "M64-G63"]
    for before, after in zip(plain["products"], with_b2g1["products"], strict=True):
        assert float(after["proven_bound"]) <= float(before["proven_bound"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--discount", "0.5", "--plan", "plan.json"], "mutually exclusive"),
        (["--plan", "plan.json", "--coupons", "299-20"], "go with --discount"),
        (["--plan", "plan.json", "--b2g1"], "go with --discount"),
        (["--coupons", "299-20", "--no-coupons"], "mutually exclusive"),
    ],
)
def test_check_refuses_options_that_contradict_each_other(
    args: list[str], message: str
) -> None:
    result = run("check", *args)
    assert result.exit_code == 2
    # Typer draws the message in a box: read it without the box and the line breaks.
    assert message in " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--discount", "1.5"], "expected a discount such as 5折"),
        (["--discount", "half"], "expected a discount such as 5折"),
        (["--coupons", "299-20,abc"], "tier 2: expected threshold-amount"),
    ],
)
def test_check_reports_bad_option_values_as_usage_errors(
    store_files: tuple[Path, Path], args: list[str], message: str
) -> None:
    products, rules = store_files
    result = run("check", products, "--rules", rules, *args)
    assert result.exit_code == 2
    assert "error:" in result.stderr and message in result.stderr


def test_check_a_plan_uses_its_prices_tiers_and_b2g1(tmp_path: Path) -> None:
    from plan_examples import LOSING_CHOICES, plan_with_files

    plan, _, plan_path = plan_with_files(tmp_path, choices=LOSING_CHOICES)
    result = run("check", tmp_path / "products.csv", "--rules", tmp_path / "rules.toml",
                 "--plan", plan_path, "--json")
    data = json.loads(result.stdout)
    decisions = {d.sku: d for d in plan.products}
    for row in data["products"]:
        decision = decisions[row["sku"]]
        assert row["joins"] == decision.joins
        if decision.joins:
            assert row["activity_price"] == f"{decision.activity_price_fen / 100:.2f}"
    assert data["b2g1_members"] == sorted(d.sku for d in plan.products if d.joins and d.b2g1)
    assert len(data["coupon_tiers"]) == len(plan.coupon_tiers)
    assert result.exit_code == (0 if data["passes"] else 1)
    assert data["passes"] is False  # the example's losing choice


def test_check_on_the_bundled_samples_lists_the_losers_at_half_price() -> None:
    result = run("check", "--json")
    data = json.loads(result.stdout)
    losers = [row for row in data["products"] if row["loses"]]
    assert result.exit_code == 1 and losers
    assert all(row["witness"] is not None for row in losers)


def test_help_runs_in_a_real_process() -> None:
    for command in ("quote", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "cli", command, "--help"], cwd=ROOT, capture_output=True,
            text=True, timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Usage" in done.stdout
