"""The submission sheet: columns and values, refusals, removals, text safety, the round trip."""

from __future__ import annotations

import csv
import io
import os
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from plan_examples import (
    LOSING_CHOICES,
    RULES,
    SIGNUP_FAILING_CHOICES,
    TIERS,
    build_plan,
    catalogue,
)
from strategies import examples

from models.cart import Cart
from models.money import discount_label
from models.product import Product
from models.rules import CouponTier
from pricing.engine.stacking import quote
from pricing.errors import ExportRefusedError, InputError
from pricing.formats.plan_context import PlanContext
from pricing.formats.plans import load_plan_prices
from pricing.formats.sheets import PlanPrices, companion_settings_path, review_path, xlsx_text
from pricing.outputs.export import ExportOptions, activity_stock, export_plan
from pricing.outputs.judge import lowest_paid_fen
from pricing.verify.checker import STORE
from pricing.verify.store import store_setup

ZH_HEADERS = ["商品ID", "SKU ID", "SKU", "商品标题", "日常价", "活动价", "折扣", "活动库存",
              "预计销量", "库存", "每人限购", "买二送一", "超级立减让利比例", "最低到手价",
              "单件最低毛利", "是否满足报名规则"]
EN_HEADERS = ["Item ID", "SKU ID", "SKU", "Title", "List price", "Activity price", "Discount",
              "Activity stock", "Expected units", "Stock", "Limit per buyer", "Buy 2 get 1",
              "Super instant %", "Lowest paid price", "Worst unit margin", "Meets sign-up rules"]
UPLOAD_HEADERS = ["商品ID", "SKU ID", "活动价", "活动库存", "每人限购"]


def _context(choices: dict | None = None, products: tuple[Product, ...] | None = None,
             tiers: tuple[CouponTier, ...] = TIERS) -> PlanContext:
    products = products or catalogue()
    plan, _ = build_plan(products, RULES, choices, tiers)
    return PlanContext(plan=plan, products=products, rules=RULES)


def _rows(path: Path, sheet: int = 0) -> list[list[object]]:
    workbook = openpyxl.load_workbook(path)
    return [[cell.value for cell in row] for row in workbook.worksheets[sheet].iter_rows()]


def test_the_review_has_the_columns_and_values_of_the_plan(tmp_path: Path) -> None:
    context = _context()
    out = tmp_path / "报名表.xlsx"
    result = export_plan(context, out)
    assert result.paths == (out, review_path(out))
    rows = _rows(review_path(out))
    assert rows[0] == ZH_HEADERS
    by_sku = {row[2]: dict(zip(ZH_HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(by_sku) == {"M18-911-WH", "M18-GTR-BK", "M24-AE86", "M24-BTL-YL"}
    hero = by_sku["M18-911-WH"]
    assert hero["商品ID"] == "680123450001" and hero["日常价"] == 899.0
    assert hero["活动价"] == 764.15 and hero["折扣"] == "8.5折 / 减15%"
    assert hero["活动库存"] == 588 and hero["每人限购"] == 2 and hero["买二送一"] == "否"
    assert hero["是否满足报名规则"] == "是"
    bounds = {v.sku: v.bound_fen for v in result.sheet.check.products}
    assert round(hero["单件最低毛利"] * 100) == bounds["M18-911-WH"]
    assert by_sku["M24-BTL-YL"]["活动库存"] == 40  # capped at stock
    assert by_sku["M24-AE86"]["买二送一"] == "是" and by_sku["M24-AE86"]["每人限购"] is None


def test_the_upload_sheet_holds_only_the_platforms_columns(tmp_path: Path) -> None:
    """GIVEN a plan, WHEN it is exported, THEN the file to upload has the platform's columns
    and none of the internal figures (everyday price, margins, lowest paid, verdict)."""
    context = _context()
    out = tmp_path / "报名表.xlsx"
    export_plan(context, out, ExportOptions(lang="en"))
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["商品报名表"]
    rows = _rows(out)
    assert rows[0] == UPLOAD_HEADERS  # the platform's headers, whatever --lang says
    prices = {row[2] for row in rows[1:]}
    assert prices == {d.activity_price_fen / 100 for d in context.plan.products if d.joins}
    everything = {str(cell) for row in rows for cell in row}
    assert not everything & {"899.0", "Worst unit margin", "单件最低毛利", "最低到手价"}
    sheet = workbook.worksheets[0]
    assert all(row[0].data_type == "s" and row[0].number_format == "@"
               for row in sheet.iter_rows(min_row=2))


def test_text_cells_are_text_and_formula_like_text_is_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "sheet.xlsx"
    export_plan(_context(), out)
    upload = openpyxl.load_workbook(out).worksheets[0]
    assert all(cell.data_type != "f" for row in upload.iter_rows() for cell in row)
    assert any(row[0].value == "-680123450018" and row[0].quotePrefix
               for row in upload.iter_rows(min_row=2))
    sheet = openpyxl.load_workbook(review_path(out)).worksheets[0]
    cells = {row[2].value: [row[0], row[2], row[3]] for row in sheet.iter_rows(min_row=2)}
    formula_title = cells["M18-GTR-BK"][2]
    assert formula_title.value.startswith("=HYPERLINK") and formula_title.data_type == "s"
    assert formula_title.quotePrefix
    minus_id = cells["M24-AE86"][0]
    assert minus_id.value == "-680123450018" and minus_id.data_type == "s" and minus_id.quotePrefix
    assert cells["M18-911-WH"][0].data_type == "s"  # a long ID stays text, never 6.8E+11
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_settings_sheet_lists_tiers_b2g1_mechanism_and_inputs(tmp_path: Path) -> None:
    out = tmp_path / "sheet.xlsx"
    export_plan(_context(), out)
    workbook = openpyxl.load_workbook(review_path(out))
    assert workbook.sheetnames == ["核对表", "店铺设置"]
    rows = {(row[0], row[1]) for row in _rows(review_path(out), 1)}
    assert ("店铺优惠券", "199-15") in rows and ("店铺优惠券", "399-30") in rows
    assert ("买二送一", "是") in rows and ("平台机制", "cross_store") in rows
    assert ("rules.platform.commission_rate", "0.05") in rows


@pytest.mark.parametrize("name", ["sheet.xlsx", "sheet.csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reading_the_sheet_back_gives_the_plans_prices(tmp_path: Path, name: str,
                                                       lang: str) -> None:
    context = _context()
    export_plan(context, tmp_path / name, ExportOptions(lang=lang))
    assert load_plan_prices(tmp_path / name) == PlanPrices.of_plan(context.plan)


def test_the_csv_is_utf8_with_bom_and_neutralises_formulas(tmp_path: Path) -> None:
    out = tmp_path / "sheet.csv"
    result = export_plan(_context(), out, ExportOptions(lang="en"))
    review = review_path(out)
    assert result.paths == (out, review, companion_settings_path(out))
    assert companion_settings_path(review) == companion_settings_path(out)
    raw = review.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == EN_HEADERS
    titles = {row[2]: row[3] for row in rows[1:]}
    assert titles["M18-GTR-BK"].startswith("'=HYPERLINK")
    assert titles["M24-BTL-YL"] == "'@大众甲壳虫 经典款"
    assert all(not cell.startswith(("=", "+", "@")) or cell.startswith('="')
               for row in rows for cell in row)


def test_a_csv_sheet_without_its_companion_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "sheet.csv"
    export_plan(_context(), out)
    companion_settings_path(out).unlink()
    with pytest.raises(InputError, match=r"sheet\.settings\.csv"):
        load_plan_prices(out)


def test_a_losing_plan_is_refused_naming_the_product_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sheet.xlsx"
    with pytest.raises(ExportRefusedError) as refused:
        export_plan(_context(LOSING_CHOICES), out)
    assert "M24-AE86" in str(refused.value) and "--drop-failing" in str(refused.value)
    assert "M18-911-WH" not in str(refused.value)
    assert refused.value.exit_code == 6
    assert os.listdir(tmp_path) == []


def test_a_plan_that_breaks_the_signup_rules_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportRefusedError, match=r"M24-BTL-YL: activity price 189\.05 breaks"):
        export_plan(_context(SIGNUP_FAILING_CHOICES), tmp_path / "sheet.xlsx")


def test_drop_failing_removes_the_failing_products_and_says_which(tmp_path: Path) -> None:
    context = _context({**LOSING_CHOICES, **{"M24-BTL-YL": SIGNUP_FAILING_CHOICES["M24-BTL-YL"]}})
    out = tmp_path / "sheet.xlsx"
    result = export_plan(context, out, ExportOptions(drop_failing=True))
    assert {f.sku for f in result.sheet.dropped} == {"M24-AE86", "M24-BTL-YL"}
    prices = load_plan_prices(out)
    assert prices.joins == {"M18-911-WH", "M18-GTR-BK"}
    assert prices.b2g1_members == {"M18-GTR-BK"}
    removed = [row for row in _rows(review_path(out), 1) if row[0] == "已移除商品"]
    assert {row[1] for row in removed} == {"M24-AE86", "M24-BTL-YL"}


def test_a_product_that_stays_out_and_loses_cannot_be_dropped(tmp_path: Path) -> None:
    products = tuple(
        p.model_copy(update={"unit_cost_fen": 4500}) if p.sku == "M64-MINI" else p
        for p in catalogue()
    )
    tiers = (CouponTier(threshold_fen=0, amount_fen=500), *TIERS)
    with pytest.raises(ExportRefusedError, match="M64-MINI: stays out of the event"):
        export_plan(_context(products=products, tiers=tiers), tmp_path / "sheet.xlsx",
                    ExportOptions(drop_failing=True))


def test_the_lowest_paid_price_is_paid_by_a_real_cart() -> None:
    context = _context()
    prices = PlanPrices.of_plan(context.plan)
    setup = store_setup(prices, context.products, RULES)
    from pricing.verify.checker import check_store

    check = check_store(setup)
    lowest = lowest_paid_fen(setup, check, prices.joins)
    for verdict, product in zip(check.products, context.products, strict=True):
        if product.sku not in prices.joins:
            continue
        assert 0 < lowest[product.sku] < verdict.price_fen
        witness = verdict.witness
        assert isinstance(witness, Cart)
        result = quote(witness)
        paid = [(q.paid_fen, q.quantity) for line, q in zip(witness.lines, result.lines,
                                                            strict=True)
                if line.sku == product.sku and line.store == STORE]
        # the worst-margin cart is one of the carts considered: it never pays less
        assert paid[0][0] // paid[0][1] >= lowest[product.sku]


def test_activity_stock_rounds_up_exactly_and_never_exceeds_stock() -> None:
    assert activity_stock(10.0, 100, Decimal("1.1")) == 11  # 11.000000000000002 in floats
    assert activity_stock(10.2, 100, Decimal(1)) == 11
    assert activity_stock(588.0, 500, Decimal("1.2")) == 500
    assert activity_stock(0.0, 5, Decimal(3)) == 0


@given(st.floats(0, 1e12), st.integers(0, 10**9))
def test_activity_stock_at_factor_one_is_the_exact_decimal_ceiling(
    units: float, stock: int
) -> None:
    """The fast path for the default factor agrees with the exact decimal rule."""
    exact = Decimal(repr(units)).to_integral_value(rounding=ROUND_CEILING)
    assert activity_stock(units, stock, Decimal(1)) == max(0, min(int(exact), stock))


def test_bad_options_are_input_errors() -> None:
    with pytest.raises(InputError, match="--stock-factor"):
        ExportOptions(stock_factor=Decimal(0))
    with pytest.raises(InputError, match="--lang"):
        ExportOptions(lang="fr")


def test_discount_labels() -> None:
    assert discount_label(Decimal("0.75"), "zh") == "7.5折"
    assert discount_label(Decimal("0.8"), "zh") == "8折"
    assert discount_label(Decimal("0.75"), "en") == "25% off"


# --- the round trip, over generated plans ----------------------------------------------------

sheet_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("=+-@'\t 商品"),
    min_size=1, max_size=10,
)
any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("=+-@'\t\r\n折"),
    max_size=20,
)


@st.composite
def stores(draw: st.DrawFn) -> tuple[tuple[Product, ...], dict, tuple[CouponTier, ...]]:
    skus = draw(st.lists(sheet_text, min_size=1, max_size=5, unique=True))
    products = []
    choices = {}
    for sku in skus:
        list_price = draw(st.integers(3_000, 200_000))
        product = Product(
            sku=sku, item_id=draw(sheet_text), title=draw(any_text),
            list_price_fen=list_price,
            lowest_price_fen=draw(st.sampled_from([list_price, list_price * 9 // 10])),
            unit_cost_fen=draw(st.integers(0, list_price * 4 // 10)),
            stock=draw(st.integers(0, 5_000)), base_units=draw(st.floats(0, 1_000)),
            purchase_limit=draw(st.none() | st.integers(1, 5)),
            b2g1_eligible=draw(st.booleans()),
        )
        products.append(product)
        level = draw(st.none() | st.sampled_from([Decimal("0.9"), Decimal("0.8"),
                                                   Decimal("0.7"), Decimal("0.5")]))
        choices[sku] = (level, draw(st.booleans()) and product.b2g1_eligible)
    thresholds = draw(st.lists(st.integers(0, 80_000), max_size=3, unique=True))
    tiers = tuple(
        CouponTier(threshold_fen=t, amount_fen=draw(st.integers(1, max(1, t // 12))))
        for t in sorted(thresholds) if t != 1
    )
    return tuple(products), choices, tiers


@given(store=stores(), name=st.sampled_from(["s.xlsx", "s.csv"]),
       lang=st.sampled_from(["zh", "en"]))
@settings(max_examples=examples(0.3), deadline=None,  # 30 by default, 150 under the ci profile
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_export_then_import_is_the_identity(store: tuple, name: str, lang: str,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    products, choices, tiers = store
    plan, _ = build_plan(products, RULES, choices, tiers)
    assume(any(d.joins for d in plan.products))
    context = PlanContext(plan=plan, products=products, rules=RULES)
    out = tmp_path_factory.mktemp("export") / name
    try:
        result = export_plan(context, out, ExportOptions(lang=lang, drop_failing=True))
    except ExportRefusedError as refused:
        assert "stays out of the event" in str(refused)
        event("refused: a product that stays out loses")
        return
    event(f"exported {len(result.sheet.rows)} rows, removed {len(result.sheet.dropped)}")
    expected = PlanPrices.of_plan(plan)
    dropped = {failure.sku for failure in result.sheet.dropped}
    expected = PlanPrices(
        prices_fen={s: p for s, p in expected.prices_fen.items() if s not in dropped},
        joins=expected.joins - dropped, b2g1_members=expected.b2g1_members - dropped,
        coupon_tiers=expected.coupon_tiers,
    )
    assert load_plan_prices(out) == expected
    titles = {p.sku: p.title for p in products}
    review = review_path(out)
    if name.endswith(".xlsx"):
        sheet = openpyxl.load_workbook(review).worksheets[0]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            assert (row[3] or "") == xlsx_text(titles[row[2]])
    else:
        from pricing.formats.sheets import csv_text_back

        def back(cell: str) -> str:  # an ID of digits is kept as ="…" for Excel
            return cell[2:-1] if cell.startswith('="') else csv_text_back(cell)

        text = review.read_bytes().decode("utf-8-sig")
        for row in list(csv.reader(io.StringIO(text, newline="")))[1:]:
            assert csv_text_back(row[3]) == titles[back(row[2])]
