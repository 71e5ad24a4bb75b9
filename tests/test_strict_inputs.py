"""The products file read strictly: numbers, ranges, text, formulas, IDs, encodings, sheets."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import cli
from pricing.errors import InputError, Problem
from pricing.formats.products import load_products

runner = CliRunner()
HEADER = "sku,list_price,unit_cost,stock,base_units"


def write(directory: Path, text: str, name: str = "products.csv") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, sheet: str | None = None) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_products(path, sheet)
    return caught.value.problems


@pytest.mark.parametrize(("cell", "says"), [
    ('"1,2.00"', "thousands separator must come every three digits"),
    ('"12,3456.00"', "thousands separator must come every three digits"),
    ("0.5e3", "without an exponent"),
    ("1e2", "without an exponent"),
    ("12元", "not a number"),
    ("100000000.01", "too large: at most 100,000,000 yuan"),
    ("9999999999", "too large: at most 100,000,000 yuan"),
])
def test_a_mistyped_price_is_an_error_naming_the_cell(
    tmp_path: Path, cell: str, says: str
) -> None:
    (problem,) = problems_of(write(tmp_path, f"{HEADER}\nA,{cell},1,1,1\n"))
    assert (problem.row, problem.column) == (2, "list_price") and says in problem.message


def test_every_bad_number_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(write(
        tmp_path, f'{HEADER}\nA,"1,2.00",1,1,1\nB,0.5e3,1,1,1\nC,"12,3456.00",1,1,1\n'
        "D,9,1,1e3,1\nE,9,1,2000000000,1\n"))
    assert [(p.row, p.column) for p in problems] == [
        (2, "list_price"), (3, "list_price"), (4, "list_price"), (5, "stock"), (6, "stock")]


def test_well_placed_separators_and_signs_are_read(tmp_path: Path) -> None:
    (product,), _ = load_products(write(tmp_path, f'{HEADER}\nA,"¥1,299.00","1,000",1,1\n'))
    assert (product.list_price_fen, product.unit_cost_fen) == (129900, 100000)


def test_a_catalogue_worth_more_than_the_cap_is_refused(tmp_path: Path) -> None:
    rows = "".join(f"P{i},100000000,1,1000000000,1\n" for i in range(200))
    (problem,) = problems_of(write(tmp_path, f"{HEADER}\n{rows}"))
    assert "the catalogue's stock is worth" in problem.message


@pytest.mark.parametrize(("column", "text"), [
    ("sku", "A\x01"), ("title", "车模\x1b[31m"), ("item_id", "68\x7f01"), ("category", "a\x00b"),
])
def test_control_characters_are_refused_with_the_cell_named(
    tmp_path: Path, column: str, text: str
) -> None:
    header = f"{HEADER},{column}" if column != "sku" else HEADER
    row = (f"A,9,1,1,1,{text}" if column != "sku" else f"{text},9,1,1,1")
    (problem,) = problems_of(write(tmp_path, f"{header}\n{row}\n"))
    assert problem.column == column and "control character U+00" in problem.message


def test_a_line_break_in_a_title_is_plain_text(tmp_path: Path) -> None:
    (product,), _ = load_products(write(tmp_path, f'{HEADER},title\nA,9,1,1,1,"两行\n标题"\n'))
    assert product.title == "两行\n标题"


def test_qianniu_headers_are_known_and_unknown_columns_are_one_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "商家编码,商品名称,日常价（元）,成本(元),库存（件）,预计销量,备注,颜色\n"
                           "M1,车模,199.00,80,10,5,急,红\n")
    (product,), warnings = load_products(path)
    assert (product.sku, product.title, product.list_price_fen) == ("M1", "车模", 19900)
    (warning,) = warnings
    assert warning.severity == "warning"
    assert "ignored unknown columns '备注', '颜色'" in warning.message


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


GOOD = [["sku", "list_price", "unit_cost", "stock", "base_units", "title"],
        ["A", 199, 80, 10, 5, "车模"]]


def test_sheet_picks_the_sheet_and_the_first_is_read_with_a_warning(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "p.xlsx", {"说明": [["这是说明"]], "商品": GOOD})
    problems = problems_of(path)
    assert problems and "sheet '说明'" in problems[0].file
    (product,), warnings = load_products(path, "商品")
    assert product.sku == "A" and warnings == []
    (missing,) = problems_of(path, "库存")
    assert "no sheet named '库存'" in missing.message and "'商品'" in missing.message
    result = runner.invoke(cli.app, ["validate", str(path), "--sheet", "商品"])
    assert result.exit_code == 0 and "(sheet '商品')" in result.output


def test_formula_cells_are_named_and_values_asked_for(tmp_path: Path) -> None:
    rows = [GOOD[0], ["A", "=1+1", 80, 10, 5, '=HYPERLINK("http://x","点我")'],
            ["B", 99, 30, 10, 5, "ok"]]
    (problem,) = problems_of(_workbook(tmp_path / "p.xlsx", {"商品": rows}))
    assert "2 formula cell(s): B2 '=1+1'; F2 '=HYPERLINK" in problem.message
    assert "paste it as values" in problem.message


def test_a_long_numeric_id_is_kept_exact_or_refused(tmp_path: Path) -> None:
    header = [*GOOD[0], "item_id"]
    rows = [header, ["A", 199, 80, 10, 5, "x", 680123450001],
            ["B", 199, 80, 10, 5, "x", 1e16 + 2], [123456789012345678, 199, 80, 10, 5, "x", 1]]
    problems = problems_of(_workbook(tmp_path / "p.xlsx", {"商品": rows}))
    assert [(p.row, p.column) for p in problems] == [(3, "item_id"), (4, "sku")]
    assert all("Excel keeps only 15" in p.message for p in problems)
    exact = _workbook(tmp_path / "q.xlsx", {"商品": [header, ["A", 199, 80, 10, 5, "x",
                                                              680123450001]]})
    (product,), _ = load_products(exact)
    assert product.item_id == "680123450001"


def test_a_utf8_bom_followed_by_gbk_rows_is_mixed_encodings(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER},title\nA,9,1,1,1,car\n".encode()
                     + "B,9,1,1,1,车模\n".encode("gbk"))
    (problem,) = problems_of(path)
    assert "mixed encodings" in problem.message and "line 3" in problem.message
    no_bom = tmp_path / "q.csv"
    no_bom.write_bytes(f"{HEADER},title\nA,9,1,1,1,车模\n".encode()
                       + "B,9,1,1,1,车模\n".encode("gbk"))
    (problem,) = problems_of(no_bom)
    assert "mixed encodings" in problem.message


def test_a_plain_gbk_file_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(f"{HEADER},商品标题\nA,9,1,1,1,车模\n".encode("gbk"))
    (product,), _ = load_products(path)
    assert product.title == "车模"


def test_every_bad_coupon_of_the_rules_is_reported_at_once(tmp_path: Path) -> None:
    from pricing.formats.rules import load_rules

    path = tmp_path / "rules.toml"
    path.write_text('[coupons]\ncandidates = [[0, 5.001], [99, 10], [299.999, 20], [599, "x"],'
                    " [999, 1e300], [1299, 120.555]]\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_rules(path)
    items = [p.message.split(":")[0] for p in caught.value.problems]
    assert items == [f"coupons.candidates item {n}" for n in (1, 3, 4, 5, 6)]


@pytest.mark.parametrize(("section", "text", "says"), [
    ("store", "shipping_cost = 1e308", "too large"),
    ("store", "budget = 1e300", "too large"),
    ("platform", "cross_store_every = 1e308", "too large"),
    ("demand", "coupon_response = 1e308", "less than or equal to 1000"),
    ("demand", "event_uplift = 1e308", "less than or equal to 100"),
    ("ladder", "levels = [0.9, 1e-300]", "[0.01, 1]"),
    ("demand", "default_elasticity = -inf", "greater than or equal to -50"),
    ("coupons", "max_tiers = 100", "less than or equal to 6"),
])
def test_rules_beyond_their_range_are_refused(
    tmp_path: Path, section: str, text: str, says: str
) -> None:
    from pricing.formats.rules import load_rules

    path = tmp_path / "rules.toml"
    path.write_text(f"[{section}]\n{text}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_rules(path)
    assert says in str(caught.value)
