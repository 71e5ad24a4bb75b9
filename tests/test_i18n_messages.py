"""The details of input problems, warnings and notes speak Chinese or English (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from pricing.formats.samples import sample_products_path
from pricing.outputs.i18n import MESSAGES_ZH, tr_message

runner = CliRunner()


def test_message_placeholders_are_the_same_in_both_languages() -> None:
    for english, chinese in MESSAGES_ZH.items():
        assert set(re.findall(r"\{(\w+)\}", english)) == set(
            re.findall(r"\{(\w+)\}", chinese)), english


@pytest.mark.parametrize(("english", "chinese"), [
    ("empty; expected the SKU code", "为空；应为SKU 编码"),
    ("duplicate SKU: already on row 3", "SKU 重复：第 3 行已有"),
    ("not a number; expected an amount in yuan with at most two decimals, e.g. 199.00",
     "不是数字；应为以元为单位、最多两位小数的金额，例如 199.00"),
    ("ignored unknown column 备注; accepted columns: sku, title",
     "已忽略未知列 备注；可用的列：sku, title"),
    ("3 joining product(s) have no sku_id (SKU ID) in the products file, so their SKU ID cell "
     "in the upload sheet is empty: A, B, C",
     "3 个报名商品在商品文件中没有 sku_id（SKU ID），上传表中它们的 SKU ID 为空：A, B, C"),
    ("the history has no promo column: promo lift 1 for every SKU",
     "历史数据没有 promo 列：每个 SKU 的促销提升为 1"),
])
def test_library_messages_are_translated_whole_or_piece_by_piece(
    english: str, chinese: str
) -> None:
    assert tr_message(english, "zh") == chinese
    assert tr_message(english, "en") == english


def test_an_unknown_piece_stays_english_and_the_rest_is_translated() -> None:
    assert tr_message("must be above zero; see the manual", "zh") == "必须大于 0；see the manual"


def _bad_products(tmp_path: Path) -> Path:
    lines = sample_products_path().read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    price_column = next(i for i, name in enumerate(header) if name in ("list_price", "日常价"))
    row[price_column] = '"1,2.00"'
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    return path


def test_an_input_problems_detail_is_in_chinese(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["validate", str(_bad_products(tmp_path)), "--lang", "zh"])
    assert result.exit_code == 1
    assert "千位分隔符必须每三位一个" in result.stderr and "应为以元为单位" in result.stderr
    assert "expected" not in result.stderr


def test_an_input_problems_detail_stays_english_in_english(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["validate", str(_bad_products(tmp_path)), "--lang", "en"])
    assert result.exit_code == 1
    assert "a thousands separator must come every three digits" in result.stderr


def test_the_pydantic_templates_are_the_ones_pydantic_writes() -> None:
    """The catalogue knows pydantic's messages by error type; a pydantic that words one
    differently would leave it in English, so the templates are held to the installed one."""
    from pydantic_core._pydantic_core import list_all_errors

    from pricing.outputs.i18n import PYDANTIC_ZH

    written = {error["type"]: error["message_template_python"] for error in list_all_errors()}
    for error_type, (english, chinese) in PYDANTIC_ZH.items():
        assert written[error_type] == english, error_type
        named = set(re.findall(r"\{(\w+)\}", chinese))
        assert named <= set(re.findall(r"\{(\w+)\}", english)), error_type


@pytest.mark.parametrize(("english", "chinese"), [
    ("platform.commission_rate: input should be less than 1",
     "platform.commission_rate：应小于 1"),
    ("store.margin_floor_rate: input should be greater than or equal to 0",
     "store.margin_floor_rate：应不小于 0"),
    ("ladder.levels item 2: expected a share as a number, e.g. 0.05",
     "ladder.levels 第 2 项：应为以数字表示的比例，例如 0.05"),
    ("Input should be a valid number", "应为数字"),
    ("platform.mechanism: input should be 'cross_store', 'official' or 'none'",
     "platform.mechanism：应为 'cross_store'、'official' 或 'none'"),
    ("Input should be 'a, b' or 'c'", "应为 'a, b' 或 'c'"),  # a comma inside a value stays
    ("coupons.tiers: list should have at least 1 item after validation, not 0",
     "coupons.tiers：至少应有 1 项，而不是 0 项"),
    ("ladder.levels: every level must be a share of the everyday price in [0.01, 1]",
     "ladder.levels：每个折扣档都必须是日常价的比例，在 [0.01, 1] 之间"),
    ("store.timezone: unknown time zone 'Mars/Base'; expected an IANA name such as "
     "Asia/Shanghai",
     "store.timezone：未知的时区 'Mars/Base'；应为 IANA 时区名，例如 Asia/Shanghai"),
    ("platform.commission_rate: something we never wrote", None),  # unknown: stays English
])
def test_pydantic_messages_are_translated_by_error_type_keeping_values(
    english: str, chinese: str | None
) -> None:
    assert tr_message(english, "zh") == (chinese or english)
    assert tr_message(english, "en") == english


def test_a_rules_files_errors_are_in_chinese(tmp_path: Path) -> None:
    """GIVEN a rules file whose values pass reading but not the rules model (pydantic's own
    checks) WHEN validated in Chinese THEN no English wording of pydantic is left, and each
    problem keeps its key and the value given."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[platform]\ncommission_rate = 1.5\nmechanism = "foo"\n\n[store]\n'
                     "margin_floor_rate = -0.5\n\n[coupons]\nmax_tiers = 2.5\n",
                     encoding="utf-8")
    result = runner.invoke(cli.app, ["validate", "--rules", str(rules), "--lang", "zh"])
    assert result.exit_code == 1
    assert "platform.commission_rate：应小于 1（值为 '1.5'）" in result.stderr
    assert "store.margin_floor_rate：应不小于 0（值为 '-0.5'）" in result.stderr
    assert "platform.mechanism：应为 'cross_store'" in result.stderr
    assert "coupons.max_tiers：应为整数（值为 '2.5'）" in result.stderr
    assert "nput should" not in result.stderr and "expected" not in result.stderr
    english = runner.invoke(cli.app, ["validate", "--rules", str(rules), "--lang", "en"])
    assert "platform.commission_rate: input should be less than 1" in english.stderr
