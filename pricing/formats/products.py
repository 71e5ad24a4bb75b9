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

Parsing works a column at a time: pandas' C reader splits the file into text cells; each numeric
column is screened whole (one regular-expression scan of its cells joined by newlines) and
converted by numpy; only a column that fails the screen is examined cell by cell, with
:func:`models.money.to_fen` deciding what is wrong with an amount. The products are then built
without a second validation pass (see :func:`_build_products`): every rule the model states has
been checked here. About 5 µs a row on a 300,000-row catalogue.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.limits import MAX_PURCHASE_LIMIT, MAX_TEXT_CHARACTERS, MAX_UNITS, MIN_ELASTICITY
from models.money import MAX_TOTAL_FEN, MAX_UNIT_FEN, MONEY_HINT, MoneyFormatError, to_fen
from models.product import Product, Role
from pricing.errors import Problem
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
    with_hints,
)

__all__ = ["MAX_REPORTED_PER_RULE", "PRODUCT_COLUMNS", "ProductColumn", "load_products"]

# A whole column of bad cells would bury the other problems: after this many rows with the same
# problem in one column, one more line gives the count of the rest.
MAX_REPORTED_PER_RULE = 50


# --- the products file: columns --------------------------------------------------------------


@dataclass(frozen=True)
class ProductColumn:
    """One column of the products file: its English name, Chinese aliases, and its rule."""

    name: str
    aliases: tuple[str, ...]
    required: bool
    rule: str


PRODUCT_COLUMNS: tuple[ProductColumn, ...] = (
    ProductColumn("sku", ("SKU编码", "商家编码", "商品编码", "货号"), True, "unique, non-empty"),
    ProductColumn("item_id", ("商品ID", "宝贝ID"), False, "defaults to sku"),
    ProductColumn("sku_id", ("SKU ID", "SKUID"), False,
                  "the platform's numeric SKU ID (digits); empty = not known yet"),
    ProductColumn("title", ("商品标题", "商品名称", "宝贝标题", "标题"), False, "free text"),
    ProductColumn("category", ("类目", "类目名称"), False, "free text"),
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
# A unit after a header, as exports write it: 日常价（元）, 成本(元), 库存（件）, price (¥).
_HEADER_UNIT = re.compile(r"\s*[（(]\s*(?:元|¥|￥|rmb|cny|yuan|件|个|pcs)\s*[)）]\s*$",
                          re.IGNORECASE)


def header_key(written: str) -> str:
    """A header as it is matched: case-folded, spaces around it and a unit suffix dropped."""
    return _HEADER_UNIT.sub("", written.strip()).strip().casefold()


_COLUMN_BY_HEADER: dict[str, str] = {
    header.casefold(): column.name
    for column in PRODUCT_COLUMNS
    for header in (column.name, *column.aliases)
}
_ACCEPTED_HEADERS = ", ".join(
    f"{column.name} ({'/'.join(column.aliases)})" for column in PRODUCT_COLUMNS
)

_ROLE_NAMES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "主推": Role.HERO,
    "引流": Role.TRAFFIC,
    "利润": Role.PROFIT,
    "常规": Role.REGULAR,
}
# Plain yuan amounts with at most 10 integer digits and 2 decimals: for these, parsing as a
# double and rounding ×100 to the nearest integer is exact (below 2^40 fen the double's error is
# far under half a fen), so the fast path gives exactly what to_fen gives.
_PLAIN_YUAN = r"[0-9]{1,10}(?:\.[0-9]{0,2})?"
_WHOLE_NUMBER = r"\+?[0-9]{1,12}(?:\.0*)?"


# --- the products file: checking every column at once ---------------------------------------

# Whole-column screens: one regular-expression scan over a column's cells joined by newlines
# tells whether every cell is plain; only a column that fails is looked at cell by cell.
_NOT_MONEY_CHARACTER = re.compile(r"[^0-9.\n]")
_NOT_DIGIT = re.compile(r"[^0-9\n]")
# After a dot: a third decimal, or a second dot (possessive: no backtracking into the decimals).
_FINER_THAN_FEN_OR_TWO_DOTS = re.compile(r"\.[0-9]{0,2}+[0-9.]")
_PLAIN_YUAN_CELL = re.compile(_PLAIN_YUAN)
_WHOLE_NUMBER_CELL = re.compile(_WHOLE_NUMBER)
_MAX_YUAN_DIGITS = 10
_MAX_WHOLE_DIGITS = 12


def _stripped(cells: ObjectArray) -> ObjectArray:
    texts = [cell.strip() for cell in cells.tolist()]
    array = np.empty(len(texts), dtype=object)
    array[:] = texts
    return array


def _longest_digit_run_within(texts: list[str], joined: str, digits: int) -> bool:
    if max(map(len, texts), default=0) <= digits:
        return True
    return re.search(f"[0-9]{{{digits + 1}}}", joined) is None


def _all_plain_yuan(texts: list[str]) -> bool:
    """Whether every cell is empty or a plain amount (digits, at most 2 decimals)."""
    joined = "\n".join(texts)
    return not (
        _NOT_MONEY_CHARACTER.search(joined)
        or _FINER_THAN_FEN_OR_TWO_DOTS.search(joined)
        or "\n.\n" in f"\n{joined}\n"
        or not _longest_digit_run_within(texts, joined, _MAX_YUAN_DIGITS)
    )


def _all_plain_whole(texts: list[str]) -> bool:
    """Whether every cell is empty or a plain whole number (digits only)."""
    joined = "\n".join(texts)
    return not (
        _NOT_DIGIT.search(joined) or not _longest_digit_run_within(texts, joined, _MAX_WHOLE_DIGITS)
    )


def _numbers(cells: ObjectArray) -> FloatArray:
    """Cells as floats; NaN where a cell is not a number (C-speed parsing by pandas)."""
    parsed = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
    return np.asarray(parsed, dtype=np.float64)


def _column_label(header: str, position: int) -> str:
    return header if header else f"#{position + 1} (no header)"


class _ProductChecker:
    """Checks the columns of one products file, collecting every problem.

    Numeric columns are screened as they stand (a plain column needs no stripping); text
    columns, and numeric columns that fail the screen, are stripped of surrounding spaces.
    """

    def __init__(self, file: str, sheet: Table) -> None:
        self.file = file
        self.sheet = sheet
        self.count = len(sheet.rows)
        self.problems: list[Problem] = []
        self.headers: dict[str, str] = {}  # canonical name -> the header as written
        self.raw: dict[str, ObjectArray] = {}
        self._stripped: dict[str, ObjectArray] = {}
        # Numeric columns whose every cell passed the screen: their raw cells need no stripping.
        self._plain: set[str] = set()
        self._map_columns()

    # reporting

    def report(
        self,
        column: str,
        bad: BoolArray,
        message: str | Callable[[str], str],
        *,
        severity: str = "error",
    ) -> None:
        """One problem per bad cell of ``column`` (the first few dozen, then a count)."""
        positions = np.flatnonzero(bad)
        if not len(positions):
            return
        shown = positions[:MAX_REPORTED_PER_RULE]
        rows = self.sheet.rows[shown].tolist()
        texts = self.cells(column)[shown].tolist()
        header = self.headers[column]
        for row, text in zip(rows, texts, strict=True):
            self.problems.append(
                Problem(
                    self.file,
                    message(text) if callable(message) else message,
                    row=row,
                    column=header,
                    value=text,
                    severity=severity,
                )
            )
        if len(positions) > len(shown):
            rest = len(positions) - len(shown)
            first, last = self.sheet.rows[positions[len(shown)]], self.sheet.rows[positions[-1]]
            self.problems.append(
                Problem(
                    self.file,
                    f"…and {rest:,} more rows with the same problem (rows {first} to {last})",
                    column=header,
                    severity=severity,
                )
            )

    def sorted_problems(self) -> list[Problem]:
        """The file's problems first, then each bad cell by row and column, then the counts."""
        position = {written: index for index, written in enumerate(self.sheet.header)}

        def place(problem: Problem) -> tuple[int, int, int]:
            if problem.column is None:
                return (0, 0, 0)
            if problem.row is None:
                return (2, position.get(problem.column, 0), 0)
            return (1, problem.row, position.get(problem.column, 0))

        return sorted(self.problems, key=place)

    # the header

    def _map_columns(self) -> None:
        header = self.sheet.header
        unknown: list[str] = []
        positions: dict[str, list[int]] = {}
        for position, written in enumerate(header):
            name = _COLUMN_BY_HEADER.get(header_key(written))
            if name is not None:
                positions.setdefault(name, []).append(position)
            elif written or (self.sheet.columns[position] != "").any():
                unknown.append(_column_label(written, position))
            # An unnamed, empty column is a spreadsheet artefact: ignored.
        if unknown:
            self.problems.append(
                Problem(
                    self.file,
                    f"ignored unknown column{'s' if len(unknown) > 1 else ''} "
                    f"{with_hints(unknown, _COLUMN_BY_HEADER, cutoff=0.75)}; "
                    f"accepted columns: {_ACCEPTED_HEADERS}",
                    row=1,
                    severity="warning",
                )
            )
        for name, found in positions.items():
            if len(found) > 1:
                written = ", ".join(repr(header[p]) for p in found)
                self.problems.append(
                    Problem(self.file, f"columns {written} all mean {name!r}; keep one", row=1)
                )
            self.headers[name] = header[found[0]]
            self.raw[name] = self.sheet.columns[found[0]]
        missing = [c for c in PRODUCT_COLUMNS if c.required and c.name not in positions]
        if missing:
            names = ", ".join(f"{c.name} ({'/'.join(c.aliases)})" for c in missing)
            self.problems.append(
                Problem(
                    self.file,
                    f"missing required column{'s' if len(missing) > 1 else ''}: {names}",
                    row=1,
                )
            )

    # cells

    def present(self, column: str) -> bool:
        return column in self.raw

    def cells(self, column: str) -> ObjectArray:
        """The column's cells without surrounding spaces (computed once)."""
        if column not in self._stripped:
            self._stripped[column] = _stripped(self.raw[column])
        return self._stripped[column]

    def texts(self, column: str) -> list[str]:
        """The column's cells (stripped), or empty cells when the file has no such column."""
        if column not in self.raw:
            return [""] * self.count
        texts: list[str] = self.cells(column).tolist()
        return texts

    def filled(self, column: str) -> BoolArray:
        cells = self.raw[column] if column in self._plain else self.cells(column)
        return np.asarray(cells != "", dtype=np.bool_)

    def require_filled(self, column: str, expected: str) -> None:
        """Report the empty cells of a required column."""
        self.report(column, ~self.filled(column), f"empty; expected {expected}")

    def _screened(
        self, column: str, all_plain: Callable[[list[str]], bool], cell: re.Pattern[str]
    ) -> tuple[ObjectArray, BoolArray, BoolArray]:
        """The cells to parse, which are filled, and which are plain (parse without fuss)."""
        raw = self.raw[column]
        if all_plain(raw.tolist()):
            self._plain.add(column)
            filled = np.asarray(raw != "", dtype=np.bool_)
            return raw, filled, filled
        cells = self.cells(column)
        plain = np.fromiter(
            (cell.fullmatch(text) is not None for text in cells.tolist()),
            dtype=np.bool_,
            count=self.count,
        )
        return cells, self.filled(column), plain

    def money(self, column: str, *, positive: bool) -> tuple[IntArray, BoolArray]:
        """Amounts in fen, and which cells hold a valid one (empty or bad cells: False)."""
        cells, filled, ok = self._screened(column, _all_plain_yuan, _PLAIN_YUAN_CELL)
        fen = np.zeros(self.count, dtype=np.int64)
        fen[ok] = np.rint(cells[ok].astype(np.float64) * 100).astype(np.int64)
        ok = ok.copy()
        messages: dict[int, str] = {}
        odd = np.flatnonzero(filled & ~ok)
        for position, text in zip(odd.tolist(), cells[odd].tolist(), strict=True):
            try:
                fen[position] = to_fen(text)
                ok[position] = True
            except MoneyFormatError as error:
                messages[position] = _money_problem(str(error))
        for message in sorted(set(messages.values())):
            self.report(
                column,
                _mask(self.count, [p for p, m in messages.items() if m == message]),
                message,
            )
        too_large = ok & (np.abs(fen) > MAX_UNIT_FEN)
        self.report(column, too_large, f"too large: at most {MAX_UNIT_FEN // 100:,} yuan")
        ok &= ~too_large
        if positive:
            self.report(column, ok & (fen <= 0), "must be above zero")
        else:
            self.report(column, ok & (fen < 0), "must not be negative")
        return fen, ok & (fen > 0 if positive else fen >= 0)

    def whole_number(
        self, column: str, *, minimum: int, maximum: int = MAX_UNITS
    ) -> tuple[IntArray, BoolArray]:
        """Whole numbers, and which cells hold a valid one (``minimum`` to ``maximum``)."""
        cells, filled, whole = self._screened(column, _all_plain_whole, _WHOLE_NUMBER_CELL)
        numbers = np.zeros(self.count, dtype=np.int64)
        if column in self._plain:
            numbers[whole] = cells[whole].astype(np.int64)
        else:  # "+5" and "12.0" pass the cell pattern too: through float (exact below 2^53)
            numbers[whole] = cells[whole].astype(np.float64).astype(np.int64)
        example = ", e.g. 120" if minimum == 0 else ""
        self.report(column, filled & ~whole, f"expected a whole number ≥ {minimum}{example}")
        self.report(column, whole & (numbers < minimum), f"must be at least {minimum}")
        self.report(column, whole & (numbers > maximum), f"too large: at most {maximum:,}")
        return numbers, whole & (numbers >= minimum) & (numbers <= maximum)

    def number(self, column: str) -> tuple[FloatArray, BoolArray]:
        """Numbers, and which cells hold one (empty cells: False)."""
        raw = self.raw[column]
        filled = np.asarray(raw != "", dtype=np.bool_)
        values = np.zeros(self.count, dtype=np.float64)
        try:
            values[filled] = raw[filled].astype(np.float64)
            self._plain.add(column)  # a blank-looking cell ("  ") would not have parsed
        except ValueError:  # some cell is not a number: find which, cell by cell
            filled = self.filled(column)
            values = _numbers(self.cells(column))
        finite = np.isfinite(values) & filled
        self.report(column, filled & ~finite, "not a number")
        return np.where(finite, values, 0.0), finite


def _money_problem(error: str) -> str:
    """What to say about a cell :func:`models.money.to_fen` refused (its reason, without the
    value, which the problem shows anyway)."""
    reason = error.split(" ", 1)[1] if " " in error else error
    if reason.startswith("has more than two decimals"):
        return "more than two decimals: money is counted to the fen (0.01 yuan)"
    if reason.startswith("is too large"):
        return reason.removeprefix("is ")
    if reason.startswith("is not a number:"):
        return f"not a number ({reason.removeprefix('is not a number: ')}); expected {MONEY_HINT}"
    return f"not a number; expected {MONEY_HINT}"


def _mask(length: int, positions: Sequence[int]) -> BoolArray:
    mask = np.zeros(length, dtype=np.bool_)
    mask[list(positions)] = True
    return mask


@dataclass
class _ProductColumns:
    """The checked columns, ready to build products (lists of plain Python values)."""

    sku: list[str]
    item_id: list[str]
    sku_id: list[str]
    title: list[str]
    category: list[str]
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
                 "role": _CONTROL_IN_ID, "b2g1": _CONTROL_IN_ID}


def _check_texts(check: _ProductChecker) -> None:
    """Control characters, over-long text, and IDs a number cell could not hold exactly."""
    for column, control in _TEXT_COLUMNS.items():
        if not check.present(column):
            continue
        cells = check.cells(column).tolist()
        check.report(
            column,
            np.fromiter((control.search(text) is not None for text in cells), dtype=np.bool_,
                        count=check.count),
            lambda text: "holds a control character "
            + ", ".join(sorted({f"U+{ord(c):04X}" for c in text if
                                c < " " or c == "\x7f"}))
            + "; expected plain text",
        )
        check.report(
            column,
            np.fromiter((len(text) > MAX_TEXT_CHARACTERS for text in cells), dtype=np.bool_,
                        count=check.count),
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


def _check_skus(check: _ProductChecker) -> None:
    check.require_filled("sku", "the SKU code")
    skus = check.cells("sku")
    if len(set(skus.tolist())) == len(skus):
        return
    repeated = pd.Series(skus).duplicated(keep=False).to_numpy(dtype=np.bool_)
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
        _mask(check.count, duplicates),
        lambda sku: f"duplicate SKU: already on row {first_row[sku]}",
    )


def _lookup(
    cells: ObjectArray, names: Mapping[str, Any], default: Any
) -> tuple[list[Any], BoolArray]:
    """Each cell's meaning in ``names`` (exact, else case-folded), and which cells have none
    (they get ``default``). The column is factorized first: one look-up per distinct value."""
    codes, distinct = pd.factorize(cells)  # cells are never missing: no code -1
    meanings = [names.get(text, names.get(text.casefold())) for text in distinct.tolist()]
    unknown_codes = [code for code, meaning in enumerate(meanings) if meaning is None]
    table = np.empty(len(meanings), dtype=object)
    table[:] = [default if meaning is None else meaning for meaning in meanings]
    looked_up: list[Any] = table[codes].tolist()
    return looked_up, np.isin(codes, unknown_codes)


def _check_roles(check: _ProductChecker) -> list[Role]:
    if not check.present("role"):
        return [Role.REGULAR] * check.count
    roles, unknown = _lookup(check.cells("role"), _ROLE_NAMES, Role.REGULAR)
    check.report(
        "role",
        unknown & check.filled("role"),
        "unknown role; expected 主推/引流/利润/常规 or hero/traffic/profit/regular",
    )
    return roles


def _check_b2g1(check: _ProductChecker) -> list[bool]:
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


def _check_products(file: str, sheet: Table) -> tuple[_ProductColumns | None, list[Problem]]:
    """Check every column; the columns when there is no error, and every problem found."""
    check = _ProductChecker(file, sheet)
    count = check.count
    if check.present("sku"):
        _check_skus(check)
    _check_texts(check)
    roles = _check_roles(check)

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

    stock = np.zeros(count, dtype=np.int64)
    if check.present("stock"):
        stock, _ = check.whole_number("stock", minimum=0)
        check.require_filled("stock", "a whole number ≥ 0")
    limits: list[int | None] = [None] * count
    if check.present("purchase_limit"):
        limits = _optional(*check.whole_number("purchase_limit", minimum=1,
                                               maximum=MAX_PURCHASE_LIMIT))

    base_units = np.zeros(count, dtype=np.float64)
    if check.present("base_units"):
        base_units, base_ok = check.number("base_units")
        check.require_filled("base_units", "the expected units at the everyday price, ≥ 0")
        check.report("base_units", base_ok & (base_units < 0), "must not be negative")
        check.report("base_units", base_ok & (base_units > MAX_UNITS),
                     f"too large: at most {MAX_UNITS:,} units")
    elasticity: list[float | None] = [None] * count
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
    b2g1 = _check_b2g1(check)
    sku_ids = check.texts("sku_id")
    check.report(
        "sku_id",
        np.array([text != "" and not (text.isascii() and text.isdigit()) for text in sku_ids],
                 dtype=bool),
        "expected the platform's numeric SKU ID (digits only), or an empty cell",
    )

    problems = check.sorted_problems()
    if not any(p.severity == "error" for p in problems):
        # Every sum the planner forms stays below the total cap (see models.limits).
        value_fen = float(np.sum(np.maximum(list_fen, cost_fen).astype(np.float64) * stock))
        value = round(value_fen / 100)
        if value_fen > MAX_TOTAL_FEN:
            problems.append(Problem(
                file, f"the catalogue's stock is worth ¥{value:,} at everyday prices (Σ price ×"
                f" stock); at most ¥{MAX_TOTAL_FEN // 100:,} is supported",
            ))
    if any(p.severity == "error" for p in problems):
        return None, problems
    if not count:
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
        role=roles,
        list_price_fen=list_fen.tolist(),
        lowest_price_fen=lowest_fen.tolist(),
        lowest_coupon_price_fen=lowest_coupon,
        unit_cost_fen=cost_fen.tolist(),
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
    with _gc_paused():
        for (
            sku, item_id, sku_id, title, category, role, list_price_fen, lowest_price_fen,
            lowest_coupon_price_fen, unit_cost_fen, stock, base_units, elasticity,
            purchase_limit, b2g1_eligible,
        ) in zip(
            columns.sku, columns.item_id, columns.sku_id, columns.title, columns.category,
            columns.role,
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


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while allocating many acyclic objects (it rescans them all)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
