"""The CLI speaks Chinese or English, prints money and forecasts as people read them, and
never cuts a number in a table."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

import cli
from pricing.outputs import render
from pricing.outputs.i18n import (
    ZH,
    default_lang,
    discount_forms,
    money,
    money_summary,
    tr,
    units,
    yuan,
)
from pricing.verify.margin_check import parse_discount

if TYPE_CHECKING:
    from conftest import PlannedStore

    from pricing.commands import CheckRun

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
COMMANDS = ("validate", "plan", "quote", "check", "export", "report")


# --- the language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "zh"),
        ({"LANG": "C.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"PRICE_OPT_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
        ({"PRICE_OPT_LANG": "klingon", "LANG": "en_US.UTF-8"}, "en"),
    ],
)
def test_the_default_language_is_price_opt_lang_then_the_locale_then_chinese(
    environ: dict[str, str], expected: str
) -> None:
    assert default_lang(environ) == expected


def _help_texts() -> list[str]:
    group = get_command(cli.app)
    texts = [" ".join((group.help or "").split())]
    for command in group.commands.values():  # type: ignore[attr-defined]
        texts.extend(" ".join(part.split()) for part in (command.help or "").split("\n\n"))
        texts.extend(getattr(param, "help", None) or "" for param in command.params)
    return [text for text in texts if text]


def test_every_help_text_has_a_chinese_translation() -> None:
    missing = [text for text in _help_texts() if text not in ZH]
    assert not missing


def test_every_command_takes_lang() -> None:
    group = get_command(cli.app)
    for name in COMMANDS:
        command = group.commands[name]  # type: ignore[attr-defined]
        assert any("--lang" in param.opts for param in command.params), name


def test_catalogue_placeholders_are_the_same_in_both_languages() -> None:
    for english, chinese in ZH.items():
        assert set(re.findall(r"\{(\w+)", english)) == set(re.findall(r"\{(\w+)", chinese)), english


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_follows_lang(lang: str) -> None:
    result = runner.invoke(cli.app, ["plan", "--help", "--lang", lang])
    assert result.exit_code == 0
    assert ("制定活动方案" in result.output) == (lang == "zh")
    assert ("Plan the event" in result.output) == (lang == "en")


def test_help_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICE_OPT_LANG", "zh")
    result = runner.invoke(cli.app, ["-h"])
    assert result.exit_code == 0 and "淘宝/天猫" in result.output and "命令" in result.output


def test_chinese_help_as_a_real_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "check", "-h", "--lang", "zh"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    assert result.returncode == 0 and "所有商品按此折扣定价" in result.stdout


def test_validate_plan_and_check_speak_chinese(tmp_path: Path, small_store: Path) -> None:
    validated = runner.invoke(cli.app, ["validate", "--lang", "zh"])
    assert validated.exit_code == 0 and "通过：两个文件都有效。" in validated.output
    planned = runner.invoke(cli.app, ["plan", str(small_store), "--out", str(tmp_path / "p.json"),
                                      "--lang", "zh"])
    assert planned.exit_code == 0
    assert "预计利润" in planned.output and "万" in planned.output
    checked = runner.invoke(cli.app, ["check", str(small_store), "--lang", "zh", "--show", "5"])
    assert checked.exit_code == 1 and "亏本" in checked.output and "5折 / 减50%" in checked.output


def test_errors_are_framed_in_the_chosen_language() -> None:
    result = runner.invoke(cli.app, ["check", "--discount", "half", "--lang", "zh"])
    assert result.exit_code == 2  # a bad option value is a usage error
    assert result.stderr.startswith("错误：输入中有 1 处问题：")
    assert "应为 5折、8.5折、50% 或 0.5" in result.stderr
    english = runner.invoke(cli.app, ["check", "--discount", "half"])
    assert english.stderr.startswith("error: 1 problem in the input:")


def test_an_unknown_language_is_an_input_error() -> None:
    result = runner.invoke(cli.app, ["validate", "--lang", "fr"])
    assert result.exit_code == 2 and "expected zh or en" in result.stderr


# --- numbers ----------------------------------------------------------------------------------


def test_money_has_thousands_separators_and_wan_in_chinese_summaries() -> None:
    assert yuan(75147348160) == "751,473,481.60"
    assert money(-125050) == "-¥1,250.50"
    assert money_summary(105795166, "zh") == "¥105.80万"  # ¥1,057,951.66
    assert money_summary(75147348160, "zh") == "¥7.51亿"
    assert money_summary(999999, "zh") == "¥9,999.99"
    assert money_summary(105795166, "en") == "¥1,057,951.66"


def test_forecasts_are_whole_units() -> None:
    assert units(960.4) == "960" and units(3020.6) == "3,021" and units(float("nan")) == "—"


@pytest.mark.parametrize(
    ("text", "off"),
    [("5折", "0.5"), ("五折", "0.5"), ("8.5折", "0.15"), ("八五折", "0.15"), ("50%", "0.5"),
     ("50% off", "0.5"), ("0.5", "0.5"), ("15%", "0.15"), (" 0.15 ", "0.15"), ("10折", "0")],
)
def test_discount_in_the_users_words(text: str, off: str) -> None:
    assert parse_discount(text) == Decimal(off)


@pytest.mark.parametrize("text", ["half", "1", "1.5", "0折", "11折", "5e-1", "50", "-0.1", ""])
def test_discount_refuses_what_is_not_one(text: str) -> None:
    with pytest.raises(Exception, match="expected a discount such as 5折"):
        parse_discount(text)


def test_discounts_are_shown_in_both_forms() -> None:
    assert discount_forms(Decimal("0.5"), "en") == "5折 / 50% off"
    assert discount_forms(Decimal("0.15"), "zh") == "8.5折 / 减15%"
    assert discount_forms(Decimal(0), "zh") == "原价"


def test_check_reads_every_form_of_half_price_the_same(small_store: Path) -> None:
    outputs = {
        form: json.loads(runner.invoke(cli.app, ["check", str(small_store), "--json",
                                                 "--discount", form]).stdout)
        for form in ("5折", "50%", "0.5")
    }
    assert outputs["5折"] == outputs["50%"] == outputs["0.5"]


# --- tables never cut a number ----------------------------------------------------------------


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?[\d,]+\.\d{2}", text))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [80, 60])
def test_plan_table_at_80_columns_shows_every_number_whole(
    sample_plan: PlannedStore, lang: str, width: int
) -> None:
    from pricing.commands import PlanRun
    from pricing.formats.plans import read_plan

    # The sample plan as written (plan → JSON → plan is the identity, test_planio.py), with a
    # total time as wide as a real one.
    run = PlanRun(read_plan(sample_plan.path), sample_plan.path, {"total": 23.27})
    console = Console(width=width, record=True, force_terminal=False)
    render.render_plan(console, run, 10, lang)
    text = console.export_text()
    assert all(len(line) <= width for line in text.splitlines() if "：" not in line
               and ":" not in line)
    ranked = sorted(run.plan.products, key=lambda d: -d.expected_profit_fen)[:10]
    shown = _numbers(text)
    for decision in ranked:
        assert decision.sku in text
        assert yuan(decision.expected_profit_fen) in shown
        assert yuan(decision.worst_unit_margin_fen) in shown
    assert "…" not in text and "..." not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_table_at_80_columns_shows_every_number_whole(
    sample_check_at_half: CheckRun, lang: str
) -> None:
    run = sample_check_at_half
    console = Console(width=80, record=True)
    render.render_check(console, run, 60, lang)
    text = console.export_text()
    shown = _numbers(text)
    for row in run.result.products:
        assert yuan(row.activity_price_fen) in shown and yuan(row.proven_bound_fen) in shown
        assert row.sku in text
    assert "…" not in text


def test_narrow_terminal_falls_back_to_one_record_per_line() -> None:
    console = Console(width=30, record=True)
    columns = [render.Column("SKU"), render.Column("Profit"), render.Column("Worst margin")]
    render.print_table(console, "t", columns, [(["ABCDEFGHIJKL", "1,234,567.89", "-12.34"], None)])
    text = console.export_text()
    assert "1,234,567.89" in text and "-12.34" in text and "ABCDEFGHIJKL" in text


# --- version, -h, completion, --show ----------------------------------------------------------


def test_version_and_short_help() -> None:
    version = runner.invoke(cli.app, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("price-opt ")
    for name in COMMANDS:
        assert runner.invoke(cli.app, [name, "-h"]).exit_code == 0, name


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(cli.app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output


def test_show_zero_lists_no_table_in_plan_and_check(tmp_path: Path, small_store: Path) -> None:
    planned = runner.invoke(cli.app, ["plan", str(small_store), "--show", "0", "--out",
                                      str(tmp_path / "p.json")])
    assert planned.exit_code == 0
    assert "Expected profit" in planned.output
    assert "Products (" not in planned.output and "M18-GTR35-BK" not in planned.output  # no table
    checked = runner.invoke(cli.app, ["check", str(small_store), "--show", "0"])
    assert "Worst cart per product" not in checked.output
    assert "products lose money" in checked.output  # the summary still counts them all


def test_show_below_zero_is_a_usage_error() -> None:
    assert runner.invoke(cli.app, ["check", "--show", "-1"]).exit_code == 2


def test_tr_falls_back_to_english() -> None:
    assert tr("no such message {x}", "zh", x=1) == "no such message 1"
