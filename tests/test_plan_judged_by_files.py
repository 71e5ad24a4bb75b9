"""export, report and check --plan judge a plan by the products and rules files, never by the
rules stored inside the plan (a hand-edited plan cannot loosen them)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from plan_examples import RULES, plan_with_files, write_rules_toml
from typer.testing import CliRunner

import cli
from models.rules import PlatformRules, Rules, StoreRules

runner = CliRunner()
HARSH = Rules(
    platform=PlatformRules(commission_rate=Decimal("0.25")),
    store=StoreRules(shipping_cost_fen=3000, handling_cost_fen=150),
)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", ["export", "report", "check"])
def test_rules_changed_on_disk_refuse_the_plan_unless_rules_is_given(
    tmp_path: Path, command: str
) -> None:
    """GIVEN a plan, and then rules.toml raised to 25% commission and ¥30 shipping
    WHEN export/report/check --plan runs without --rules
    THEN it is refused, naming the keys that differ; with --rules rules.toml the plan is
    judged by the file: export refuses it with exit 6, check exits 1."""
    _, _, plan_path = plan_with_files(tmp_path)
    write_rules_toml(tmp_path / "rules.toml", HARSH)
    args = (["check", "--plan", str(plan_path)] if command == "check"
            else [command, str(plan_path), "--out", str(tmp_path / f"out.{command}.html"
                                                         if command == "report" else
                                                         tmp_path / "sheet.xlsx")])
    refused = runner.invoke(cli.app, args)
    assert refused.exit_code == 1, refused.output
    text = flat(refused.output)
    assert "the rules the plan records differ from" in text
    assert "platform.commission_rate" in text and "store.shipping_cost" in text
    assert "pass --rules" in text
    judged = runner.invoke(cli.app, [*args, "--rules", str(tmp_path / "rules.toml")])
    assert "the plan was made with other rules" in flat(judged.output)
    if command == "export":
        assert judged.exit_code == 6 and not (tmp_path / "sheet.xlsx").exists()
    elif command == "check":
        assert judged.exit_code == 1 and "lose money" in flat(judged.output)
    else:
        assert judged.exit_code == 0 and "fails the exact checker" in flat(judged.output)


def test_a_plan_whose_recorded_rules_were_loosened_by_hand_is_refused(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    document = json.loads(plan_path.read_text(encoding="utf-8"))
    document["inputs"]["rules"]["platform"]["commission_rate"] = "0"
    document["inputs"]["rules"]["store"]["shipping_cost"] = "0.00"
    plan_path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out",
                                     str(tmp_path / "s.xlsx")])
    assert result.exit_code == 1 and "differ from" in flat(result.output)
    assert not (tmp_path / "s.xlsx").exists()


def test_check_plan_reads_the_products_and_rules_the_plan_records(tmp_path: Path) -> None:
    """Not the bundled samples: the plan's SKUs are found and judged by its own files."""
    _, _, plan_path = plan_with_files(tmp_path)
    result = runner.invoke(cli.app, ["check", "--plan", str(plan_path), "--json"])
    assert result.exit_code == 0, result.output
    skus = {row["sku"] for row in json.loads(result.stdout)["products"]}
    assert skus == {"M18-911-WH", "M18-GTR-BK", "M24-AE86", "M24-BTL-YL", "M64-MINI"}


def test_a_plan_with_no_products_is_refused(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    document = json.loads(plan_path.read_text(encoding="utf-8"))
    document["products"] = []
    plan_path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    for args in (["export", str(plan_path), "--out", str(tmp_path / "s.xlsx")],
                 ["check", "--plan", str(plan_path)]):
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 1, result.output
        assert "the plan lists no products" in flat(result.output)


def test_a_product_missing_from_the_plan_is_stated(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    document = json.loads(plan_path.read_text(encoding="utf-8"))
    document["products"] = [p for p in document["products"] if p["sku"] != "M18-911-WH"]
    plan_path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(tmp_path / "s.xlsx")])
    assert "hero products among them: M18-911-WH" in flat(result.output)


def test_rules_unchanged_are_fine_without_rules(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path, rules=RULES)
    result = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    assert "other rules" not in flat(result.output)
