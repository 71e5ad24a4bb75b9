"""Reading sales histories and scenarios: headers in English or Chinese, CSV or .xlsx, the
period inferred, and every bad cell reported at once by row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from models.demand import Period
from pricing.errors import InputError
from pricing.formats.history import load_history, load_scenario

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def write(tmp_path: Path, text: str, name: str = "history.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_sample_history_reads_as_daily_60_skus() -> None:
    history = load_history(SAMPLES / "history.csv")
    assert history.period is Period.DAY
    assert len(history.skus) == 60
    assert history.rows == 60 * 365 - 305  # one SKU launched 60 days before the end
    assert "period inferred: day" in history.describe()
    assert history.has_promo and history.has_feature and history.has_category


def test_chinese_headers_gbk_and_weekly_rows(tmp_path: Path) -> None:
    text = (
        "日期,商家编码,支付件数,支付单价,是否活动,会场,类目,访客数\n"
        "2025-11-03,A,10,99,是,0,车模,100\n"
        "2025-11-10,A,0,,否,0,车模,90\n"
        "2025-11-24,A,12,89.5,1,1,车模,120\n"
    )
    history = load_history(write(tmp_path, text, encoding="gbk"))
    assert history.period is Period.WEEK
    assert history.promo.tolist() == [True, False, True]
    assert history.feature.tolist() == [False, False, True]
    assert history.price.tolist() == [99.0, 99.0, 89.5]  # the zero-unit row's price carried
    assert history.price_filled == 1
    assert history.categories == ("车模",)


def test_xlsx_with_date_cells_and_serial_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["date", "SKU", "销量", "成交均价"])
    from datetime import datetime

    sheet.append([datetime(2025, 11, 1), "A", 3, 10.5])
    sheet.append([45963, "A", 4, 10.5])  # 2025-11-02 as an Excel serial number
    path = tmp_path / "history.xlsx"
    workbook.save(path)
    history = load_history(path)
    assert history.dates.tolist() == [np.datetime64("2025-11-01"), np.datetime64("2025-11-02")]
    assert history.period is Period.DAY


def test_every_bad_cell_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "date,sku,units,price,promo,colour\n"
        "2025-11-01,A,3,10,1,\n"
        "2025-11-01,A,-1,abc,2,\n"
        "2025-13-01,,2,,0,\n"
        "2025-11-02,B,x,5,,\n"
    )
    with pytest.raises(InputError) as caught:
        load_history(write(tmp_path, text))
    rendered = [p.render() for p in caught.value.problems]
    joined = "\n".join(rendered)
    assert "row 1: unknown column 'colour'" in joined
    assert "row 3, column 'date': a second row for this SKU and date: already on row 2" in joined
    assert "row 3, column 'units': must not be negative (got '-1')" in joined
    assert "row 3, column 'price': not a number" in joined
    assert "row 3, column 'promo': expected 0/1" in joined
    assert "row 4, column 'date': not a date" in joined
    assert "row 4, column 'sku': empty" in joined
    assert "row 4, column 'price': empty" in joined
    assert "row 5, column 'units': not a number" in joined
    assert all(str(tmp_path) in line for line in rendered)


def test_missing_columns_and_odd_periods_are_explained(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing required columns: units"):
        load_history(write(tmp_path, "date,sku\n2025-11-01,A\n"))
    monthly = "date,sku,units,price\n2025-01-01,A,1,9\n2025-01-31,A,1,9\n2025-03-02,A,1,9\n"
    with pytest.raises(InputError, match="30 days apart"):
        load_history(write(tmp_path, monthly))
    with pytest.raises(InputError, match="file not found"):
        load_history(tmp_path / "nope.csv")


def test_a_scenario_uses_the_history_headers(tmp_path: Path) -> None:
    text = "日期,SKU,成交均价,活动\n2026-11-11,A,89,1\n2026-11-11,B,50,\n"
    scenario = load_scenario(write(tmp_path, text, "scenario.csv"))
    assert scenario.skus.tolist() == ["A", "B"]
    assert scenario.promo.tolist() == [True, False]
    assert scenario.rows.tolist() == [2, 3]
    with pytest.raises(InputError, match="unknown column 'units'"):
        load_scenario(write(tmp_path, "date,sku,price,units\n2026-11-11,A,1,2\n", "s.csv"))


def test_infinite_numbers_are_refused_on_the_fast_path_too(tmp_path: Path) -> None:
    text = "date,sku,units,price\n2025-11-01,A,inf,2\n2025-11-02,A,1,1e400\n"
    with pytest.raises(InputError) as caught:
        load_history(write(tmp_path, text))
    rendered = "\n".join(p.render() for p in caught.value.problems)
    assert "row 2, column 'units': not a number" in rendered
    assert "row 3, column 'price': not a number" in rendered
