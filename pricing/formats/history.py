"""Reading a store's sales history and a forecast scenario (CSV or .xlsx).

Both files are tables of one row per SKU and date, with English or Chinese headers matched
without regard to case or surrounding spaces, read by the same rules as the products file
(UTF-8 with or without BOM, or GBK; comma, tab or semicolon; an .xlsx's first sheet) and
checked at the door: every bad cell is reported at once by file, row (the header is row 1),
column as written, value, and what was expected.

History (:data:`HISTORY_COLUMNS`)
    ``date`` (日期), ``sku`` (SKU / SKU编码 / 商家编码), ``units`` (销量 / 支付件数, ≥ 0),
    ``price`` (成交均价 / 支付单价, the average price paid per unit, yuan > 0); optional
    ``promo`` (活动 / 是否活动), ``feature`` (推广 / 会场), ``category`` (类目), ``visitors``
    (访客数). Rows may be missing; a zero-unit row is data. On a zero-unit row the price may be
    empty (nothing was paid): it is carried from the SKU's nearest earlier row (else later).

Scenario (:data:`SCENARIO_COLUMNS`)
    ``date``, ``sku``, ``price``, optional ``promo``, ``feature``, with the history's headers.

Dates are ISO (``2025-11-11``, also ``2025/11/11``, ``20251111``, with an optional midnight
time) or Excel dates (a date cell, or its serial number such as ``45972``). The period of a
history is inferred from its dates: daily when consecutive dates differ by single days, weekly
when every difference is a multiple of seven days; anything else is an error.

Tables of millions of rows are read column by column as categories: each distinct cell is
checked once, and a bad one is reported on every row that holds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.demand import Period
from pricing.errors import InputError
from pricing.formats.dated_table import (
    MAX_HISTORY_BYTES,
    MAX_HISTORY_ROWS,
    BoolArray,
    DateArray,
    FloatArray,
    IntArray,
    TableColumn,
    _Checker,
    _fail,
    _read_table,
)

__all__ = [
    "HISTORY_COLUMNS",
    "MAX_HISTORY_BYTES",
    "MAX_HISTORY_ROWS",
    "SCENARIO_COLUMNS",
    "History",
    "Period",
    "Scenario",
    "TableColumn",
    "load_history",
    "load_scenario",
]


_DATE = TableColumn("date", ("日期",), True, "ISO date (2025-11-11) or an Excel date")
_SKU = TableColumn("sku", ("SKU编码", "商家编码"), True, "the SKU code, non-empty")
_PROMO = TableColumn("promo", ("活动", "是否活动"), False, "0/1 or 是/否; empty = 0")
_FEATURE = TableColumn("feature", ("推广", "会场"), False, "0/1 or 是/否; empty = 0")

HISTORY_COLUMNS: tuple[TableColumn, ...] = (
    _DATE,
    _SKU,
    TableColumn("units", ("销量", "支付件数"), True, "units sold, ≥ 0", numeric=True),
    TableColumn(
        "price", ("成交均价", "支付单价"), True, "average price paid per unit, yuan > 0", True
    ),
    _PROMO,
    _FEATURE,
    TableColumn("category", ("类目",), False, "free text, one per SKU"),
    TableColumn("visitors", ("访客数",), False, "whole number ≥ 0", numeric=True),
)
SCENARIO_COLUMNS: tuple[TableColumn, ...] = (
    _DATE,
    _SKU,
    TableColumn("price", ("成交均价", "支付单价"), True, "price per unit, yuan > 0", True),
    _PROMO,
    _FEATURE,
)


@dataclass(frozen=True)
class History:
    """A checked sales history: one entry per row, sorted by SKU and date.

    ``sku_index[i]`` indexes :attr:`skus`; ``price_filled`` counts the zero-unit rows whose
    empty price was carried from a neighbouring row; ``categories[k]`` is SKU ``k``'s category
    ("" when the file has none).
    """

    file: str
    period: Period
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    sku_index: IntArray
    dates: DateArray
    units: FloatArray
    price: FloatArray
    promo: BoolArray
    feature: BoolArray
    visitors: FloatArray | None
    has_promo: bool
    has_feature: bool
    has_category: bool
    price_filled: int

    @property
    def rows(self) -> int:
        """The number of rows of history."""
        return len(self.units)

    def describe(self) -> str:
        """One line: rows, SKUs, dates and the inferred period."""
        first, last = self.dates.min(), self.dates.max()
        periods = int((last - first).astype(np.int64)) // self.period.days + 1
        unit = "days" if self.period is Period.DAY else "weeks"
        return (
            f"{self.rows:,} rows, {len(self.skus):,} SKUs, {first} to {last} "
            f"({periods} {unit}; period inferred: {self.period.value})"
        )


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: the prices (and promotion, feature) to forecast, row by row."""

    file: str
    skus: npt.NDArray[np.object_]
    dates: DateArray
    price: FloatArray
    promo: BoolArray
    feature: BoolArray
    rows: IntArray


# --- reading cells -----------------------------------------------------------------------------


# --- checking ----------------------------------------------------------------------------------


def _infer_period(file: str, dates: DateArray) -> Period:
    distinct = np.unique(dates)
    if len(distinct) < 2:
        raise _fail(
            file,
            "a history needs at least two dates to tell daily from weekly rows "
            f"(found {len(distinct)})",
        )
    steps = np.diff(distinct).astype(np.int64)
    step = math.gcd(*steps.tolist())
    if step == 1:
        return Period.DAY
    if step % 7 == 0:
        return Period.WEEK
    raise _fail(
        file,
        f"the dates are {step} days apart at the least (e.g. {distinct[0]}, {distinct[1]}); "
        "expected one row per SKU and day, or per SKU and week",
    )


def _report_duplicates(
    check: _Checker, sku_index: IntArray, dates: DateArray, usable: BoolArray
) -> IntArray:
    """Report a second row of a SKU and date; return the order of the rows by SKU and date."""
    keys = sku_index * 1_000_000 + np.where(usable, dates.astype(np.int64), 0)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    repeated = np.zeros(check.count, dtype=np.bool_)
    same_as_previous = np.r_[False, sorted_keys[1:] == sorted_keys[:-1]]
    repeated[order[same_as_previous]] = True
    repeated &= usable
    if not repeated.any():
        return order
    first_row: dict[int, int] = {}
    for position in order.tolist():
        first_row.setdefault(int(keys[position]), int(check.table.rows[position]))
    check.report(
        "date",
        repeated,
        lambda position: f"a second row for this SKU and date: already on row "
        f"{first_row[int(keys[position])]}",
    )
    return order


def _categories_of(
    check: _Checker, sku_index: IntArray, sku_count: int, usable: BoolArray
) -> tuple[str, ...]:
    if not check.present("category"):
        return ("",) * sku_count
    distinct, codes = check.texts("category")
    frame = pd.DataFrame({"sku": sku_index[usable], "category": codes[usable]})
    spread = frame.groupby("sku")["category"].nunique()
    conflicting = set(spread.index[spread > 1].tolist())
    if conflicting:
        last = frame.groupby("sku")["category"].first()
        bad = usable & np.isin(sku_index, list(conflicting))
        bad &= codes != last.reindex(sku_index).to_numpy(dtype=np.int64)
        check.report("category", bad, "a SKU has one category; this row's differs from its first")
    first = frame.groupby("sku")["category"].first()
    names = [""] * sku_count
    for sku, code in zip(first.index.tolist(), first.tolist(), strict=True):
        names[int(sku)] = str(distinct[int(code)])
    return tuple(names)


def _carry_prices(sku_index: IntArray, price: FloatArray) -> FloatArray:
    """Fill NaN prices from the SKU's nearest earlier row, else its nearest later one.

    The rows are sorted by SKU and date.
    """
    series = pd.Series(price)
    grouped = series.groupby(sku_index)
    return np.asarray(grouped.ffill().fillna(grouped.bfill()), dtype=np.float64)


def load_history(path: Path) -> History:
    """Read and check a history file; raises :class:`InputError` listing every problem."""
    file, table = _read_table(path, HISTORY_COLUMNS)
    check = _Checker(file, table, HISTORY_COLUMNS, "a history")
    required = ("date", "sku", "units", "price")
    if not all(check.present(name) for name in required):
        raise InputError(check.sorted_problems())
    if not check.count:
        raise _fail(file, "no rows: the file has a header but no history")
    dates, date_ok = check.dates()
    skus, sku_index, sku_ok = check.skus()
    units, units_filled = check.numbers("units", "units sold, a number ≥ 0")
    check.report("units", ~units_filled, "empty; expected units sold, a number ≥ 0 (0 is data)")
    check.report("units", np.isfinite(units) & (units < 0), "must not be negative")
    units_ok = np.isfinite(units) & (units >= 0)
    price, price_filled = check.numbers("price", "the average price paid per unit, in yuan")
    no_sale = units_ok & (units == 0)
    price_empty = ~price_filled | (np.isfinite(price) & (price == 0) & no_sale)
    check.report(
        "price",
        ~price_filled & ~no_sale,
        "empty; expected the average price paid per unit (empty only where units is 0)",
    )
    check.report(
        "price", np.isfinite(price) & (price <= 0) & ~(no_sale & (price == 0)), "must be above 0"
    )
    promo = check.flags("promo")
    feature = check.flags("feature")
    visitors: FloatArray | None = None
    if check.present("visitors"):
        visitors, visitors_filled = check.numbers("visitors", "a whole number ≥ 0")
        check.report(
            "visitors",
            np.isfinite(visitors) & ((visitors < 0) | (visitors != np.round(visitors))),
            "expected a whole number ≥ 0",
        )
        visitors = np.where(visitors_filled, visitors, np.nan)
    usable = date_ok & sku_ok
    order = _report_duplicates(check, sku_index, dates, usable)
    categories = _categories_of(check, sku_index, len(skus), usable)
    problems = check.sorted_problems()
    if problems:
        raise InputError(problems)
    period = _infer_period(file, dates)
    sku_index, dates = sku_index[order], dates[order]
    price = np.where(price_empty, np.nan, price)[order]
    filled_count = int(price_empty.sum())
    if filled_count:
        price = _carry_prices(sku_index, price)
        never_priced = ~np.isfinite(price)
        if never_priced.any():
            missing = sorted({str(skus[k]) for k in sku_index[never_priced].tolist()})
            raise _fail(
                file,
                f"SKU {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''} never sold "
                "a unit and has no price on any row; give the price it was listed at",
            )
    return History(
        file=file,
        period=period,
        skus=tuple(str(s) for s in skus.tolist()),
        categories=categories,
        sku_index=sku_index,
        dates=dates,
        units=units[order],
        price=price,
        promo=promo[order],
        feature=feature[order],
        visitors=None if visitors is None else visitors[order],
        has_promo=check.present("promo"),
        has_feature=check.present("feature"),
        has_category=check.present("category"),
        price_filled=filled_count,
    )


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; raises :class:`InputError` listing every problem."""
    file, table = _read_table(path, SCENARIO_COLUMNS)
    check = _Checker(file, table, SCENARIO_COLUMNS, "a scenario")
    if not all(check.present(name) for name in ("date", "sku", "price")):
        raise InputError(check.sorted_problems())
    if not check.count:
        raise _fail(file, "no rows: the file has a header but no scenario rows")
    dates, date_ok = check.dates()
    skus, sku_index, sku_ok = check.skus()
    price, price_filled = check.numbers("price", "a price per unit in yuan")
    check.report("price", ~price_filled, "empty; expected a price per unit in yuan > 0")
    check.report("price", np.isfinite(price) & (price <= 0), "must be above 0")
    promo = check.flags("promo")
    feature = check.flags("feature")
    _report_duplicates(check, sku_index, dates, date_ok & sku_ok)
    problems = check.sorted_problems()
    if problems:
        raise InputError(problems)
    return Scenario(
        file=file,
        skus=skus[sku_index],
        dates=dates,
        price=price,
        promo=promo,
        feature=feature,
        rows=table.rows,
    )

