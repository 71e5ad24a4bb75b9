"""Reading the products file (CSV/xlsx) and the rules file (TOML): every parsing rule."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_examples import toml_text
from strategies import catalogues, examples
from strategies import rules as generated_rules

import pricing.formats.columns as columns
import pricing.formats.products as product_io
import pricing.formats.tables as tables
from models.money import format_yuan, short_yuan, to_fen
from models.product import Product, Role
from models.rules import (
    B2G1Rules,
    BusinessRules,
    CouponRules,
    CouponTier,
    DemandRules,
    DiscountLadder,
    Mechanism,
    OfferRules,
    OrderBand,
    PlatformRules,
    Rules,
    StoreRules,
    SuperInstantRules,
)
from pricing.engine.signup import ladder_price_fen, meets_signup
from pricing.errors import InputError, Problem
from pricing.formats.products import load_products
from pricing.formats.rules import RULES_KEYS, file_model, load_rules, rules_to_dict
from pricing.formats.samples import sample_products_path, sample_rules_path
from pricing.formats.tables import file_sha256
from pricing.verify.checker import StoreSetup, check_store

DATA = Path(__file__).parent / "data"
MINIMAL_HEADER = "sku,list_price,unit_cost,stock,base_units"
# Properties that write files to tmp_path (shared across examples: each example overwrites it).
FILES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(directory: Path, text: str, name: str = "products.csv", encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_products(path)
    return caught.value


def one_problem(path: Path) -> Problem:
    problems = refused(path).problems
    assert len(problems) == 1, problems
    return problems[0]


# --- the samples -----------------------------------------------------------------------------


def test_the_sample_catalogue_loads_without_warnings() -> None:
    products, warnings = load_products(sample_products_path())
    assert warnings == []
    assert 40 <= len(products) <= 80
    roles = Counter(product.role for product in products)
    assert roles[Role.HERO] >= 2 and roles[Role.TRAFFIC] >= 2 and roles[Role.PROFIT] >= 2
    assert any(not product.b2g1_eligible for product in products)
    assert any(product.purchase_limit is not None for product in products)
    assert len({product.sku for product in products}) == len(products)
    for product in products:
        share = product.unit_cost_fen / product.list_price_fen
        assert 0.28 <= share <= 0.47, product.sku


def test_the_xlsx_sample_with_chinese_headers_matches_the_csv() -> None:
    xlsx = sample_products_path().with_name("products.xlsx")
    header = next(
        openpyxl.load_workbook(xlsx, read_only=True)
        .worksheets[0]
        .iter_rows(max_row=1, values_only=True)
    )
    assert header[:4] == ("SKU编码", "商品ID", "SKU ID", "商品标题")
    assert load_products(xlsx) == load_products(sample_products_path())


def test_fast_built_products_equal_validated_ones() -> None:
    """GIVEN products built without pydantic's validation WHEN compared THEN identical."""
    products, _ = load_products(sample_products_path())
    for product in products:
        validated = Product.model_validate(product.model_dump())
        assert validated == product
        assert hash(validated) == hash(product)
        assert product.model_fields_set == validated.model_fields_set
    copied = products[0].model_copy(update={"stock": 1})
    assert copied.stock == 1 and products[0].stock != 1
    assert products[1].model_fields_set == set(Product.model_fields)
    with pytest.raises(ValueError, match="frozen"):
        products[0].stock = 5  # type: ignore[misc]


def test_sample_paths_and_fingerprints() -> None:
    for path in (sample_products_path(), sample_rules_path()):
        assert path.is_file()
        assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# --- headers and encodings -------------------------------------------------------------------


def test_only_the_required_columns_and_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, f"{MINIMAL_HEADER}\nA1,199.00,60,10,5.5\n")
    (product,), warnings = load_products(path)
    assert warnings == []
    assert product == Product(
        sku="A1", item_id="A1", list_price_fen=19900, lowest_price_fen=19900,
        unit_cost_fen=6000, stock=10, base_units=5.5,
    )  # fmt: skip
    assert product.role is Role.REGULAR and product.b2g1_eligible
    assert product.elasticity is None and product.purchase_limit is None


def test_chinese_headers_are_aliases(tmp_path: Path) -> None:
    text = (
        "SKU编码,商品ID,商品标题,类目,角色,日常价,近30天最低价,成本价,库存,预估销量,价格弹性,限购,买二送一\n"
        "M24-AE86,6801,1:24 AE86 合金车模,1:24车模,主推,259.00,249.00,85.00,2000,900,-1.5,3,否\n"
    )
    (product,), _ = load_products(write(tmp_path, text))
    assert product == Product(
        sku="M24-AE86", item_id="6801", title="1:24 AE86 合金车模", category="1:24车模",
        role=Role.HERO, list_price_fen=25900, lowest_price_fen=24900, unit_cost_fen=8500,
        stock=2000, base_units=900, elasticity=-1.5, purchase_limit=3, b2g1_eligible=False,
    )  # fmt: skip


def test_headers_match_without_case_or_surrounding_spaces(tmp_path: Path) -> None:
    text = " SKU ,List_Price, 成本价 ,STOCK,\u3000预估销量\u3000,B2G1\n A1 , 9.90 ,3, 7 ,1, YES \n"
    (product,), _ = load_products(write(tmp_path, text))
    assert (product.sku, product.list_price_fen, product.unit_cost_fen, product.stock) == (
        "A1", 990, 300, 7,
    )  # fmt: skip
    assert product.b2g1_eligible


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_or_gbk(tmp_path: Path, encoding: str) -> None:
    text = (
        "SKU编码,商品标题,日常价,成本价,库存,预估销量,角色\n"
        "红旗-H9,红旗H9 合金车模 黑色,299,95,300,120,利润\n"
    )
    (product,), _ = load_products(write(tmp_path, text, encoding=encoding))
    assert (product.sku, product.title, product.role) == (
        "红旗-H9",
        "红旗H9 合金车模 黑色",
        Role.PROFIT,
    )


def test_the_sample_catalogue_saved_as_gbk_loads_the_same(tmp_path: Path) -> None:
    text = sample_products_path().read_text(encoding="utf-8-sig")
    assert load_products(write(tmp_path, text, encoding="gbk")) == load_products(
        sample_products_path()
    )


def test_text_in_neither_utf8_nor_gbk_is_refused() -> None:
    problem = one_problem(DATA / "wrong_encoding.csv")
    assert "neither UTF-8 nor GBK" in problem.message and "line 2" in problem.message


def test_utf16_text_is_refused_with_advice(tmp_path: Path) -> None:
    problem = one_problem(write(tmp_path, f"{MINIMAL_HEADER}\nA,1,1,1,1\n", encoding="utf-16"))
    assert "UTF-16" in problem.message and "CSV UTF-8" in problem.message


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    text = MINIMAL_HEADER.replace(",", "\t") + "\nA1\t1,299.00\t400\t5\t2\n"
    (product,), _ = load_products(write(tmp_path, text, name="products.tsv"))
    assert product.list_price_fen == 129900


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "role"),
    [("主推", Role.HERO), ("引流", Role.TRAFFIC), ("利润", Role.PROFIT), ("常规", Role.REGULAR),
     ("hero", Role.HERO), ("Traffic", Role.TRAFFIC), ("PROFIT", Role.PROFIT), ("", Role.REGULAR)],
)  # fmt: skip
def test_roles_in_chinese_or_english(tmp_path: Path, written: str, role: Role) -> None:
    (product,), _ = load_products(write(tmp_path, f"{MINIMAL_HEADER},role\nA,9,1,1,1,{written}\n"))
    assert product.role is role


@pytest.mark.parametrize(
    ("written", "eligible"),
    [("yes", True), ("no", False), ("true", True), ("FALSE", False), ("1", True), ("0", False),
     ("是", True), ("否", False), ("Y", True), ("n", False), ("", True)],
)  # fmt: skip
def test_b2g1_answers(tmp_path: Path, written: str, eligible: bool) -> None:
    (product,), _ = load_products(write(tmp_path, f"{MINIMAL_HEADER},b2g1\nA,9,1,1,1,{written}\n"))
    assert product.b2g1_eligible is eligible


@pytest.mark.parametrize(
    ("column", "written", "expected"),
    [
        ("list_price", "二百", "not a number"),
        ("list_price", "abc", "not a number"),
        ("list_price", "199.999", "more than two decimals"),
        ("list_price", "0", "above zero"),
        ("list_price", "-9.90", "above zero"),
        ("list_price", "", "empty"),
        ("lowest_price", "0", "above zero"),
        ("lowest_price", "-1", "above zero"),
        ("lowest_price", "9.005", "more than two decimals"),
        ("unit_cost", "-5", "must not be negative"),
        ("unit_cost", "cheap", "not a number"),
        ("unit_cost", "", "empty"),
        ("stock", "1.5", "whole number"),
        ("stock", "-1", "whole number"),
        ("stock", "many", "whole number"),
        ("stock", "", "empty"),
        ("base_units", "lots", "not a number"),
        ("base_units", "-3", "must not be negative"),
        ("base_units", "nan", "not a number"),
        ("elasticity", "0", "below zero"),
        ("elasticity", "1.2", "below zero"),
        ("elasticity", "steep", "not a number"),
        ("purchase_limit", "0", "at least 1"),
        ("purchase_limit", "2.5", "whole number"),
        ("role", "boss", "unknown role"),
        ("b2g1", "maybe", "yes/no"),
        ("sku", "", "empty"),
    ],
)
def test_each_bad_cell_is_named_by_row_column_and_value(
    tmp_path: Path, column: str, written: str, expected: str
) -> None:
    good = {"sku": "A1", "list_price": "99.00", "lowest_price": "", "unit_cost": "30",
            "stock": "10", "base_units": "4", "elasticity": "", "purchase_limit": "",
            "role": "", "b2g1": ""}  # fmt: skip
    cells = {**good, column: written}
    text = ",".join(cells) + "\n" + ",".join(cells.values()) + "\n"
    problem = one_problem(write(tmp_path, text))
    assert expected in problem.message
    assert (problem.row, problem.column, problem.value) == (2, column, written)


def test_cost_above_the_everyday_price_is_a_warning_not_an_error(tmp_path: Path) -> None:
    products, warnings = load_products(
        write(tmp_path, f"{MINIMAL_HEADER}\nA,39,45,1,1\nB,9,1,1,1\n")
    )
    assert len(products) == 2
    (warning,) = warnings
    assert warning.severity == "warning" and warning.row == 2 and warning.column == "unit_cost"
    assert "cost above the everyday price" in warning.message


def test_money_finer_than_a_fen_is_never_rounded(tmp_path: Path) -> None:
    text = f"{MINIMAL_HEADER}\nA,19.90,5.001,1,1\nB,19.9000000000000001,5,1,1\n"
    problems = refused(write(tmp_path, text)).problems
    assert [(p.row, p.column) for p in problems] == [(2, "unit_cost"), (3, "list_price")]


@settings(FILES, max_examples=examples(0.5))
@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**10),
            st.sampled_from(
                ["{yuan}", "{short}", " {yuan} ", "¥{yuan}", "{thousands}", "{short}."]
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_fast_money_path_agrees_with_to_fen(
    tmp_path: Path, amounts: list[tuple[int, str]]
) -> None:
    """GIVEN amounts written as a merchandiser might WHEN read THEN exactly what to_fen says."""
    texts = []
    for fen, form in amounts:
        text = form.format(
            yuan=format_yuan(fen),
            short=short_yuan(fen),
            thousands=f"{fen // 100:,}.{fen % 100:02d}",
        )
        if text.endswith(".") and "." in text[:-1]:  # "199." is an amount, "19.9." is not
            text = text[:-1]
        texts.append(text)
    lines = [f'P{i},"{text}",1,1,1' for i, text in enumerate(texts)]
    products, _ = load_products(write(tmp_path, MINIMAL_HEADER + "\n" + "\n".join(lines) + "\n"))
    assert [p.list_price_fen for p in products] == [to_fen(text) for text in texts]


@settings(FILES, max_examples=examples(0.3))
@given(catalogues(min_size=1, max_size=8))
def test_a_written_catalogue_reads_back_identically(
    tmp_path: Path, products: tuple[Product, ...]
) -> None:
    header = ("sku,item_id,title,category,role,list_price,lowest_price,unit_cost,stock,base_units,"
              "elasticity,purchase_limit,b2g1")  # fmt: skip
    rows = [
        ",".join([
            p.sku, p.item_id, p.title, p.category, p.role.value, format_yuan(p.list_price_fen),
            format_yuan(p.lowest_price_fen), format_yuan(p.unit_cost_fen), str(p.stock),
            repr(p.base_units), "" if p.elasticity is None else repr(p.elasticity),
            "" if p.purchase_limit is None else str(p.purchase_limit),
            "yes" if p.b2g1_eligible else "no",
        ])
        for p in products
    ]  # fmt: skip
    loaded, _ = load_products(write(tmp_path, header + "\n" + "\n".join(rows) + "\n"))
    assert loaded == products


# --- the shape of the file -------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    error = refused(DATA / "bad_products.csv")
    found = {(p.row, p.column) for p in error.problems}
    assert found == {
        (1, None),  # missing column 库存 (stock)
        (3, "日常价"),  # text in a price
        (4, "成本价"),  # negative cost
        (5, "日常价"),  # three decimals
        (6, "SKU编码"),  # duplicate SKU
        (8, "角色"),  # unknown role
        (8, "限购"),  # purchase limit 0
        (8, "买二送一"),  # not a yes/no
    }
    assert [(w.row, w.column) for w in error.warnings] == [(7, "成本价")]
    assert "the header is row 1" in str(error)
    rows = [p.row or 0 for p in error.problems]
    assert rows == sorted(rows)


def test_a_duplicate_sku_names_both_rows(tmp_path: Path) -> None:
    problem = one_problem(write(tmp_path, f"{MINIMAL_HEADER}\nA,9,1,1,1\nB,9,1,1,1\nA,9,1,1,1\n"))
    assert (problem.row, problem.value) == (4, "A") and "row 2" in problem.message


def test_unknown_columns_are_one_warning_with_the_accepted_names(tmp_path: Path) -> None:
    products, warnings = load_products(
        write(tmp_path, f"{MINIMAL_HEADER},tag_price,lst_price,备注\nA,9,1,1,1,12,9,x\n")
    )
    assert len(products) == 1
    (problem,) = warnings
    assert problem.severity == "warning" and "'备注'" in problem.message
    assert "'tag_price'" in problem.message and "'lst_price' (did you mean 'list_price'?)" in (
        problem.message
    )
    for column in product_io.PRODUCT_COLUMNS:
        assert column.name in problem.message and column.aliases[0] in problem.message


def test_missing_required_columns_are_one_error_naming_them(tmp_path: Path) -> None:
    problem = one_problem(write(tmp_path, "sku,title\nA,car\n"))
    for name in ("list_price", "unit_cost", "stock", "base_units", "日常价", "成本价", "库存"):
        assert name in problem.message


def test_one_column_given_twice_is_an_error(tmp_path: Path) -> None:
    problem = one_problem(write(tmp_path, f"{MINIMAL_HEADER},SKU编码\nA,9,1,1,1,A\n"))
    assert "'sku', 'SKU编码'" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("\n\n  \n", "the file is empty"),
        (",,,\n,,,\n", "the file is empty"),
        (f"{MINIMAL_HEADER}\n", "no products"),
        (f"{MINIMAL_HEADER}\n,,,,\n\n", "no products"),
    ],
)
def test_an_empty_file_or_a_header_alone_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in one_problem(write(tmp_path, text)).message


def test_empty_fixture_files() -> None:
    assert "empty" in one_problem(DATA / "empty.csv").message
    assert "no products" in one_problem(DATA / "header_only.csv").message


def test_rows_are_numbered_as_in_a_spreadsheet(tmp_path: Path) -> None:
    """Blank lines count as rows; a quoted title over two lines is still one row."""
    text = f'{MINIMAL_HEADER},title\nA,9,1,1,1,"two\nlines"\n\nB,9,1,1,x,ok\n'
    problem = one_problem(write(tmp_path, text))
    assert (problem.row, problem.column) == (4, "base_units")


def test_blank_rows_and_unnamed_empty_columns_are_ignored(tmp_path: Path) -> None:
    text = f"{MINIMAL_HEADER},,\nA,9,1,1,1,,\n,,,,,,\nB,9,1,1,1,,\n\n"
    products, _ = load_products(write(tmp_path, text))
    assert [p.sku for p in products] == ["A", "B"]


def test_an_unnamed_column_with_values_is_a_warning(tmp_path: Path) -> None:
    _, (problem,) = load_products(write(tmp_path, f"{MINIMAL_HEADER},\nA,9,1,1,1,oops\n"))
    assert "#6 (no header)" in problem.message and problem.severity == "warning"


def test_a_row_with_too_many_cells_is_refused(tmp_path: Path) -> None:
    problem = one_problem(write(tmp_path, f"{MINIMAL_HEADER}\nA,9,1,1,1\nB,1,299.00,1,1,1\n"))
    assert "line 3 has 6 cells" in problem.message


def test_many_bad_cells_in_one_column_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(columns, "MAX_REPORTED_PER_RULE", 3)
    lines = "\n".join(f"P{i},x,1,1,1" for i in range(10))
    problems = refused(write(tmp_path, f"{MINIMAL_HEADER}\n{lines}\n")).problems
    assert [p.row for p in problems] == [2, 3, 4, None]
    assert "7 more rows" in problems[-1].message and "rows 5 to 11" in problems[-1].message


def test_absurd_sizes_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f"{MINIMAL_HEADER}\nA,9,1,1,1\nB,9,1,1,1\nC,9,1,1,1\n")
    monkeypatch.setattr(tables, "MAX_ROWS", 2)
    assert "more than 2 products" in one_problem(path).message
    monkeypatch.setattr(tables, "MAX_FILE_BYTES", 40)
    assert "at most 0 MB" in one_problem(path).message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", None, "file not found"),
        ("products.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("products.json", b"{}", "expected .csv or .xlsx"),
        ("products.xlsx", b"sku,list_price\n", "not a zip"),
    ],
)
def test_files_that_cannot_be_products_files(
    tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert expected in one_problem(path).message


def test_a_folder_is_not_a_products_file(tmp_path: Path) -> None:
    folder = tmp_path / "catalogue.csv"
    folder.mkdir()
    assert "not a file" in one_problem(folder).message


# --- xlsx ------------------------------------------------------------------------------------


def test_xlsx_cells_of_any_type_are_read_like_csv_text(tmp_path: Path) -> None:
    """Numbers, booleans and a header below blank rows; errors name the sheet's own rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A3"], sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"], sheet["F3"] = (
        "SKU", "日常价", "成本价", "库存", "预估销量", "买二送一",
    )  # fmt: skip
    sheet.append(["A1", 19.9, 6, 100.0, 2.5, False])
    sheet.append([123456, 899, 300.5, 7, 1, True])
    sheet.append(["C3", 19.999, 1, 1, 1, None])
    path = tmp_path / "products.xlsx"
    workbook.save(path)
    problem = one_problem(path)
    assert (problem.row, problem.column, problem.value) == (6, "日常价", "19.999")
    sheet.delete_rows(6)
    workbook.save(path)
    first, second = load_products(path)[0]
    assert (first.list_price_fen, first.unit_cost_fen, first.stock, first.b2g1_eligible) == (
        1990, 600, 100, False,
    )  # fmt: skip
    assert (second.sku, second.unit_cost_fen, second.b2g1_eligible) == ("123456", 30050, True)


def test_an_xlsx_declaring_an_absurd_size_is_refused(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["sku", "list_price", "unit_cost", "stock", "base_units"])
    workbook.active.append(["A", 9, 1, 1, 1])
    honest = tmp_path / "honest.xlsx"
    workbook.save(honest)
    forged = tmp_path / "forged.xlsx"
    with zipfile.ZipFile(honest) as source, zipfile.ZipFile(forged, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:E5000000"', data)
            target.writestr(member, data)
    assert load_products(honest)[0][0].sku == "A"
    assert "declares 5,000,000 rows" in one_problem(forged).message


def test_a_damaged_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not really")
    assert "not a readable .xlsx" in one_problem(path).message


# --- the rules file --------------------------------------------------------------------------


def write_rules(directory: Path, text: str) -> Path:
    path = directory / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rules_refused(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_rules(path)
    return caught.value.problems


def test_the_sample_rules_load_exactly() -> None:
    rules = load_rules(sample_rules_path())
    assert rules.platform.commission_rate == Decimal("0.05")
    assert str(rules.platform.commission_rate) == "0.05"  # no float noise
    assert (rules.platform.cross_store_every_fen, rules.platform.cross_store_save_fen) == (
        30000, 5000,
    )  # fmt: skip
    assert rules.platform.mechanism is Mechanism.CROSS_STORE
    assert (rules.store.shipping_cost_fen, rules.store.handling_cost_fen) == (800, 150)
    assert rules.coupons.candidates[:2] == (
        CouponTier(threshold_fen=0, amount_fen=500),
        CouponTier(threshold_fen=9900, amount_fen=1000),
    )
    assert rules.demand.coupon_response == 3.0
    assert rules.demand.order_bands[-1].upto_fen is None
    assert rules.ladder.levels[0] == Decimal("0.95") and rules.ladder.levels[-1] == Decimal("0.5")


def test_an_empty_rules_file_means_every_default(tmp_path: Path) -> None:
    assert load_rules(write_rules(tmp_path, "# nothing\n")) == Rules()


def test_money_in_the_rules_may_be_a_number_or_a_string(tmp_path: Path) -> None:
    text = '[store]\nshipping_cost = "8.50"\nhandling_cost = 1\nbudget = 20000.5\n'
    store = load_rules(write_rules(tmp_path, text)).store
    assert (store.shipping_cost_fen, store.handling_cost_fen, store.budget_fen) == (
        850,
        100,
        2000050,
    )


def test_every_model_field_has_a_key_in_the_file() -> None:
    models = {"platform": PlatformRules, "store": StoreRules, "ladder": DiscountLadder,
              "coupons": CouponRules, "b2g1": B2G1Rules, "offers": OfferRules,
              "super_instant": SuperInstantRules, "demand": DemandRules,
              "business": BusinessRules}  # fmt: skip
    assert set(RULES_KEYS) == set(models) == set(Rules.model_fields)
    for section, model in models.items():
        assert {key.field for key in RULES_KEYS[section].values()} == set(model.model_fields)


def test_the_file_schema_is_the_rules_models_with_the_files_keys_as_aliases() -> None:
    store = file_model("store")
    assert store.model_fields["shipping_cost_fen"].alias == "shipping_cost"
    assert store.model_validate({"shipping_cost": "8.50"}).model_dump(exclude_unset=True) == {
        "shipping_cost_fen": 850
    }
    assert RULES_KEYS["platform"]["cross_store_every"].field == "cross_store_every_fen"


def test_a_bad_item_of_a_list_is_named_by_its_place(tmp_path: Path) -> None:
    text = "[coupons]\ncandidates = [[0, 5], [99, 10.001]]\n[ladder]\nlevels = [0.9, true]\n"
    problems = rules_refused(write_rules(tmp_path, text))
    assert [(p.message.split(":")[0], p.value) for p in problems] == [
        ("ladder.levels item 2", "true"),
        ("coupons.candidates item 2", "[99, 10.001]"),
    ]


def test_unknown_keys_and_sections_are_named(tmp_path: Path) -> None:
    text = (
        "fee = 1\ncommission_rate = 0.05\n[platform]\ncomission_rate = 0.05\n[promo]\ngifts = 1\n"
    )
    messages = [p.message for p in rules_refused(write_rules(tmp_path, text))]
    assert any("unknown section 'fee'" in m for m in messages)
    assert any("'commission_rate' outside any section" in m and "platform" in m for m in messages)
    assert any(
        "section platform: unknown key 'comission_rate' (did you mean 'commission_rate'?)" in m
        for m in messages
    )
    assert any("unknown section 'promo'" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[platform]\nmechanism = 3\n', "platform.mechanism: expected text"),
        ('[platform]\nmechanism = "coupons"\n', "platform.mechanism: input should be"),
        ("[platform]\ncommission_rate = true\n", "platform.commission_rate: expected a share"),
        ("[platform]\nmin_discount = 1.5\n", "platform.min_discount: input should be less than 1"),
        ("[platform]\ncross_store_every = 50\ncross_store_save = 50\n",
         "section platform: cross_store_save must be below cross_store_every"),
        ("[store]\nshipping_cost = 8.005\n", "store.shipping_cost: has more than two decimals"),
        ("[store]\nhandling_cost = -1\n", "store.handling_cost: input should be greater"),
        ('[store]\nbudget = "lots"\n', "store.budget: is not a number"),
        ('[ladder]\nlevels = "0.9"\n', "ladder.levels: expected a list"),
        ("[ladder]\nlevels = [0.9, 1.2]\n", "ladder.levels: every level must be"),
        ("[coupons]\nmax_tiers = 2.5\n", "coupons.max_tiers: expected a whole number"),
        ("[coupons]\ncandidates = [[99]]\n", "coupons.candidates: expected a list of"),
        ("[coupons]\ncandidates = [[0, 5], [99, 120]]\n",
         "coupons.candidates item 2: a coupon must save less"),
        ('[b2g1]\nenabled = "yes"\n', "b2g1.enabled: expected true or false"),
        ("[b2g1]\nfree_share = 0.5\n", "b2g1.free_share: input should be less than"),
        ("[demand]\norder_bands = [[100, 0.5, 79], [\"inf\", 0.4, 199]]\n",
         "demand.order_bands: order band shares must add up to 1"),
        ("[demand]\ndefault_elasticity = 1.0\n", "demand.default_elasticity: input should be less"),
        ("platform = 3\n", "platform must be a section"),
    ],
)  # fmt: skip
def test_bad_rules_name_the_section_and_key(tmp_path: Path, text: str, expected: str) -> None:
    problems = rules_refused(write_rules(tmp_path, text))
    assert any(expected in p.message for p in problems), [p.render() for p in problems]


def test_every_rules_problem_is_reported_at_once() -> None:
    messages = [p.message for p in rules_refused(DATA / "bad_rules.toml")]
    assert len(messages) == 5
    for expected in ("'promo'", "'comission_rate'", "platform.min_discount", "store.shipping_cost",
                     "coupons.candidates item 2"):  # fmt: skip
        assert any(expected in m for m in messages), expected


def test_malformed_toml_gives_its_line(tmp_path: Path) -> None:
    (problem,) = rules_refused(DATA / "malformed.toml")
    assert "not valid TOML: line 3" in problem.message


def test_rules_files_that_cannot_be_read(tmp_path: Path) -> None:
    (missing,) = rules_refused(tmp_path / "none.toml")
    assert missing.message == "file not found"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"[store]\nshipping_cost = 8 # \xff\n")
    (undecodable,) = rules_refused(binary)
    assert "not UTF-8" in undecodable.message


def test_order_bands_take_inf_for_the_open_top_band(tmp_path: Path) -> None:
    text = '[demand]\norder_bands = [[80, 0.23, 59], [150, 0.30, 99], ["inf", 0.47, 199]]\n'
    bands = load_rules(write_rules(tmp_path, text)).demand.order_bands
    assert bands == (
        OrderBand(upto_fen=8000, share=0.23, typical_fen=5900),
        OrderBand(upto_fen=15000, share=0.30, typical_fen=9900),
        OrderBand(upto_fen=None, share=0.47, typical_fen=19900),
    )


def test_rules_to_dict_uses_the_files_keys_and_units() -> None:
    document = rules_to_dict(load_rules(sample_rules_path()))
    assert document["platform"]["cross_store_every"] == "300.00"
    assert document["platform"]["commission_rate"] == "0.05"
    assert document["store"]["handling_cost"] == "1.50"
    assert document["coupons"]["candidates"][1] == ["99.00", "10.00"]
    assert document["demand"]["order_bands"][-1][0] == "inf"
    assert json.loads(json.dumps(document)) == document


def test_the_sample_rules_round_trip_through_rules_to_dict(tmp_path: Path) -> None:
    rules = load_rules(sample_rules_path())
    assert load_rules(write_rules(tmp_path, toml_text(rules_to_dict(rules)))) == rules


@settings(FILES, max_examples=examples(0.5))
@given(generated_rules())
def test_any_rules_round_trip_through_rules_to_dict(tmp_path: Path, rules: Rules) -> None:
    assert load_rules(write_rules(tmp_path, toml_text(rules_to_dict(rules)))) == rules


# --- what the samples must show ---------------------------------------------------------------


def sample_setup(level: str, heroes_only: bool, coupons: bool) -> StoreSetup:
    products, _ = load_products(sample_products_path())
    rules = load_rules(sample_rules_path())
    chosen = tuple(p for p in products if p.role is Role.HERO or not heroes_only)
    list_prices = np.array([p.list_price_fen for p in chosen], dtype=np.int64)
    prices = ladder_price_fen(list_prices, Decimal(level))
    return StoreSetup(
        products=chosen,
        prices_fen=tuple(int(price) for price in prices),
        coupon_tiers=rules.coupons.candidates if coupons else (),
        b2g1_members=frozenset(),
        rules=rules,
    )


def test_some_sample_products_lose_money_at_half_price() -> None:
    """The story of the samples: 50% off with free shipping and every-300-save-50 loses money
    on the cheap models and the display cases, while the big 1:18 models survive it."""
    report = check_store(sample_setup("0.50", heroes_only=False, coupons=True))
    losers = {check.sku for check in report.products if check.loses}
    assert 5 <= len(losers) < len(report.products) // 2
    assert "M64-AE86-WB" in losers and "M18-911GT3-WH" not in losers


def test_every_sample_hero_is_safe_at_ninety_percent_and_can_sign_up() -> None:
    """Heroes must join the event: at 9折, without coupons or B2G1, each is proven safe and
    meets the platform's sign-up rules, or the optimizer would call the samples infeasible."""
    setup = sample_setup("0.90", heroes_only=True, coupons=False)
    report = check_store(setup)
    assert len(report.products) >= 2 and report.passes
    list_prices = np.array([p.list_price_fen for p in setup.products], dtype=np.int64)
    lowest = np.array([p.lowest_price_fen for p in setup.products], dtype=np.int64)
    prices = np.array(setup.prices_fen, dtype=np.int64)
    assert meets_signup(prices, list_prices, lowest, setup.rules).all()
