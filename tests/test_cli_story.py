"""One story across commands: quote shows the margin the checker computes for the same cart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import cli
from models.money import format_yuan
from pricing.commands import run_check
from pricing.engine.stacking import quote
from pricing.formats.products import load_products
from pricing.formats.rules import load_rules
from pricing.formats.samples import sample_products_path, sample_rules_path
from pricing.query_commands import run_quote
from pricing.verify.checker import cart_margins

if TYPE_CHECKING:
    from conftest import PlannedStore

    from pricing.commands import CheckRun

runner = CliRunner()


@pytest.fixture(scope="module")
def witness(
    tmp_path_factory: pytest.TempPathFactory, sample_check_at_half: CheckRun
) -> tuple[Path, str, str]:
    """The sample store's worst loser at 5折, its witness cart written by check."""
    folder = tmp_path_factory.mktemp("witnesses")
    result = runner.invoke(cli.app, ["check", "--witness-dir", str(folder), "--show", "0"])
    assert result.exit_code == 1
    loser = sample_check_at_half.result.losers[0]
    margin = loser.worst_unit_margin_fen
    assert margin is not None
    return folder / f"{loser.sku}.json", loser.sku, format_yuan(margin)


def test_quote_with_products_shows_the_checkers_margin_per_line(
    witness: tuple[Path, str, str],
) -> None:
    """GIVEN the worst cart check found for a loser, WHEN quote is given the products,
    THEN each line of the store shows commission, cost, shipping share and the same margin."""
    cart_path, sku, unit_margin = witness
    run = run_quote(cart_path, sample_products_path(), sample_rules_path())
    rules = load_rules(sample_rules_path())
    costs = {line.sku: 0 for line in run.cart.lines}
    costs.update({p.sku: p.unit_cost_fen for p in load_products(sample_products_path())[0]})
    margins, _ = cart_margins(run.cart, quote(run.cart), costs, rules)
    for economics, margin in zip(run.economics, margins, strict=True):
        if economics is not None:
            assert economics.margin_fen == margin
    assert unit_margin in {format_yuan(e.unit_margin_fen) for e in run.economics if e}

    shown = runner.invoke(cli.app, ["quote", str(cart_path), "--products",
                                    str(sample_products_path())])
    assert shown.exit_code == 0, shown.output
    for label in ("Commission", "Cost", "Shipping share", "Margin per unit"):
        assert label in shown.output
    assert f"-{unit_margin.lstrip('-')}" in shown.output
    data = json.loads(runner.invoke(cli.app, ["quote", str(cart_path), "--products",
                                              str(sample_products_path()), "--json"]).stdout)
    line = next(line for line in data["lines"] if line["sku"] == sku)
    assert {"commission", "cost", "handling", "shipping_share", "margin"} <= set(line)


def test_quote_rules_without_products_is_an_input_error(witness: tuple[Path, str, str]) -> None:
    cart_path, _, _ = witness
    result = runner.invoke(cli.app, ["quote", str(cart_path), "--rules", str(sample_rules_path())])
    assert result.exit_code == 2 and "--products" in result.stderr


def test_plans_and_sheets_are_stamped_on_the_stores_clock(
    tmp_path: Path, small_plan: PlannedStore
) -> None:
    """GIVEN the default [store] timezone (Asia/Shanghai) WHEN a plan is made and exported THEN
    both times carry +08:00, the day a merchandiser in China sees on the wall."""
    plan = small_plan.path
    created = json.loads(plan.read_text(encoding="utf-8"))["inputs"]["created_at"]
    assert created.endswith("+08:00")
    out = tmp_path / "s.csv"
    assert runner.invoke(cli.app, ["export", str(plan), "--out", str(out)]).exit_code == 0
    settings = (tmp_path / "s.settings.csv").read_text(encoding="utf-8-sig")
    assert "Exported at" in settings or "导出时间" in settings
    assert any(line.split(",")[1].endswith("+08:00") for line in settings.splitlines()
               if line.startswith(("导出时间", "Exported at")))


def test_the_store_timezone_is_a_rules_key(tmp_path: Path, small_store: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[store]\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    plan = tmp_path / "plan.json"
    result = runner.invoke(cli.app, ["plan", str(small_store), "--rules", str(rules), "--out",
                                     str(plan), "--show", "0"])
    assert result.exit_code == 0, result.output
    created = json.loads(plan.read_text(encoding="utf-8"))["inputs"]["created_at"]
    assert created.endswith(("+01:00", "+02:00"))
    rules.write_text('[store]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    bad = runner.invoke(cli.app, ["validate", "--rules", str(rules)])
    assert bad.exit_code == 1 and "unknown time zone" in bad.stderr


def test_report_and_check_count_the_same_products_at_half_price(
    tmp_path: Path, small_store: Path, small_plan: PlannedStore
) -> None:
    """GIVEN ten of the sample's products (six lose at half price) WHEN check --discount 5折
    and the report's 50%-off test run THEN they count the same products (same coupons: every
    candidate; B2G1 off; same definition)."""
    plan = small_plan.path
    checked = run_check(small_store, None, "5折").result
    not_safe = {row.sku for row in checked.products if not row.proven_safe}
    from pricing.commands import run_report

    report = run_report(plan, None, None, tmp_path / "r.html", "en")
    assert set(report.losers_at_half) == not_safe
    assert len(checked.losers) + len(checked.unproven) == len(not_safe)
    shown = runner.invoke(cli.app, ["report", str(plan), "--out", str(tmp_path / "r2.html")])
    assert f"{len(not_safe)} not proven safe at 5折 / 50% off" in " ".join(shown.output.split())
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "price-opt check --discount 5折" in html
