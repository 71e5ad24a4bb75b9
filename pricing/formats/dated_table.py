"""Reading and checking the cells of a dated table (history or scenario), CSV or .xlsx.

The file and header checks, the column-by-column read as categories, and the per-column
checks that report every bad cell at once (see :mod:`pricing.formats.history`).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from pricing.errors import InputError, Problem
from pricing.formats.columns import (
    MAX_REPORTED_PER_RULE,
    header_key,
    in_table_order,
    match_header,
    more_rows,
)
from pricing.formats.columns import Column as ColumnSpec
from pricing.formats.tables import (
    _csv_structure_message,
    _separator,
    check_file,
    csv_encoding,
    read_xlsx_table,
)

MAX_HISTORY_BYTES = 1024 * 1024 * 1024
MAX_HISTORY_ROWS = 20_000_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]
Column = pd.Categorical | FloatArray  # a column of text cells, or of numbers (fast path)


@dataclass(frozen=True)
class TableColumn(ColumnSpec):
    """One column of the history or scenario file: its name, Chinese aliases, and its rule."""

    numeric: bool = False  # read by the C parser as numbers when every cell is one


_YES_NO: dict[str, bool] = {
    "": False,
    "0": False,
    "1": True,
    "0.0": False,
    "1.0": True,
    "no": False,
    "yes": True,
    "n": False,
    "y": True,
    "false": False,
    "true": True,
    "否": False,
    "是": True,
}
_YES_NO_HINT = "0/1, 是/否, yes/no or true/false; empty = 0"
_EMPTY = "the file is empty; expected a header row and one row per SKU and date"
_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?|(\d{4})(\d{2})(\d{2})"
)
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.0+)?")
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel serial numbers from 1954 to 2119: anything else is not a plausible sales date.
_EXCEL_SERIALS = range(20_000, 80_000)
_NUMBER_CLUTTER = re.compile(r"[¥￥,\s]")


@dataclass
class _Table:
    """A file's columns as categories (each distinct cell once), and each row's row number."""

    header: list[str]
    columns: list[Column]
    rows: IntArray


def _fail(file: str, message: str) -> InputError:
    return InputError([Problem(file, message)])


def _header_line(raw: bytes, encoding: str, file: str) -> tuple[int, str]:
    """The index and text of the first line with something in it (the header)."""
    start = 0
    for index in range(MAX_HISTORY_ROWS):
        end = raw.find(b"\n", start)
        line = raw[start : end if end >= 0 else len(raw)].decode(encoding, errors="replace")
        if line.strip().strip(",;\t\ufeff").strip():
            return index, line.lstrip("\ufeff")
        if end < 0:
            break
        start = end + 1
    raise _fail(file, _EMPTY)


def _read_csv_categories(path: Path, file: str, numeric: frozenset[str]) -> _Table:
    """The file's columns: as categories, or (fast path, for the columns whose header is in
    ``numeric``) as floats parsed by pandas' C reader; any cell that does not parse sends the
    whole file down the category path, which then reports every bad cell."""
    raw = path.read_bytes()
    encoding = csv_encoding(raw, file)
    if not raw.strip().strip(codecs.BOM_UTF8).strip():
        raise _fail(file, _EMPTY)
    header_index, header_line = _header_line(raw, encoding, file)
    separator = _separator(header_line)
    header = next(csv.reader([header_line], delimiter=separator), [])
    numbers = {
        str(position)
        for position, written in enumerate(header)
        if header_key(written) in numeric
    }
    names = [str(position) for position in range(len(header))]
    try:
        typed = pd.read_csv(
            io.BytesIO(raw),
            encoding=encoding,
            sep=separator,
            header=None,
            names=names,
            skiprows=header_index + 1,
            dtype={p: ("float64" if p in numbers else "category") for p in names},
            keep_default_na=False,
            na_values={p: [""] for p in numbers},
            skip_blank_lines=False,
            nrows=MAX_HISTORY_ROWS + 1,
        )
        if typed.shape[1] == len(header) and isinstance(typed.index, pd.RangeIndex):
            del raw
            return _fast_table(typed, header, header_index, file)
    except (ValueError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        pass
    try:
        table = pd.read_csv(
            io.BytesIO(raw),
            encoding=encoding,
            sep=separator,
            header=None,
            skiprows=header_index,
            dtype="category",
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            nrows=MAX_HISTORY_ROWS + 2,
        )
    except pd.errors.EmptyDataError:
        raise _fail(file, _EMPTY) from None
    except pd.errors.ParserError as error:
        raise _fail(file, _csv_structure_message(str(error))) from None
    del raw
    return _split_header([table[name].array for name in table.columns], file, header_index)


def _fast_table(typed: pd.DataFrame, header: list[str], header_index: int, file: str) -> _Table:
    columns: list[Column] = [
        np.asarray(typed[name], dtype=np.float64)
        if typed[name].dtype == np.float64
        else typed[name].array
        for name in typed.columns
    ]
    filled = np.zeros(len(typed), dtype=np.bool_)
    for column in columns:
        filled |= _filled(column)
    body = np.flatnonzero(filled)
    if len(body) > MAX_HISTORY_ROWS:
        raise _fail(file, f"more than {MAX_HISTORY_ROWS:,} rows; split the history")
    if len(body) < len(typed):
        columns = [column[body] for column in columns]
    columns = [
        column.remove_unused_categories() if isinstance(column, pd.Categorical) else column
        for column in columns
    ]
    return _Table(
        header=[cell.strip() for cell in header],
        columns=columns,
        rows=(body + header_index + 2).astype(np.int64),
    )


def _filled(column: Column) -> BoolArray:
    if isinstance(column, pd.Categorical):
        return np.asarray(column.codes != _code_of(column, ""), dtype=np.bool_)
    return np.asarray(~np.isnan(column), dtype=np.bool_)


def _cell_text(column: Column, position: int) -> str:
    if isinstance(column, pd.Categorical):
        return str(column[position])
    return _float_text(float(column[position]))


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _read_xlsx_categories(path: Path, file: str) -> _Table:
    sheet = read_xlsx_table(path, file)  # the header found, empty rows dropped, rows numbered
    return _Table(
        header=sheet.header,
        columns=[pd.Categorical(cells) for cells in sheet.columns],
        rows=sheet.rows,
    )


def _split_header(columns: list[pd.Categorical], file: str, skipped: int = 0) -> _Table:
    """The first non-empty row is the header; rows with nothing in them are dropped."""
    if not columns or not len(columns[0]):
        raise _fail(file, _EMPTY)
    count = len(columns[0])
    filled = np.zeros(count, dtype=np.bool_)
    for column in columns:
        empty_code = _code_of(column, "")
        filled |= column.codes != empty_code
    non_empty = np.flatnonzero(filled)
    if not len(non_empty):
        raise _fail(file, _EMPTY)
    header_at = int(non_empty[0])
    body = non_empty[1:]
    if len(body) > MAX_HISTORY_ROWS:
        raise _fail(file, f"more than {MAX_HISTORY_ROWS:,} rows; split the history")
    header = [str(column[header_at]).strip() for column in columns]
    row_numbers = (body + 1 + skipped).astype(np.int64)
    contiguous = len(body) == count - header_at - 1
    trimmed: list[Column] = [
        (column[header_at + 1 :] if contiguous else column[body]).remove_unused_categories()
        for column in columns
    ]
    return _Table(header=header, columns=trimmed, rows=row_numbers)


def _code_of(column: pd.Categorical, text: str) -> int:
    found = np.flatnonzero(np.asarray(column.categories, dtype=object) == text)
    return int(found[0]) if len(found) else -2


class _Checker:
    """Checks the columns of one table, collecting every problem (all at once)."""

    def __init__(self, file: str, table: _Table, spec: Sequence[TableColumn], what: str) -> None:
        self.file = file
        self.table = table
        self.count = len(table.rows)
        self.problems: list[Problem] = []
        self.headers: dict[str, str] = {}
        self.columns: dict[str, Column] = {}
        self._map_columns(spec, what)

    def _map_columns(self, spec: Sequence[TableColumn], what: str) -> None:
        found, problems = match_header(
            self.file,
            self.table.header,
            lambda position: bool(_filled(self.table.columns[position]).any()),
            spec,
            unknown_severity="error",
            what=what,
        )
        self.problems.extend(problems)
        for name, position in found.items():
            self.headers[name] = self.table.header[position]
            self.columns[name] = self.table.columns[position]

    def present(self, name: str) -> bool:
        return name in self.columns

    def report(
        self, name: str, bad: BoolArray, message: str | Callable[[int], str]
    ) -> None:
        """One problem per bad row of column ``name`` (the first few dozen, then a count)."""
        positions = np.flatnonzero(bad)
        if not len(positions):
            return
        column = self.columns[name]
        header = self.headers[name]
        shown = positions[:MAX_REPORTED_PER_RULE]
        for position in shown.tolist():
            self.problems.append(
                Problem(
                    self.file,
                    message(position) if callable(message) else message,
                    row=int(self.table.rows[position]),
                    column=header,
                    value=_cell_text(column, position),
                )
            )
        if len(positions) > len(shown):
            rows = self.table.rows[positions[len(shown) :]]
            self.problems.append(more_rows(self.file, header, rows, "error"))

    def texts(self, name: str) -> tuple[npt.NDArray[np.object_], IntArray]:
        """Each distinct cell stripped, and each row's code into them."""
        column = self.columns[name]
        if not isinstance(column, pd.Categorical):
            values, codes = np.unique(column, return_inverse=True)
            texts = [_float_text(float(value)) for value in values.tolist()]
            return np.array(texts, dtype=object), codes.astype(np.int64)
        distinct = np.array([str(t).strip() for t in column.categories.tolist()], dtype=object)
        return distinct, np.asarray(column.codes, dtype=np.int64)

    def numbers(self, name: str, expected: str) -> tuple[FloatArray, BoolArray]:
        """Each row's number (NaN where empty or bad), and which rows were filled."""
        column = self.columns[name]
        if not isinstance(column, pd.Categorical):  # parsed whole by the C reader
            filled = np.asarray(~np.isnan(column), dtype=np.bool_)
            self.report(name, filled & ~np.isfinite(column), f"not a number; expected {expected}")
            return np.where(np.isfinite(column), column, np.nan), filled
        distinct, codes = self.texts(name)
        cleaned = pd.Series([_NUMBER_CLUTTER.sub("", text) for text in distinct], dtype=object)
        parsed = np.asarray(pd.to_numeric(cleaned, errors="coerce"), dtype=np.float64)
        filled_distinct = np.asarray(distinct != "", dtype=np.bool_)
        bad_distinct = filled_distinct & ~np.isfinite(parsed)
        self.report(name, bad_distinct[codes], f"not a number; expected {expected}")
        return parsed[codes], filled_distinct[codes]

    def flags(self, name: str) -> BoolArray:
        """A 0/1 column; empty cells are 0."""
        if not self.present(name):
            return np.zeros(self.count, dtype=np.bool_)
        distinct, codes = self.texts(name)
        meanings = [_YES_NO.get(text.casefold()) for text in distinct.tolist()]
        unknown = np.array([m is None for m in meanings], dtype=np.bool_)
        self.report(name, unknown[codes], f"expected {_YES_NO_HINT}")
        values = np.array([bool(m) for m in meanings], dtype=np.bool_)
        return np.asarray(values[codes], dtype=np.bool_)

    def dates(self) -> tuple[DateArray, BoolArray]:
        """Each row's date (``NaT`` where bad), and which rows hold a valid one."""
        distinct, codes = self.texts("date")
        parsed = np.array([_parse_date(text) for text in distinct.tolist()], dtype="datetime64[D]")
        ok_distinct = ~np.isnat(parsed)
        empty_distinct = np.asarray(distinct == "", dtype=np.bool_)
        self.report("date", empty_distinct[codes], "empty; expected a date such as 2025-11-11")
        self.report(
            "date",
            (~ok_distinct & ~empty_distinct)[codes],
            "not a date; expected an ISO date such as 2025-11-11 or an Excel date",
        )
        return parsed[codes], ok_distinct[codes]

    def skus(self) -> tuple[npt.NDArray[np.object_], IntArray, BoolArray]:
        """The distinct SKUs, each row's index into them, and which rows have one."""
        distinct, codes = self.texts("sku")
        empty = np.asarray(distinct == "", dtype=np.bool_)
        self.report("sku", empty[codes], "empty; expected the SKU code")
        # Cells differing only by surrounding spaces are the same SKU.
        unique, inverse = np.unique(distinct.astype(str), return_inverse=True)
        return unique.astype(object), inverse[codes].astype(np.int64), ~empty[codes]

    def sorted_problems(self) -> list[Problem]:
        return in_table_order(self.problems, self.table.header)


def _parse_date(text: str) -> np.datetime64:
    match = _ISO_DATE.fullmatch(text)
    if match:
        groups = [g for g in match.groups() if g is not None]
        try:
            return np.datetime64(date(int(groups[0]), int(groups[1]), int(groups[2])), "D")
        except ValueError:
            return np.datetime64("NaT", "D")
    serial = _EXCEL_SERIAL.fullmatch(text)
    if serial and int(serial.group(1)) in _EXCEL_SERIALS:
        return np.datetime64(_EXCEL_EPOCH + timedelta(days=int(serial.group(1))), "D")
    return np.datetime64("NaT", "D")


def _read_table(path: Path, spec: Sequence[TableColumn]) -> tuple[str, _Table]:
    file = str(path)
    check_file(path, file, MAX_HISTORY_BYTES, f"{MAX_HISTORY_BYTES // 2**20:,} MB of history")
    suffix = path.suffix.casefold()
    if suffix in {".csv", ".txt", ".tsv"}:
        numeric = frozenset(
            header_key(header) for c in spec if c.numeric for header in (c.name, *c.aliases)
        )
        return file, _read_csv_categories(path, file, numeric)
    if suffix in {".xlsx", ".xlsm"}:
        return file, _read_xlsx_categories(path, file)
    if suffix == ".xls":
        raise _fail(file, "an old Excel .xls file; save it as .xlsx or as CSV UTF-8")
    raise _fail(file, f"unknown kind of file {path.suffix!r}; expected .csv or .xlsx")

