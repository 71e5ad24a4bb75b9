"""The upload sheet: the platform's columns only, a merchant's template filled by header name,
IDs kept as text in .xlsx and .csv."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
from openpyxl.styles import PatternFill
from plan_examples import plan_with_files
from typer.testing import CliRunner

import cli
from pricing.formats.plans import load_plan_prices, read_plan
from pricing.formats.sheets import PlanPrices, review_path
from pricing.outputs.upload import UploadRow, csv_id, fill_template

if TYPE_CHECKING:
    from conftest import PlannedStore

runner = CliRunner()


def _official_template(path: Path, rows: list[tuple[str, str]]) -> None:
    """A template shaped like the platform's big-promotion file: sheet 商品SKU导入列表, a title
    in row 1, headers in row 2, instructions in row 3, the store's SKUs from row 4."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active["A1"] = "填写说明：请勿修改表头"
    sheet = workbook.create_sheet("商品SKU导入列表")
    sheet["A1"] = "大促报名-商品SKU导入"
    headers = {"A": "商品ID", "D": "商品状态", "E": "SKUID", "L": "官方立减默认折扣",
               "P": "活动价", "S": "官方立减报名折扣", "T": "官方立减金额"}
    for column, header in headers.items():
        sheet[f"{column}2"] = header
        sheet[f"{column}2"].fill = PatternFill("solid", fgColor="FFFF00")
    sheet["A3"], sheet["E3"], sheet["P3"] = "必填，数字", "必填", "元，两位小数"
    for number, (item, sku) in enumerate(rows, start=4):
        sheet[f"A{number}"], sheet[f"E{number}"] = item, sku
        sheet[f"A{number}"].number_format = sheet[f"E{number}"].number_format = "@"
        sheet[f"D{number}"], sheet[f"L{number}"] = "在线", "10%"
    workbook.save(path)


def _row(sku: str, item: str, sku_id: str, price: int) -> UploadRow:
    return UploadRow(item_id=item, sku_id=sku_id, sku=sku, activity_price_fen=price,
                     activity_stock=10, purchase_limit=None)


def test_a_template_is_filled_by_header_name_and_keeps_everything_else(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    _official_template(template, [("680000000001", "5000000000001"),
                                  ("680000000001", "5000000000002"),
                                  ("699999999999", "5999999999999")])
    before = hashlib.sha256(template.read_bytes()).hexdigest()
    rows = [_row("A-1", "680000000001", "5000000000002", 19990),
            _row("A-2", "680000000001", "5000000000001", 9990),
            _row("B-1", "680000000003", "5000000000003", 4550)]
    result = fill_template(rows, template, tmp_path / "filled.xlsx")
    assert (result.filled, result.appended, result.untouched) == (2, 1, 1)
    assert hashlib.sha256(template.read_bytes()).hexdigest() == before  # never changed
    workbook = openpyxl.load_workbook(tmp_path / "filled.xlsx")
    assert workbook.sheetnames == ["说明", "商品SKU导入列表"]
    sheet = workbook["商品SKU导入列表"]
    assert sheet["A3"].value == "必填，数字" and sheet["P3"].value == "元，两位小数"
    assert sheet["P4"].value == 99.90 and sheet["P5"].value == 199.90  # matched by SKU ID
    assert sheet["P6"].value is None and sheet["E6"].value == "5999999999999"  # not joining
    assert (sheet["A7"].value, sheet["E7"].value, sheet["P7"].value) == (
        "680000000003", "5000000000003", 45.50)
    assert sheet["A7"].data_type == "s" and sheet["E7"].number_format == "@"
    assert sheet["D4"].value == "在线" and sheet["L4"].value == "10%"  # other columns kept
    assert sheet["E2"].fill.fgColor.rgb.endswith("FFFF00")


def test_export_with_a_template_on_ten_sample_products(
    tmp_path: Path, small_plan: PlannedStore
) -> None:
    plan = small_plan.path
    template = tmp_path / "模板.xlsx"
    _official_template(template, [("680123450001", "5012345600001")])
    out = tmp_path / "报名表.xlsx"
    result = runner.invoke(cli.app, ["export", str(plan), "--template", str(template), "--out",
                                     str(out), "--show", "0"])
    assert result.exit_code == 0, result.output
    joining = sum(d["joins"] for d in json.loads(plan.read_text(encoding="utf-8"))["products"])
    assert f"1 rows filled in the template, {joining - 1} added" in " ".join(
        result.output.split())
    sheet = openpyxl.load_workbook(out)["商品SKU导入列表"]
    assert sheet["E4"].value == "5012345600001" and sheet["P4"].value == 764.15
    assert sheet.max_row == 3 + joining
    # Reading the upload back goes through its review: the same prices as the plan.
    assert load_plan_prices(out) == load_plan_prices(plan)
    refused = runner.invoke(cli.app, ["export", str(plan), "--template", str(template),
                                      "--out", str(template), "--force"])
    assert refused.exit_code == 2 and "template" in refused.stderr


def test_a_template_without_the_columns_is_a_clear_error(tmp_path: Path) -> None:
    template = tmp_path / "t.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "随便什么"
    workbook.save(template)
    _, _, plan = plan_with_files(tmp_path)  # any plan: the template is what is wrong
    result = runner.invoke(cli.app, ["export", str(plan), "--template", str(template), "--out",
                                     str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1 and "no header row found" in result.stderr
    assert not (tmp_path / "o.xlsx").exists()


def test_csv_ids_stay_text_in_excel_and_read_back(tmp_path: Path, small_plan: PlannedStore) -> None:
    plan = small_plan.path
    out = tmp_path / "报名表.csv"
    result = runner.invoke(cli.app, ["export", str(plan), "--out", str(out), "--show", "0"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[0] == ["商品ID", "SKU ID", "活动价", "活动库存", "每人限购"]
    assert rows[1][:2] == ['="680123450001"', '="5012345600001"']  # Excel shows the digits
    assert csv_id("5012345600001") == '="5012345600001"' and csv_id("=1+1") == "'=1+1"
    assert review_path(out).is_file()
    assert load_plan_prices(out) == PlanPrices.of_plan(read_plan(plan))


def test_products_sku_id_must_be_digits(tmp_path: Path) -> None:
    products = tmp_path / "p.csv"
    products.write_text("sku,SKU ID,list_price,unit_cost,stock,base_units\n"
                        "A,5012345600001,99,50,10,5\nB,50-12,99,50,10,5\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["validate", str(products)])
    assert result.exit_code == 1 and "numeric SKU ID" in result.stderr and "row 3" in result.stderr
