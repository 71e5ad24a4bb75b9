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
