"""Checking a table's columns at once: every bad cell of every column, then a count.

:class:`ColumnChecker` maps a table's header to its :class:`Column` specification (English or
Chinese names, matched without regard to case, spaces or a unit suffix such as ``（元）``;
unknown columns are a warning with a "did you mean", missing ones an error), then reads columns
of money, whole numbers and numbers within their stated ranges. Each numeric column is screened
whole (one regular-expression scan of its cells joined by newlines) and converted by numpy; only
a column that fails the screen is examined cell by cell, with :func:`models.money.to_fen`
deciding what is wrong with an amount. After :data:`MAX_REPORTED_PER_RULE` rows with the same
problem in one column, one more line gives the count and the row range of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.limits import MAX_UNITS
from models.money import MAX_UNIT_FEN, MONEY_HINT, MoneyFormatError, to_fen
from pricing.errors import Problem
from pricing.formats.tables import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    Table,
    with_hints,
)

# A whole column of bad cells would bury the other problems: after this many rows with the same
# problem in one column, one more line gives the count of the rest.
MAX_REPORTED_PER_RULE = 50


@dataclass(frozen=True)
class Column:
    """One column of a table file: its English name, Chinese aliases, and its rule."""

    name: str
    aliases: tuple[str, ...]
    required: bool
    rule: str


def accepted_headers(columns: Sequence[Column]) -> str:
    """The names a table accepts, as its unknown-column message lists them."""
    return ", ".join(f"{column.name} ({'/'.join(column.aliases)})" for column in columns)


# A unit after a header, as exports write it: 日常价（元）, 成本(元), 库存（件）, price (¥).
_HEADER_UNIT = re.compile(r"\s*[（(]\s*(?:元|¥|￥|rmb|cny|yuan|件|个|pcs)\s*[)）]\s*$",
                          re.IGNORECASE)


def header_key(written: str) -> str:
    """A header as it is matched: case-folded, spaces around it and a unit suffix dropped."""
    return _HEADER_UNIT.sub("", written.strip()).strip().casefold()


# Plain yuan amounts with at most 10 integer digits and 2 decimals: for these, parsing as a
# double and rounding ×100 to the nearest integer is exact (below 2^40 fen the double's error is
# far under half a fen), so the fast path gives exactly what to_fen gives.
_PLAIN_YUAN = r"[0-9]{1,10}(?:\.[0-9]{0,2})?"
_WHOLE_NUMBER = r"\+?[0-9]{1,12}(?:\.0*)?"



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
        joined.count("\n") != max(len(texts) - 1, 0)
        or _NOT_MONEY_CHARACTER.search(joined)
        or _FINER_THAN_FEN_OR_TWO_DOTS.search(joined)
        or "\n.\n" in f"\n{joined}\n"
        or not _longest_digit_run_within(texts, joined, _MAX_YUAN_DIGITS)
    )


def _all_plain_whole(texts: list[str]) -> bool:
    """Whether every cell is empty or a plain whole number (digits only)."""
    joined = "\n".join(texts)
    return not (
        # A line break inside a cell would pass as the separator: such a column is not plain.
        joined.count("\n") != max(len(texts) - 1, 0)
        or _NOT_DIGIT.search(joined)
        or not _longest_digit_run_within(texts, joined, _MAX_WHOLE_DIGITS)
    )


def _numbers(cells: ObjectArray) -> FloatArray:
    """Cells as floats; NaN where a cell is not a number (C-speed parsing by pandas, imported
    here: only a column with a cell that is not a plain number comes this way)."""
    import pandas as pd

    parsed = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
    return np.asarray(parsed, dtype=np.float64)


def _column_label(header: str, position: int) -> str:
    return header if header else f"#{position + 1} (no header)"


def more_rows(file: str, header: str, rows: Sequence[int] | IntArray, severity: str) -> Problem:
    """The one line that stands for the bad rows past :data:`MAX_REPORTED_PER_RULE`."""
    first, last = int(rows[0]), int(rows[-1])
    return Problem(
        file,
        f"…and {len(rows):,} more rows with the same problem (rows {first} to {last})",
        column=header,
        severity=severity,
    )


def in_table_order(problems: Sequence[Problem], header: Sequence[str]) -> list[Problem]:
    """The file's problems first, then each bad cell by row and column, then the counts."""
    position = {written: index for index, written in enumerate(header)}

    def place(problem: Problem) -> tuple[int, int, int]:
        if problem.column is None:
            return (0, 0, 0)
        if problem.row is None:
            return (2, position.get(problem.column, 0), 0)
        return (1, problem.row, position.get(problem.column, 0))

    return sorted(problems, key=place)


def match_header(
    file: str,
    header: Sequence[str],
    filled: Callable[[int], bool],
    spec: Sequence[Column],
    *,
    unknown_severity: Literal["error", "warning"],
    what: str,
) -> tuple[dict[str, int], list[Problem]]:
    """Where each column of ``spec`` stands in ``header``, and the header's problems.

    Headers match a column's name or aliases by :func:`header_key`. An unknown header (or an
    unnamed column with cells) is reported once for all, with "did you mean" hints, at
    ``unknown_severity``; a column written twice and a missing required column are errors.
    ``what`` names the kind of file in the message ("a history"), or is empty.
    """
    by_header = {
        header_key(written): column.name
        for column in spec
        for written in (column.name, *column.aliases)
    }
    problems: list[Problem] = []
    unknown: list[str] = []
    positions: dict[str, list[int]] = {}
    for position, written in enumerate(header):
        name = by_header.get(header_key(written))
        if name is not None:
            positions.setdefault(name, []).append(position)
        elif written or filled(position):
            unknown.append(_column_label(written, position))
        # An unnamed, empty column is a spreadsheet artefact: ignored.
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        lead = "ignored unknown" if unknown_severity == "warning" else "unknown"
        of = f" of {what}" if what else ""
        problems.append(
            Problem(
                file,
                f"{lead} column{plural} {with_hints(unknown, by_header, cutoff=0.75)}; "
                f"accepted columns{of}: {accepted_headers(spec)}",
                row=1,
                severity=unknown_severity,
            )
        )
    for name, found in positions.items():
        if len(found) > 1:
            written = ", ".join(repr(header[p]) for p in found)
            problems.append(Problem(file, f"columns {written} all mean {name!r}; keep one", row=1))
    missing = [c for c in spec if c.required and c.name not in positions]
    if missing:
        names = ", ".join(f"{c.name} ({'/'.join(c.aliases)})" for c in missing)
        problems.append(
            Problem(
                file,
                f"missing required column{'s' if len(missing) > 1 else ''}: {names}",
                row=1,
            )
        )
    return {name: found[0] for name, found in positions.items()}, problems


class ColumnChecker:
    """Checks the columns of one table file, collecting every problem.

    Numeric columns are screened as they stand (a plain column needs no stripping); text
    columns, and numeric columns that fail the screen, are stripped of surrounding spaces.
    """

    def __init__(self, file: str, sheet: Table, columns: Sequence[Column]) -> None:
        self.file = file
        self.spec = tuple(columns)
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
            self.problems.append(
                more_rows(self.file, header, self.sheet.rows[positions[len(shown) :]], severity)
            )

    def sorted_problems(self) -> list[Problem]:
        """The file's problems first, then each bad cell by row and column, then the counts."""
        return in_table_order(self.problems, self.sheet.header)

    # the header

    def _map_columns(self) -> None:
        found, problems = match_header(
            self.file,
            self.sheet.header,
            lambda position: bool((self.sheet.columns[position] != "").any()),
            self.spec,
            unknown_severity="warning",
            what="",
        )
        self.problems.extend(problems)
        for name, position in found.items():
            self.headers[name] = self.sheet.header[position]
            self.raw[name] = self.sheet.columns[position]

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
                mask(self.count, [p for p, m in messages.items() if m == message]),
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


def mask(length: int, positions: Sequence[int]) -> BoolArray:
    mask = np.zeros(length, dtype=np.bool_)
    mask[list(positions)] = True
    return mask
