"""``price-opt validate``: the samples pass; a bad file reports every planted problem at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from pricing.formats.samples import sample_products_path

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def flat(text: str) -> str:
    """The output with line wrapping undone (the console wraps long lines at its width)."""
    return " ".join(text.split())


def test_the_bundled_samples_are_valid() -> None:
    result = runner.invoke(cli.app, ["validate"])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "60 products (4 hero 主推, 8 traffic 引流, 10 profit 利润, 38 regular 常规)" in output
    assert "cross-store every ¥300 save ¥50" in output
    assert "commission 5%" in output
    assert "coupon candidates: 0-5, 99-10, 199-15" in output
    assert "ladder: 10 levels, 9.5折 / 5% off to 5折 / 50% off" in output
    assert "ok: both files are valid" in output


def test_the_xlsx_sample_and_explicit_rules_are_valid() -> None:
    xlsx = sample_products_path().with_name("products.xlsx")
    rules = sample_products_path().with_name("rules.toml")
    result = runner.invoke(cli.app, ["validate", str(xlsx), "--rules", str(rules)])
    assert result.exit_code == 0, result.output
    assert "60 products" in flat(result.output)


def test_every_planted_problem_is_reported_in_one_run() -> None:
    """GIVEN a products file and a rules file full of mistakes WHEN validated THEN all of them
    are listed, with file, row, column and value, the cost warning too; exit 1, no traceback."""
    result = runner.invoke(
        cli.app,
        ["validate", str(DATA / "bad_products.csv"), "--rules", str(DATA / "bad_rules.toml")],
    )
    assert result.exit_code == 1
    output = flat(result.output)
    assert "Traceback" not in output
    assert "error: 13 problems in the input" in output
    for expected in (
        "bad_products.csv, row 1: missing required column: stock (库存/",
        "row 3, column '日常价': not a number",
        "(got '二百五十九元')",
        "row 4, column '成本价': must not be negative (got '-5.00')",
        "row 5, column '日常价': more than two decimals",
        "row 6, column 'SKU编码': duplicate SKU: already on row 2 (got 'M18-GOOD')",
        "row 8, column '角色': unknown role",
        "row 8, column '限购': must be at least 1",
        "row 8, column '买二送一': expected yes/no",
        "bad_rules.toml: section platform: unknown key 'comission_rate'",
        "bad_rules.toml: unknown section 'promo'",
        "platform.min_discount: input should be less than 1 (got '1.5')",
        "store.shipping_cost: has more than two decimals",
        "coupons.candidates item 2: a coupon must save less than its threshold",
        "the header is row 1",
        "warning: ",
        "row 7, column '成本价': cost above the everyday price",
    ):
        assert expected in output, expected


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["validate", str(DATA / "does_not_exist.csv")], "does_not_exist.csv: file not found"),
        (["validate", str(DATA / "empty.csv")], "empty.csv: the file is empty"),
        (["validate", str(DATA / "header_only.csv")], "header_only.csv, row 1: no products"),
        (["validate", str(DATA / "wrong_encoding.csv")], "neither UTF-8 nor GBK"),
        (["validate", "--rules", str(DATA / "malformed.toml")], "not valid TOML: line 3"),
        (["validate", "--rules", str(DATA / "missing.toml")], "missing.toml: file not found"),
    ],
)
def test_unreadable_inputs_are_one_clear_error(arguments: list[str], expected: str) -> None:
    result = runner.invoke(cli.app, arguments)
    assert result.exit_code == 1
    output = flat(result.output)
    assert output.startswith("error: 1 problem in the input")
    assert expected in output
    assert "Traceback" not in output


def test_warnings_alone_do_not_fail_validation(tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text("sku,list_price,unit_cost,stock,base_units\nA,39,45,1,1\n")
    result = runner.invoke(cli.app, ["validate", str(products)])
    assert result.exit_code == 0
    assert "warning: " in result.output and "cost above the everyday price" in flat(result.output)


def test_the_installed_command_runs_as_a_real_process() -> None:
    executable = Path(sys.executable).with_name("price-opt")
    completed = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "validate" in completed.stdout
