"""``price-opt export`` and ``price-opt report``: exit codes, messages, files, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from plan_examples import LOSING_CHOICES, plan_with_files
from typer.testing import CliRunner

import cli
from pricing.formats.plans import load_plan_prices, read_plan
from pricing.formats.sheets import PlanPrices, review_path

if TYPE_CHECKING:
    from conftest import PlannedStore

runner = CliRunner()


def flat(text: str) -> str:
    """The output with line wrapping undone."""
    return " ".join(text.split())


def test_export_writes_the_sheet_and_says_what_it_holds(tmp_path: Path) -> None:
    plan, _, plan_path = plan_with_files(tmp_path)
    out = tmp_path / "报名表.xlsx"
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 products; coupon tiers 199-15, 399-30; buy-two-get-one 2 products" in flat(
        result.output)
    assert load_plan_prices(out) == PlanPrices.of_plan(plan)


def test_export_refuses_a_losing_plan_with_exit_6_and_writes_nothing(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path, choices=LOSING_CHOICES)
    out = tmp_path / "sheet.xlsx"
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out)])
    assert result.exit_code == 6
    assert "M24-AE86" in flat(result.output) and "--drop-failing" in flat(result.output)
    assert not out.exists()


def test_export_drop_failing_says_which_products_were_removed(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path, choices=LOSING_CHOICES)
    out = tmp_path / "sheet.csv"
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out),
                                     "--drop-failing", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "removed: M24-AE86" in flat(result.output)
    assert "M24-AE86" not in load_plan_prices(out).joins
    assert (tmp_path / "sheet.settings.csv").is_file()


def test_export_needs_products_when_the_recorded_file_is_gone(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    moved = tmp_path / "elsewhere.csv"
    (tmp_path / "products.csv").rename(moved)
    out = tmp_path / "sheet.xlsx"
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out)])
    assert result.exit_code == 1 and "pass --products" in flat(result.output)
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out),
                                     "--products", str(moved)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("option", "value"), [("--stock-factor", "abc"),
                                               ("--stock-factor", "0"), ("--lang", "fr")])
def test_export_rejects_bad_options(tmp_path: Path, option: str, value: str) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out",
                                     str(tmp_path / "s.xlsx"), option, value])
    assert result.exit_code == 2 and option in result.output


def test_export_stock_factor_scales_activity_stock(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    out = tmp_path / "sheet.xlsx"
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(out),
                                     "--stock-factor", "1.5"])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(review_path(out)).worksheets[0]
                .iter_rows(values_only=True))
    stock = {row[2]: row[7] for row in rows[1:]}
    assert stock["M18-911-WH"] == 600  # ceil(588 × 1.5) = 882, capped at the stock of 600
    assert stock["M24-AE86"] == 1890  # ceil(1260 × 1.5)
    upload = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert sorted(row[3] for row in upload[1:]) == sorted(stock.values())


def test_stock_factor_below_one_is_refused_as_it_would_offer_less_than_the_forecast(
    tmp_path: Path,
) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out",
                                     str(tmp_path / "s.xlsx"), "--stock-factor", "0.8"])
    assert result.exit_code == 2 and "at least 1" in result.stderr


def test_report_writes_one_html_file(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    out = tmp_path / "report.html"
    result = runner.invoke(cli.app, ["report", str(plan_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 products, 5 price waterfalls" in flat(result.output)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_of_a_losing_plan_warns_but_renders(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path, choices=LOSING_CHOICES)
    result = runner.invoke(cli.app, ["report", str(plan_path), "--out",
                                     str(tmp_path / "r.html")])
    assert result.exit_code == 0
    assert "fails the exact checker for 1 product(s): M24-AE86" in flat(result.output)


def test_plan_then_export_then_report_on_the_samples(
    tmp_path: Path, sample_plan: PlannedStore
) -> None:
    """The issue's "done when": plan, export to 报名表.xlsx, report, all from the samples.
    (``price-opt plan`` with no arguments ran in the session's sample_plan fixture.)"""
    cwd = Path.cwd()
    sample_plan.copy_to(tmp_path)
    os.chdir(tmp_path)
    try:
        exported = runner.invoke(cli.app, ["export", "plan.json", "--out", "报名表.xlsx", "--lang",
                                           "zh"])
        assert exported.exit_code == 0, exported.output
        reported = runner.invoke(cli.app, ["report", "plan.json"])
        assert reported.exit_code == 0, reported.output
        checked = runner.invoke(cli.app, ["check", "--plan", "报名表.xlsx", "--show", "0"])
        assert checked.exit_code == 0, checked.output  # the sheet reads back and passes
    finally:
        os.chdir(cwd)
    plan = read_plan(tmp_path / "plan.json")
    assert load_plan_prices(tmp_path / "报名表.xlsx") == PlanPrices.of_plan(plan)
    workbook = openpyxl.load_workbook(tmp_path / "报名表.xlsx")
    assert workbook.sheetnames == ["商品报名表"]
    assert openpyxl.load_workbook(tmp_path / "报名表.review.xlsx").sheetnames == [
        "核对表", "店铺设置"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and len(page.encode()) < 1_000_000  # inline SVG, no chart library


def test_export_help_runs_as_a_real_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "export", "--help"],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0
    assert "--drop-failing" in result.stdout and "--stock-factor" in result.stdout
