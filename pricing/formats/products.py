"""The products file (CSV or ``.xlsx``): one row per SKU, checked at the door.

One row per SKU under a header row; English or Chinese column names, matched without regard to
case or surrounding spaces (:data:`PRODUCT_COLUMNS`). The cells come from
:mod:`pricing.formats.tables` (UTF-8 or GBK CSV, or the first sheet of an ``.xlsx``). Rows are
numbered as in a spreadsheet: the header is row 1, the first product row 2.

:func:`load_products` checks the whole file and raises one :class:`~pricing.errors.InputError`
listing every problem (file, row, column, value and what was expected), never just the first;
warnings (a cost above the everyday price) ride along on the error, or are returned with the
products. After 50 rows with the same problem in one column, one more line gives the count of
the rest.

Parsing works a column at a time: :mod:`pricing.formats.tables` splits the file into text
cells; each numeric column is screened whole (one regular-expression scan of its cells joined
by newlines) and converted by numpy; only a column that fails the screen is examined cell by
cell, with :func:`models.money.to_fen` deciding what is wrong with an amount. The products are
then built without a second validation pass (see :func:`_build_products`): every rule the
model states has been checked here. About 5 µs a row on a 300,000-row catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.limits import MAX_PURCHASE_LIMIT, MAX_TEXT_CHARACTERS, MAX_UNITS, MIN_ELASTICITY
from models.money import MAX_TOTAL_FEN, MONEY_HINT
from models.product import Product, Role
from pricing.errors import Problem
from pricing.formats.columns import Column, ColumnChecker, mask
from pricing.formats.tables import (
    YES_NO,
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    Table,
    check_file,
    fail,
    input_error,
    read_csv_table,
    read_xlsx_table,
)
from pricing.runtime import collector_paused

__all__ = ["PRODUCT_COLUMNS", "ProductColumn", "load_products"]


# --- the products file: columns --------------------------------------------------------------


ProductColumn = Column  # the products file's columns are table columns

PRODUCT_COLUMNS: tuple[ProductColumn, ...] = (
    ProductColumn("sku", ("SKU编码", "商家编码", "商品编码", "货号"), True, "unique, non-empty"),
    ProductColumn("item_id", ("商品ID", "宝贝ID"), False, "defaults to sku"),
    ProductColumn("sku_id", ("SKU ID", "SKUID"), False,
                  "the platform's numeric SKU ID (digits); empty = not known yet"),
    ProductColumn("title", ("商品标题", "商品名称", "宝贝标题", "标题"), False, "free text"),
    ProductColumn("category", ("类目", "类目名称"), False, "free text"),
    ProductColumn("price_line", ("价格线",), False,
                  "free text: products of one line keep their everyday-price order"),
    ProductColumn(
        "role", ("角色",), False, "主推/引流/利润/常规 or hero/traffic/profit/regular (default)"
    ),
    ProductColumn("list_price", ("日常价", "一口价", "销售价"), True,
                  "yuan > 0, at most 2 decimals"),
    ProductColumn("lowest_price", ("近30天最低价", "最低价"), False,
                  "yuan > 0; defaults to list_price"),
    ProductColumn(
        "lowest_coupon_price", ("最低普惠券后价",), False,
        "yuan > 0; lowest price after universal offers; empty = not checked",
    ),
    ProductColumn("unit_cost", ("成本价", "成本", "采购价"), True, "yuan ≥ 0, at most 2 decimals"),
    ProductColumn("stock", ("库存", "可售库存", "库存数量"), True, "whole number ≥ 0"),
    ProductColumn("base_units", ("预估销量", "预计销量"), True,
                  "expected event units at list price, ≥ 0"),
    ProductColumn("elasticity", ("价格弹性",), False, "< 0; default from the rules"),
    ProductColumn("purchase_limit", ("限购", "每人限购", "限购数量"), False,
                  "whole number ≥ 1; empty = no limit"),
    ProductColumn("b2g1", ("买二送一",), False, "yes/no/true/false/1/0/是/否/Y/N; empty = yes"),
)

_ROLE_NAMES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "主推": Role.HERO,
    "引流": Role.TRAFFIC,
    "利润": Role.PROFIT,
    "常规": Role.REGULAR,
}


@dataclass
class _ProductColumns:
    """The checked columns, ready to build products (lists of plain Python values)."""

    sku: list[str]
    item_id: list[str]
    sku_id: list[str]
    title: list[str]
    category: list[str]
    price_line: list[str]
    role: list[Role]
    list_price_fen: list[int]
    lowest_price_fen: list[int]
    lowest_coupon_price_fen: list[int | None]
    unit_cost_fen: list[int]
    stock: list[int]
    base_units: list[float]
    elasticity: list[float | None]
    purchase_limit: list[int | None]
    b2g1_eligible: list[bool]


# Control characters break sheets (openpyxl refuses them) and terminals (escape sequences).
# IDs hold none; free text may hold a tab or a line break.
_CONTROL_IN_ID = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEXT_COLUMNS = {"sku": _CONTROL_IN_ID, "item_id": _CONTROL_IN_ID, "sku_id": _CONTROL_IN_ID,
                 "title": _CONTROL_IN_TEXT, "category": _CONTROL_IN_TEXT,
                 "price_line": _CONTROL_IN_TEXT,
                 "role": _CONTROL_IN_ID, "b2g1": _CONTROL_IN_ID}


def _check_texts(check: ColumnChecker) -> None:
    """Control characters, over-long text, and IDs a number cell could not hold exactly."""
    for column, control in _TEXT_COLUMNS.items():
        if not check.present(column):
            continue
        cells = check.cells(column).tolist()
        # The patterns match one character, so the joined column holds a match only if a cell
        # does: one search of the whole column clears the usual file at C speed.
        if control.search("".join(cells)) is not None:
            check.report(
                column,
                np.fromiter((control.search(text) is not None for text in cells),
                            dtype=np.bool_, count=check.count),
                lambda text: "holds a control character "
                + ", ".join(sorted({f"U+{ord(c):04X}" for c in text if
                                    c < " " or c == "\x7f"}))
                + "; expected plain text",
            )
        if max(map(len, cells), default=0) > MAX_TEXT_CHARACTERS:
            check.report(
                column,
                np.fromiter((len(text) > MAX_TEXT_CHARACTERS for text in cells),
                            dtype=np.bool_, count=check.count),
                f"too long: at most {MAX_TEXT_CHARACTERS:,} characters",
            )
    inexact = check.sheet.inexact
    if not inexact:
        return
    for column in ("sku", "item_id", "sku_id"):
        if not check.present(column):
            continue
        position = check.sheet.header.index(check.headers[column])
        check.report(
            column,
            np.isin(check.sheet.rows, [row for row, where in inexact if where == position]),
            "a number cell with more than 15 digits: Excel keeps only 15, so this ID may not"
            " be the one typed; format the column as text (文本) and enter the IDs again",
        )


def _check_skus(check: ColumnChecker) -> None:
    check.require_filled("sku", "the SKU code")
    skus = check.cells("sku")
    if len(set(skus.tolist())) == len(skus):
        return
    seen: dict[str, int] = {}
    for sku in skus.tolist():
        seen[sku] = seen.get(sku, 0) + 1
    repeated = np.fromiter((seen[sku] > 1 for sku in skus.tolist()), dtype=np.bool_,
                           count=len(skus))
    repeated = repeated & check.filled("sku")
    if not repeated.any():
        return
    first_row: dict[str, int] = {}
    duplicates: list[int] = []
    for position in np.flatnonzero(repeated).tolist():
        sku = str(skus[position])
        if sku in first_row:
            duplicates.append(position)
        else:
            first_row[sku] = int(check.sheet.rows[position])
    check.report(
        "sku",
        mask(check.count, duplicates),
        lambda sku: f"duplicate SKU: already on row {first_row[sku]}",
    )


def _lookup(
    cells: ObjectArray, names: Mapping[str, Any], default: Any
) -> tuple[list[Any], BoolArray]:
    """Each cell's meaning in ``names`` (exact, else case-folded), and which cells have none
    (they get ``default``). One look-up per distinct value."""
    texts: list[str] = cells.tolist()
    meanings = {text: names.get(text, names.get(text.casefold())) for text in set(texts)}
    unknown = {text for text, meaning in meanings.items() if meaning is None}
    value_of = {text: default if meaning is None else meaning
                for text, meaning in meanings.items()}
    looked_up = list(map(value_of.__getitem__, texts))
    if not unknown:
        return looked_up, np.zeros(len(texts), dtype=np.bool_)
    return looked_up, np.fromiter(map(unknown.__contains__, texts), dtype=np.bool_,
                                  count=len(texts))


def _check_roles(check: ColumnChecker) -> list[Role]:
    if not check.present("role"):
        return [Role.REGULAR] * check.count
    roles, unknown = _lookup(check.cells("role"), _ROLE_NAMES, Role.REGULAR)
    check.report(
        "role",
        unknown & check.filled("role"),
        "unknown role; expected 主推/引流/利润/常规 or hero/traffic/profit/regular",
    )
    return roles


def _check_b2g1(check: ColumnChecker) -> list[bool]:
    if not check.present("b2g1"):
        return [True] * check.count
    answers, unknown = _lookup(check.cells("b2g1"), YES_NO, True)
    check.report("b2g1", unknown, "expected yes/no (是/否, Y/N, true/false, 1/0); empty = yes")
    return answers


def _optional(values: npt.NDArray[Any], given: BoolArray) -> list[Any]:
    """The values as a list, with None where none was given."""
    optional = values.astype(object)
    optional[~given] = None
    as_list: list[Any] = optional.tolist()
    return as_list


@dataclass(frozen=True)
class _Prices:
    list_fen: IntArray
    lowest_fen: IntArray  # defaults to the everyday price
    lowest_coupon: list[int | None]  # None: not checked
    cost_fen: IntArray


def _check_prices(check: ColumnChecker) -> _Prices:
    """The money columns in fen; a cost above the everyday price is a warning."""
    count = check.count
    list_fen = cost_fen = np.zeros(count, dtype=np.int64)
    list_ok = cost_ok = np.zeros(count, dtype=np.bool_)
    if check.present("list_price"):
        list_fen, list_ok = check.money("list_price", positive=True)
        check.require_filled("list_price", MONEY_HINT)
    lowest_fen = list_fen
    if check.present("lowest_price"):
        given_fen, given_ok = check.money("lowest_price", positive=True)
        lowest_fen = np.where(given_ok, given_fen, list_fen)
    lowest_coupon: list[int | None] = [None] * count
    if check.present("lowest_coupon_price"):
        lowest_coupon = _optional(*check.money("lowest_coupon_price", positive=True))
    if check.present("unit_cost"):
        cost_fen, cost_ok = check.money("unit_cost", positive=False)
        check.require_filled("unit_cost", MONEY_HINT)
    if check.present("list_price") and check.present("unit_cost"):
        check.report(
            "unit_cost",
            list_ok & cost_ok & (cost_fen > list_fen),
            "cost above the everyday price: this product loses money at any activity price",
            severity="warning",
        )
    return _Prices(list_fen, lowest_fen, lowest_coupon, cost_fen)


def _check_quantities(check: ColumnChecker) -> tuple[IntArray, list[int | None]]:
    """Stock and purchase limits (None: no limit)."""
    stock = np.zeros(check.count, dtype=np.int64)
    if check.present("stock"):
        stock, _ = check.whole_number("stock", minimum=0)
        check.require_filled("stock", "a whole number ≥ 0")
    limits: list[int | None] = [None] * check.count
    if check.present("purchase_limit"):
        limits = _optional(*check.whole_number("purchase_limit", minimum=1,
                                               maximum=MAX_PURCHASE_LIMIT))
    return stock, limits


def _check_demand(check: ColumnChecker) -> tuple[FloatArray, list[float | None]]:
    """Expected units at the everyday price, and each product's own elasticity (None: the
    rules' default)."""
    base_units = np.zeros(check.count, dtype=np.float64)
    if check.present("base_units"):
        base_units, base_ok = check.number("base_units")
        check.require_filled("base_units", "the expected units at the everyday price, ≥ 0")
        check.report("base_units", base_ok & (base_units < 0), "must not be negative")
        check.report("base_units", base_ok & (base_units > MAX_UNITS),
                     f"too large: at most {MAX_UNITS:,} units")
    elasticity: list[float | None] = [None] * check.count
    if check.present("elasticity"):
        values, given = check.number("elasticity")
        check.report(
            "elasticity",
            given & (values >= 0),
            "must be below zero (units fall as the price rises), e.g. -1.8; "
            "leave empty for the rules' default",
        )
        check.report("elasticity", given & (values < MIN_ELASTICITY),
                     f"too steep: at least {MIN_ELASTICITY:g}")
        elasticity = _optional(values, given)
    return base_units, elasticity


def _check_sku_ids(check: ColumnChecker) -> list[str]:
    sku_ids = check.texts("sku_id")
    check.report(
        "sku_id",
        np.array([text != "" and not (text.isascii() and text.isdigit()) for text in sku_ids],
                 dtype=bool),
        "expected the platform's numeric SKU ID (digits only), or an empty cell",
    )
    return sku_ids


def _stock_value_problem(file: str, prices: _Prices, stock: IntArray) -> Problem | None:
    """Every sum the planner forms stays below the total cap (see models.limits)."""
    value_fen = float(np.sum(np.maximum(prices.list_fen, prices.cost_fen).astype(np.float64)
                             * stock))
    if value_fen <= MAX_TOTAL_FEN:
        return None
    return Problem(
        file, f"the catalogue's stock is worth ¥{round(value_fen / 100):,} at everyday prices"
        f" (Σ price × stock); at most ¥{MAX_TOTAL_FEN // 100:,} is supported",
    )


def _check_products(file: str, sheet: Table) -> tuple[_ProductColumns | None, list[Problem]]:
    """Check every column; the columns when there is no error, and every problem found."""
    check = ColumnChecker(file, sheet, PRODUCT_COLUMNS)
    if check.present("sku"):
        _check_skus(check)
    _check_texts(check)
    roles = _check_roles(check)
    prices = _check_prices(check)
    stock, limits = _check_quantities(check)
    base_units, elasticity = _check_demand(check)
    b2g1 = _check_b2g1(check)
    sku_ids = _check_sku_ids(check)

    problems = check.sorted_problems()
    if not any(p.severity == "error" for p in problems):
        too_much = _stock_value_problem(file, prices, stock)
        problems += [too_much] if too_much is not None else []
    if any(p.severity == "error" for p in problems):
        return None, problems
    if not check.count:
        return None, [
            *problems,
            Problem(file, "no products: the file has a header but no product rows", row=1),
        ]
    skus = check.texts("sku")
    items = [item or sku for item, sku in zip(check.texts("item_id"), skus, strict=True)]
    columns = _ProductColumns(
        sku=skus,
        item_id=items,
        sku_id=sku_ids,
        title=check.texts("title"),
        category=check.texts("category"),
        price_line=check.texts("price_line"),
        role=roles,
        list_price_fen=prices.list_fen.tolist(),
        lowest_price_fen=prices.lowest_fen.tolist(),
        lowest_coupon_price_fen=prices.lowest_coupon,
        unit_cost_fen=prices.cost_fen.tolist(),
        stock=stock.tolist(),
        base_units=base_units.tolist(),
        elasticity=elasticity,
        purchase_limit=limits,
        b2g1_eligible=b2g1,
    )
    return columns, problems


_PRODUCT_FIELDS = tuple(Product.model_fields)
# Building 300k products through pydantic costs ~4 µs each; every rule the model states was
# checked above, so the products are assembled the way ``model_construct`` does it, minus its
# per-field bookkeeping: only for a plain model (no private attributes, no post-init hook) whose
# fields are the ones listed below. tests/test_io.py checks the result equals validated products.
_FAST_BUILD = (
    not Product.__private_attributes__
    and not Product.__pydantic_post_init__
    and set(_PRODUCT_FIELDS) == {f.name for f in fields(_ProductColumns)}
)


def _build_products(columns: _ProductColumns) -> tuple[Product, ...]:
    if not _FAST_BUILD:
        return tuple(
            Product.model_validate({name: getattr(columns, name)[i] for name in _PRODUCT_FIELDS})
            for i in range(len(columns.sku))
        )
    new = Product.__new__
    set_attribute = object.__setattr__
    # One set for all: pydantic only changes a model's fields-set on a copy (the model is frozen).
    fields_set = set(_PRODUCT_FIELDS)
    products: list[Product] = []
    append = products.append
    with collector_paused():
        for (
            sku, item_id, sku_id, title, category, price_line, role, list_price_fen,
            lowest_price_fen,
            lowest_coupon_price_fen, unit_cost_fen, stock, base_units, elasticity,
            purchase_limit, b2g1_eligible,
        ) in zip(
            columns.sku, columns.item_id, columns.sku_id, columns.title, columns.category,
            columns.price_line, columns.role,
            columns.list_price_fen, columns.lowest_price_fen, columns.lowest_coupon_price_fen,
            columns.unit_cost_fen,
            columns.stock, columns.base_units, columns.elasticity, columns.purchase_limit,
            columns.b2g1_eligible, strict=True,
        ):  # fmt: skip
            product = new(Product)
            set_attribute(
                product,
                "__dict__",
                {
                    "sku": sku,
                    "item_id": item_id,
                    "sku_id": sku_id,
                    "title": title,
                    "category": category,
                    "price_line": price_line,
                    "role": role,
                    "list_price_fen": list_price_fen,
                    "lowest_price_fen": lowest_price_fen,
                    "lowest_coupon_price_fen": lowest_coupon_price_fen,
                    "unit_cost_fen": unit_cost_fen,
                    "stock": stock,
                    "base_units": base_units,
                    "elasticity": elasticity,
                    "purchase_limit": purchase_limit,
                    "b2g1_eligible": b2g1_eligible,
                },
            )
            set_attribute(product, "__pydantic_fields_set__", fields_set)
            set_attribute(product, "__pydantic_extra__", None)
            set_attribute(product, "__pydantic_private__", None)
            append(product)
    return tuple(products)


def load_products(
    path: Path, sheet_name: str | None = None
) -> tuple[tuple[Product, ...], list[Problem]]:
    """Read a products file (.csv or .xlsx): the products, and warnings.

    ``sheet_name`` picks the worksheet of an ``.xlsx`` (default: the first; a workbook with
    several sheets gets a warning saying which one was read). Raises :class:`InputError`
    listing every problem of the file at once; its ``warnings`` hold the warnings found too.
    """
    file = str(path)
    check_file(path, file)
    suffix = path.suffix.casefold()
    if sheet_name is not None and suffix not in {".xlsx", ".xlsm"}:
        raise fail(file, "--sheet picks a sheet of an .xlsx workbook; this file has none",
                   column="--sheet")
    if suffix in {".csv", ".txt", ".tsv"}:
        sheet = read_csv_table(path, file)
    elif suffix in {".xlsx", ".xlsm"}:
        sheet = read_xlsx_table(path, file, sheet_name)
        if sheet.other_sheets or sheet_name is not None:
            file = f"{file} (sheet {sheet.sheet_name!r})"
    elif suffix == ".xls":
        raise fail(file, "an old Excel .xls file; save it as .xlsx or as CSV UTF-8")
    else:
        raise fail(file, f"unknown kind of file {path.suffix!r}; expected .csv or .xlsx")
    columns, problems = _check_products(file, sheet)
    if sheet.other_sheets and sheet_name is None:
        problems.insert(0, Problem(
            str(path), f"read the sheet {sheet.sheet_name!r}, the first of the workbook's "
            f"{len(sheet.other_sheets) + 1} (the others: "
            + ", ".join(repr(name) for name in sheet.other_sheets[:10])
            + "); pick another with --sheet NAME",
            severity="warning",
        ))
    if columns is None:
        raise input_error(problems)
    return _build_products(columns), problems
