"""Reading the two input files: the products file (CSV or .xlsx) and the rules file (TOML).

This module and ``cli.py`` are the only places that read them. Every reader checks its whole
file at the door and raises one :class:`~pricing.errors.InputError` listing every problem it
found (file, row, column, value and what was expected), never just the first; warnings (a cost
above the everyday price) ride along on the error, or are returned with the products.

Products file
    One row per SKU under a header row; English or Chinese column names, matched without regard
    to case or surrounding spaces (:data:`PRODUCT_COLUMNS`). CSV is read as UTF-8 (with or
    without a BOM) or, failing that, GBK/GB18030 (what Excel writes on Chinese Windows); .xlsx
    is read from its first sheet with openpyxl in read-only mode (defusedxml guards the XML).
    Rows are numbered as in a spreadsheet: the header is row 1, the first product row 2.

    Parsing works a column at a time: pandas' C reader splits the file into text cells; each
    numeric column is screened whole (one regular-expression scan of its cells joined by
    newlines) and converted by numpy; only a column that fails the screen is examined cell by
    cell, with :func:`models.money.to_fen` deciding what is wrong with an amount. The products
    are then built without a second validation pass (see :func:`_build_products`): every rule
    the model states has been checked here. About 5 µs a row on a 300,000-row catalogue.

    Refused outright, with a message: files over 200 MB, more than 1,000,000 rows, .xlsx
    sheets declaring more (or more than 200 columns), workbooks unpacking to over 1 GB. After
    50 rows with the same problem in one column, one more line gives the count of the rest.

Rules file
    TOML with the sections and keys of :data:`RULES_KEYS`; amounts of money in yuan (numbers or
    strings, at most two decimals), rates as shares (``0.05`` = 5 %), read through ``str`` into
    ``Decimal`` so that ``0.05`` means exactly 0.05. Unknown sections and keys are errors that
    name them; the models' own checks come back as problems naming the section and key.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import gc
import hashlib
import io
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ValidationError

from models.money import MoneyFormatError, format_yuan, to_fen
from models.product import Product, Role
from models.rules import (
    B2G1Rules,
    CouponRules,
    DemandRules,
    DiscountLadder,
    PlatformRules,
    Rules,
    StoreRules,
)
from pricing.errors import InputError, Problem

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "PRODUCT_COLUMNS",
    "RULES_KEYS",
    "file_sha256",
    "input_error",
    "load_products",
    "load_rules",
    "rules_to_dict",
    "sample_products_path",
    "sample_rules_path",
]

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
# An .xlsx is a zip of XML; more than this once unpacked is a zip bomb or not a product list.
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_RULES_BYTES = 1024 * 1024
# A whole column of bad cells would bury the other problems: after this many rows with the same
# problem in one column, one more line gives the count of the rest.
MAX_REPORTED_PER_RULE = 50

ROW_CONVENTION = (
    "rows are numbered as in a spreadsheet: the header is row 1, the first product row 2"
)
SAMPLES_PACKAGE = "price_opt_samples"
SAMPLE_PRODUCTS = "products.csv"
SAMPLE_RULES = "rules.toml"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]


# --- the products file: columns --------------------------------------------------------------


@dataclass(frozen=True)
class ProductColumn:
    """One column of the products file: its English name, Chinese aliases, and its rule."""

    name: str
    aliases: tuple[str, ...]
    required: bool
    rule: str


PRODUCT_COLUMNS: tuple[ProductColumn, ...] = (
    ProductColumn("sku", ("SKU编码",), True, "unique, non-empty"),
    ProductColumn("item_id", ("商品ID",), False, "defaults to sku"),
    ProductColumn("title", ("商品标题",), False, "free text"),
    ProductColumn("category", ("类目",), False, "free text"),
    ProductColumn(
        "role", ("角色",), False, "主推/引流/利润/常规 or hero/traffic/profit/regular (default)"
    ),
    ProductColumn("list_price", ("日常价",), True, "yuan > 0, at most 2 decimals"),
    ProductColumn("lowest_price", ("近30天最低价",), False, "yuan > 0; defaults to list_price"),
    ProductColumn("unit_cost", ("成本价",), True, "yuan ≥ 0, at most 2 decimals"),
    ProductColumn("stock", ("库存",), True, "whole number ≥ 0"),
    ProductColumn("base_units", ("预估销量",), True, "expected event units at list price, ≥ 0"),
    ProductColumn("elasticity", ("价格弹性",), False, "< 0; default from the rules"),
    ProductColumn("purchase_limit", ("限购",), False, "whole number ≥ 1; empty = no limit"),
    ProductColumn("b2g1", ("买二送一",), False, "yes/no/true/false/1/0/是/否/Y/N; empty = yes"),
)
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
_YES_NO: dict[str, bool] = {
    "": True,
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "是": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
    "否": False,
}
_EMPTY = "the file is empty; expected a header row and one row per product"
_MONEY_HINT = "an amount in yuan with at most two decimals, e.g. 199.00"
# Plain yuan amounts with at most 10 integer digits and 2 decimals: for these, parsing as a
# double and rounding ×100 to the nearest integer is exact (below 2^40 fen the double's error is
# far under half a fen), so the fast path gives exactly what to_fen gives.
_PLAIN_YUAN = r"[0-9]{1,10}(?:\.[0-9]{0,2})?"
_WHOLE_NUMBER = r"\+?[0-9]{1,12}(?:\.0*)?"


# --- the products file: reading raw cells --------------------------------------------------


@dataclass
class _Sheet:
    """A file's cells as text: the header, each column's body cells, their row numbers."""

    header: list[str]
    columns: list[ObjectArray]  # the body's cells (str), column by column
    rows: IntArray  # the spreadsheet row number of each body row


def _fail(file: str, message: str, **where: Any) -> InputError:
    return InputError([Problem(file, message, **where)])


def _check_file(path: Path, file: str) -> int:
    """The file's size, after refusing what is missing, not a file, or absurdly large."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _fail(file, "file not found") from None
    except OSError as error:
        raise _fail(file, f"cannot read the file: {error.strerror or error}") from None
    if not path.is_file():
        raise _fail(file, "not a file")
    if size > MAX_FILE_BYTES:
        raise _fail(
            file,
            f"the file is {size / 2**20:,.0f} MB; price-opt reads at most "
            f"{MAX_FILE_BYTES // 2**20} MB (about {MAX_ROWS:,} products)",
        )
    return size


def _decode_name(raw: bytes, file: str) -> str:
    """The encoding of a CSV file: UTF-8 (BOM or not), else GB18030 (a superset of GBK)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _fail(
            file,
            'the file is UTF-16 text (Excel\'s "Unicode text"); save it as "CSV UTF-8" or as .xlsx',
        )
    try:
        raw.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError as utf8_error:
        try:
            raw.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            line = raw.count(b"\n", 0, utf8_error.start) + 1
            raise _fail(
                file,
                f"cannot read the text: it is neither UTF-8 nor GBK (byte "
                f"0x{raw[utf8_error.start]:02x} on line {line} is not valid in either); "
                'save it from Excel as "CSV UTF-8" or as .xlsx',
            ) from None


def _separator(first_line: str) -> str:
    """Commas, unless the header line is plainly tab- or semicolon-separated."""
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _read_csv(path: Path, file: str) -> _Sheet:
    raw = path.read_bytes()
    encoding = _decode_name(raw, file)
    if not raw.strip().strip(codecs.BOM_UTF8).strip():
        raise _fail(file, _EMPTY)
    first_line = raw[: raw.find(b"\n") if b"\n" in raw else len(raw)].decode(
        encoding, errors="replace"
    )
    try:
        table = pd.read_csv(
            io.BytesIO(raw),
            encoding=encoding,
            sep=_separator(first_line),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            nrows=MAX_ROWS + 2,
        )
    except pd.errors.EmptyDataError:
        raise _fail(file, _EMPTY) from None
    except pd.errors.ParserError as error:
        raise _fail(file, _csv_structure_message(str(error))) from None
    # With na_filter off, every cell (a missing trailing one too) is a str.
    return _split_header(table.to_numpy(dtype=object), file)


def _csv_structure_message(detail: str) -> str:
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if ragged:
        expected, line, seen = ragged.groups()
        return (
            f"line {line} has {seen} cells but the first row has {expected}; "
            "a stray separator, or a value with a comma that needs quotes?"
        )
    return f"not a readable CSV table: {detail.removeprefix('Error tokenizing data. C error: ')}"


def _xlsx_cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would hold (whole numbers without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


def _read_xlsx(path: Path, file: str) -> _Sheet:
    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise _fail(file, "cannot read .xlsx safely: the defusedxml package is not installed")
    if not zipfile.is_zipfile(path):
        raise _fail(file, "not an .xlsx workbook (not a zip archive); an old .xls? Save as .xlsx")
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _fail(
            file,
            f"the workbook unpacks to {unpacked / 2**30:,.1f} GB; price-opt reads at most "
            f"{MAX_XLSX_UNPACKED_BYTES // 2**30} GB",
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged or hostile file
        raise _fail(file, f"not a readable .xlsx workbook: {error}") from None
    try:
        if not workbook.worksheets:
            raise _fail(file, "the workbook has no sheet")
        sheet = workbook.worksheets[0]
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > MAX_ROWS + 1 or declared_columns > MAX_COLUMNS:
            raise _fail(
                file,
                f"sheet {sheet.title!r} declares {declared_rows:,} rows × {declared_columns:,} "
                f"columns; price-opt reads at most {MAX_ROWS:,} products and {MAX_COLUMNS} "
                "columns",
            )
        # The declared size can also be wrong the other way (too small): read what is there.
        sheet.reset_dimensions()
        rows: list[list[str]] = []
        try:
            for values in sheet.iter_rows(values_only=True):
                if len(rows) > MAX_ROWS + 1 or len(values) > MAX_COLUMNS:
                    raise _fail(
                        file,
                        f"sheet {sheet.title!r} has more than {MAX_ROWS:,} rows or "
                        f"{MAX_COLUMNS} columns",
                    )
                rows.append([_xlsx_cell_text(value) for value in values])
        except InputError:
            raise
        except Exception as error:  # a damaged or hostile sheet: report, never crash
            raise _fail(file, f"not a readable .xlsx workbook: {error}") from None
    finally:
        workbook.close()
    width = max((len(row) for row in rows), default=0)
    table = np.empty((len(rows), width), dtype=object)
    for index, row in enumerate(rows):
        table[index] = row + [""] * (width - len(row))
    return _split_header(table, file)


def _split_header(table: ObjectArray, file: str) -> _Sheet:
    """Find the header (the first non-empty row) and drop rows with nothing in them."""
    if table.ndim != 2 or not table.size:
        raise _fail(file, _EMPTY)
    filled = np.asarray(table[:, 0] != "", dtype=np.bool_)
    doubtful = np.flatnonzero(~filled)
    if len(doubtful):
        filled[doubtful] = (table[doubtful] != "").any(axis=1)
    non_empty = np.flatnonzero(filled)
    if not len(non_empty):
        raise _fail(file, _EMPTY)
    header_index = int(non_empty[0])
    body_index = non_empty[non_empty > header_index]
    if len(body_index) > MAX_ROWS:
        raise _fail(file, f"more than {MAX_ROWS:,} products; split the catalogue")
    header = [str(cell).strip() for cell in table[header_index].tolist()]
    contiguous = len(body_index) == table.shape[0] - header_index - 1
    body = table[header_index + 1 :] if contiguous else table[body_index]
    return _Sheet(
        header=header,
        columns=[body[:, position] for position in range(table.shape[1])],
        rows=(body_index + 1).astype(np.int64),
    )


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

    def __init__(self, file: str, sheet: _Sheet) -> None:
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
            name = _COLUMN_BY_HEADER.get(written.casefold())
            if name is not None:
                positions.setdefault(name, []).append(position)
            elif written or (self.sheet.columns[position] != "").any():
                unknown.append(_column_label(written, position))
            # An unnamed, empty column is a spreadsheet artefact: ignored.
        if unknown:
            self.problems.append(
                Problem(
                    self.file,
                    f"unknown column{'s' if len(unknown) > 1 else ''} "
                    f"{_with_hints(unknown, _COLUMN_BY_HEADER, cutoff=0.75)}; "
                    f"accepted columns: {_ACCEPTED_HEADERS}",
                    row=1,
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
        not_numbers: list[int] = []
        too_fine: list[int] = []
        odd = np.flatnonzero(filled & ~ok)
        for position, text in zip(odd.tolist(), cells[odd].tolist(), strict=True):
            try:
                fen[position] = to_fen(text)
                ok[position] = True
            except MoneyFormatError:
                (too_fine if _is_number(text) else not_numbers).append(position)
        self.report(column, _mask(self.count, not_numbers), f"not a number; expected {_MONEY_HINT}")
        self.report(
            column,
            _mask(self.count, too_fine),
            "more than two decimals: money is counted to the fen (0.01 yuan)",
        )
        if positive:
            self.report(column, ok & (fen <= 0), "must be above zero")
        else:
            self.report(column, ok & (fen < 0), "must not be negative")
        return fen, ok & (fen > 0 if positive else fen >= 0)

    def whole_number(self, column: str, *, minimum: int) -> tuple[IntArray, BoolArray]:
        """Whole numbers, and which cells hold a valid one (at least ``minimum``)."""
        cells, filled, whole = self._screened(column, _all_plain_whole, _WHOLE_NUMBER_CELL)
        numbers = np.zeros(self.count, dtype=np.int64)
        if column in self._plain:
            numbers[whole] = cells[whole].astype(np.int64)
        else:  # "+5" and "12.0" pass the cell pattern too: through float (exact below 2^53)
            numbers[whole] = cells[whole].astype(np.float64).astype(np.int64)
        example = ", e.g. 120" if minimum == 0 else ""
        self.report(column, filled & ~whole, f"expected a whole number ≥ {minimum}{example}")
        self.report(column, whole & (numbers < minimum), f"must be at least {minimum}")
        return numbers, whole & (numbers >= minimum)

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


def _mask(length: int, positions: Sequence[int]) -> BoolArray:
    mask = np.zeros(length, dtype=np.bool_)
    mask[list(positions)] = True
    return mask


def _is_number(text: str) -> bool:
    try:
        return Decimal(text.replace(",", "").replace("¥", "").replace("￥", "")).is_finite()
    except InvalidOperation:
        return False


def _with_hints(names: Sequence[str], accepted: Mapping[str, str], cutoff: float) -> str:
    """Quoted names, each with a "did you mean" when one accepted name is close.

    ``accepted`` maps what may be written (case-folded) to the name to suggest.
    """
    shown = []
    for name in names:
        close = difflib.get_close_matches(name.casefold(), list(accepted), n=1, cutoff=cutoff)
        hint = f" (did you mean {accepted[close[0]]!r}?)" if close else ""
        shown.append(f"{name!r}{hint}")
    return ", ".join(shown)


@dataclass
class _ProductColumns:
    """The checked columns, ready to build products (lists of plain Python values)."""

    sku: list[str]
    item_id: list[str]
    title: list[str]
    category: list[str]
    role: list[Role]
    list_price_fen: list[int]
    lowest_price_fen: list[int]
    unit_cost_fen: list[int]
    stock: list[int]
    base_units: list[float]
    elasticity: list[float | None]
    purchase_limit: list[int | None]
    b2g1_eligible: list[bool]


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
    answers, unknown = _lookup(check.cells("b2g1"), _YES_NO, True)
    check.report("b2g1", unknown, "expected yes/no (是/否, Y/N, true/false, 1/0); empty = yes")
    return answers


def _optional(values: npt.NDArray[Any], given: BoolArray) -> list[Any]:
    """The values as a list, with None where none was given."""
    optional = values.astype(object)
    optional[~given] = None
    as_list: list[Any] = optional.tolist()
    return as_list


def _check_products(file: str, sheet: _Sheet) -> tuple[_ProductColumns | None, list[Problem]]:
    """Check every column; the columns when there is no error, and every problem found."""
    check = _ProductChecker(file, sheet)
    count = check.count
    if check.present("sku"):
        _check_skus(check)
    roles = _check_roles(check)

    list_fen = cost_fen = np.zeros(count, dtype=np.int64)
    list_ok = cost_ok = np.zeros(count, dtype=np.bool_)
    if check.present("list_price"):
        list_fen, list_ok = check.money("list_price", positive=True)
        check.require_filled("list_price", _MONEY_HINT)
    lowest_fen = list_fen
    if check.present("lowest_price"):
        given_fen, given_ok = check.money("lowest_price", positive=True)
        lowest_fen = np.where(given_ok, given_fen, list_fen)
    if check.present("unit_cost"):
        cost_fen, cost_ok = check.money("unit_cost", positive=False)
        check.require_filled("unit_cost", _MONEY_HINT)
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
        limits = _optional(*check.whole_number("purchase_limit", minimum=1))

    base_units = np.zeros(count, dtype=np.float64)
    if check.present("base_units"):
        base_units, base_ok = check.number("base_units")
        check.require_filled("base_units", "the expected units at the everyday price, ≥ 0")
        check.report("base_units", base_ok & (base_units < 0), "must not be negative")
    elasticity: list[float | None] = [None] * count
    if check.present("elasticity"):
        values, given = check.number("elasticity")
        check.report(
            "elasticity",
            given & (values >= 0),
            "must be below zero (units fall as the price rises), e.g. -1.8; "
            "leave empty for the rules' default",
        )
        elasticity = _optional(values, given)
    b2g1 = _check_b2g1(check)

    problems = check.sorted_problems()
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
        title=check.texts("title"),
        category=check.texts("category"),
        role=roles,
        list_price_fen=list_fen.tolist(),
        lowest_price_fen=lowest_fen.tolist(),
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
            sku, item_id, title, category, role, list_price_fen, lowest_price_fen,
            unit_cost_fen, stock, base_units, elasticity, purchase_limit, b2g1_eligible,
        ) in zip(
            columns.sku, columns.item_id, columns.title, columns.category, columns.role,
            columns.list_price_fen, columns.lowest_price_fen, columns.unit_cost_fen,
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
                    "title": title,
                    "category": category,
                    "role": role,
                    "list_price_fen": list_price_fen,
                    "lowest_price_fen": lowest_price_fen,
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


def input_error(problems: Sequence[Problem]) -> InputError:
    """One :class:`InputError` for these problems, saying how rows are numbered if it names any.

    For callers that gather the problems of several files (``price-opt validate``) into one.
    """
    error = InputError(problems)
    if any(p.row is not None and p.column is not None for p in error.problems):
        error.args = (f"{error.args[0]}\n  ({ROW_CONVENTION})",)
    return error


def load_products(path: Path) -> tuple[tuple[Product, ...], list[Problem]]:
    """Read a products file (.csv or .xlsx): the products, and warnings.

    Raises :class:`InputError` listing every problem of the file at once; its ``warnings``
    hold the warnings found as well.
    """
    file = str(path)
    _check_file(path, file)
    suffix = path.suffix.casefold()
    if suffix in {".csv", ".txt", ".tsv"}:
        sheet = _read_csv(path, file)
    elif suffix in {".xlsx", ".xlsm"}:
        sheet = _read_xlsx(path, file)
    elif suffix == ".xls":
        raise _fail(file, "an old Excel .xls file; save it as .xlsx or as CSV UTF-8")
    else:
        raise _fail(file, f"unknown kind of file {path.suffix!r}; expected .csv or .xlsx")
    columns, problems = _check_products(file, sheet)
    if columns is None:
        raise input_error(problems)
    return _build_products(columns), problems


# --- the rules file ------------------------------------------------------------------------


class _Kind(Enum):
    MONEY = "an amount in yuan with at most two decimals, e.g. 8 or 8.50"
    RATE = "a share as a number, e.g. 0.05"
    RATES = "a list of shares, e.g. [0.95, 0.90]"
    NUMBER = "a number"
    WHOLE = "a whole number"
    BOOL = "true or false"
    TEXT = "text in quotes"
    COUPONS = "a list of [threshold, amount] pairs in yuan, e.g. [[0, 5], [99, 10]]"
    BANDS = 'a list of [up to yuan or "inf", share, typical yuan], e.g. [[100, 0.22, 79]]'


@dataclass(frozen=True)
class RulesKey:
    """A key of the rules file: the model field it fills and how its value is read."""

    field: str
    kind: _Kind


_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "platform": PlatformRules,
    "store": StoreRules,
    "ladder": DiscountLadder,
    "coupons": CouponRules,
    "b2g1": B2G1Rules,
    "demand": DemandRules,
}
RULES_KEYS: dict[str, dict[str, RulesKey]] = {
    "platform": {
        "commission_rate": RulesKey("commission_rate", _Kind.RATE),
        "min_discount": RulesKey("min_discount", _Kind.RATE),
        "lowest_price_factor": RulesKey("lowest_price_factor", _Kind.RATE),
        "mechanism": RulesKey("mechanism", _Kind.TEXT),
        "cross_store_every": RulesKey("cross_store_every_fen", _Kind.MONEY),
        "cross_store_save": RulesKey("cross_store_save_fen", _Kind.MONEY),
        "official_rate": RulesKey("official_rate", _Kind.RATE),
    },
    "store": {
        "shipping_cost": RulesKey("shipping_cost_fen", _Kind.MONEY),
        "handling_cost": RulesKey("handling_cost_fen", _Kind.MONEY),
        "margin_floor_rate": RulesKey("margin_floor_rate", _Kind.RATE),
        "budget": RulesKey("budget_fen", _Kind.MONEY),
    },
    "ladder": {"levels": RulesKey("levels", _Kind.RATES)},
    "coupons": {
        "candidates": RulesKey("candidates", _Kind.COUPONS),
        "max_tiers": RulesKey("max_tiers", _Kind.WHOLE),
    },
    "b2g1": {
        "enabled": RulesKey("enabled", _Kind.BOOL),
        "uplift": RulesKey("uplift", _Kind.NUMBER),
        "free_share": RulesKey("free_share", _Kind.NUMBER),
    },
    "demand": {
        "default_elasticity": RulesKey("default_elasticity", _Kind.NUMBER),
        "event_uplift": RulesKey("event_uplift", _Kind.NUMBER),
        "cross_store_take_rate": RulesKey("cross_store_take_rate", _Kind.NUMBER),
        "units_per_order": RulesKey("units_per_order", _Kind.NUMBER),
        "coupon_redemption": RulesKey("coupon_redemption", _Kind.NUMBER),
        "coupon_response": RulesKey("coupon_response", _Kind.NUMBER),
        "order_bands": RulesKey("order_bands", _Kind.BANDS),
    },
}
_SECTION_NAMES = {name: name for name in RULES_KEYS}
_OPEN_ENDED = "inf"


class _BadValue(ValueError):
    """A value of the rules file that cannot be read as its kind."""


def _read_money(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadValue(f"expected {_Kind.MONEY.value}")
    try:
        return to_fen(value)
    except MoneyFormatError as error:
        raise _BadValue(f"{str(error).split(' ', 1)[1]}; expected {_Kind.MONEY.value}") from None


def _read_rate(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadValue(f"expected {_Kind.RATE.value}")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise _BadValue(f"expected {_Kind.RATE.value}") from None
    if not rate.is_finite():
        raise _BadValue(f"expected {_Kind.RATE.value}")
    return rate


def _read_list(value: object, kind: _Kind, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise _BadValue(f"expected {kind.value}")
    if length is not None and any(not isinstance(v, list) or len(v) != length for v in value):
        raise _BadValue(f"expected {kind.value}")
    return value


def _read_value(value: object, kind: _Kind) -> Any:
    """The value of a key converted to what the model takes (money in fen, rates Decimal)."""
    if kind is _Kind.MONEY:
        return _read_money(value)
    if kind is _Kind.RATE:
        return _read_rate(value)
    if kind is _Kind.RATES:
        return [_read_rate(level) for level in _read_list(value, kind)]
    if kind is _Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _BadValue(f"expected {kind.value}")
        return float(value)
    if kind is _Kind.WHOLE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.BOOL:
        if not isinstance(value, bool):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.TEXT:
        if not isinstance(value, str):
            raise _BadValue(f"expected {kind.value}")
        return value
    if kind is _Kind.COUPONS:
        return [
            {"threshold_fen": _read_money(threshold), "amount_fen": _read_money(amount)}
            for threshold, amount in _read_list(value, kind, length=2)
        ]
    # _Kind.BANDS
    bands = []
    for upto, share, typical in _read_list(value, kind, length=3):
        open_ended = isinstance(upto, str) and upto.strip().casefold() in {_OPEN_ENDED, "∞"}
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise _BadValue(f"a share must be a number; expected {kind.value}")
        bands.append(
            {
                "upto_fen": None if open_ended else _read_money(upto),
                "share": float(share),
                "typical_fen": _read_money(typical),
            }
        )
    return bands


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return _toml_inline(value)
    return str(value)


def _toml_inline(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    return _shown(value)


def _validation_problems(
    file: str, section: str, error: ValidationError, raw: Mapping[str, object]
) -> list[Problem]:
    """A model's validation errors as problems naming the section and the key of the file."""
    key_of_field = {spec.field: key for key, spec in RULES_KEYS[section].items()}
    problems = []
    for issue in error.errors():
        location = issue["loc"]
        message = issue["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if not location:
            problems.append(Problem(file, f"section {section}: {message}"))
            continue
        key = key_of_field.get(str(location[0]), str(location[0]))
        where = f"{section}.{key}"
        value: object = raw.get(key)
        if len(location) > 1 and isinstance(location[1], int) and isinstance(value, list):
            where += f" item {location[1] + 1}"
            value = value[location[1]] if location[1] < len(value) else None
        problems.append(
            Problem(file, f"{where}: {message}", value=None if value is None else _shown(value))
        )
    return problems


def _read_toml(path: Path, file: str) -> dict[str, Any]:
    size = _check_file(path, file)
    if size > MAX_RULES_BYTES:
        raise _fail(file, f"the rules file is {size:,} bytes; a rules file is a few kilobytes")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise _fail(file, f"not UTF-8 text (TOML files are UTF-8): line {line}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        place = re.search(r"\(at line (\d+), column (\d+)\)", detail)
        reason = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", detail)
        reason = reason[:1].lower() + reason[1:]
        where = f"line {place.group(1)}, column {place.group(2)}: " if place else ""
        raise _fail(file, f"not valid TOML: {where}{reason}") from None


def load_rules(path: Path) -> Rules:
    """Read a rules file (TOML): every key optional, every problem reported at once."""
    file = str(path)
    return rules_from_document(_read_toml(path, file), file)


def rules_from_document(document: Mapping[str, Any], file: str) -> Rules:
    """The rules of a parsed rules document (sections of keys, as in the rules file), checked
    like a rules file; problems name ``file``."""
    problems: list[Problem] = []
    sections: dict[str, BaseModel] = {}
    unknown_sections = [name for name in document if name not in RULES_KEYS]
    for name in unknown_sections:
        home = [section for section, keys in RULES_KEYS.items() if name in keys]
        if home and not isinstance(document[name], dict):
            message = f"key {name!r} outside any section; it belongs in section {home[0]}"
        else:
            message = (
                f"unknown section {_with_hints([name], _SECTION_NAMES, cutoff=0.6)}; "
                f"accepted sections: {', '.join(RULES_KEYS)}"
            )
        problems.append(Problem(file, message))
    for section, keys in RULES_KEYS.items():
        table = document.get(section, {})
        if not isinstance(table, dict):
            problems.append(
                Problem(file, f"{section} must be a section (a table)", value=_shown(table))
            )
            continue
        unknown = [key for key in table if key not in keys]
        if unknown:
            problems.append(
                Problem(
                    file,
                    f"section {section}: unknown key{'s' if len(unknown) > 1 else ''} "
                    f"{_with_hints(unknown, {k: k for k in keys}, cutoff=0.6)}; "
                    f"accepted keys: {', '.join(keys)}",
                )
            )
        fields: dict[str, Any] = {}
        converted = True
        for key, spec in keys.items():
            if key not in table:
                continue
            try:
                fields[spec.field] = _read_value(table[key], spec.kind)
            except (_BadValue, TypeError, ValueError) as error:
                message = (
                    str(error) if isinstance(error, _BadValue) else f"expected {spec.kind.value}"
                )
                problems.append(
                    Problem(file, f"{section}.{key}: {message}", value=_shown(table[key]))
                )
                converted = False
        if not converted:
            continue
        try:
            sections[section] = _SECTION_MODELS[section].model_validate(fields)
        except ValidationError as error:
            problems.extend(_validation_problems(file, section, error, table))
    if problems:
        raise InputError(problems)
    return Rules.model_validate({name: model for name, model in sections.items()})


def rules_to_dict(rules: Rules) -> dict[str, dict[str, Any]]:
    """The rules in the file's own keys and units: yuan and rates as strings, for the record.

    :func:`rules_from_document` (and ``load_rules``, written out as TOML) reads this back to the
    same rules.
    """
    document: dict[str, dict[str, Any]] = {}
    for section, keys in RULES_KEYS.items():
        model = getattr(rules, section)
        entries: dict[str, Any] = {}
        for key, spec in keys.items():
            entries[key] = _file_value(getattr(model, spec.field), spec.kind)
        document[section] = entries
    return document


def _file_value(value: Any, kind: _Kind) -> Any:
    if kind is _Kind.MONEY:
        return format_yuan(value)
    if kind is _Kind.RATE:
        return str(value)
    if kind is _Kind.RATES:
        return [str(level) for level in value]
    if kind is _Kind.TEXT:
        return str(value.value if isinstance(value, Enum) else value)
    if kind is _Kind.COUPONS:
        return [[format_yuan(t.threshold_fen), format_yuan(t.amount_fen)] for t in value]
    if kind is _Kind.BANDS:
        return [
            [
                _OPEN_ENDED if band.upto_fen is None else format_yuan(band.upto_fen),
                band.share,
                format_yuan(band.typical_fen),
            ]
            for band in value
        ]
    return value


# --- the bundled samples and file fingerprints ----------------------------------------------


def _sample(name: str) -> Path:
    resource = resources.files(SAMPLES_PACKAGE).joinpath(name)
    path = Path(str(resource))
    if not path.is_file():
        raise _fail(name, "the bundled sample file is missing; reinstall price-opt")
    return path


def sample_products_path() -> Path:
    """The bundled sample catalogue (a Tmall die-cast model-car store), after any install."""
    return _sample(SAMPLE_PRODUCTS)


def sample_rules_path() -> Path:
    """The bundled sample rules (Tmall Double 11, every ¥300 save ¥50)."""
    return _sample(SAMPLE_RULES)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, hex: records exactly which input a plan was made from."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
