"""The demand file: one fitted row per SKU, written by ``price-opt fit``, read by ``forecast``
and ``plan --demand``.

CSV (UTF-8 with BOM, so Excel shows Chinese correctly), one row per SKU, columns in this order
(:data:`DEMAND_COLUMNS`): ``sku``, ``base_units`` (expected units per period at ``ref_price``,
no promotion, the category at its reference prices, the average day of the week),
``ref_price`` (yuan), ``elasticity``, ``elasticity_low`` and ``elasticity_high`` (its 90 %
interval), ``promo_lift`` and ``feature_lift`` (multipliers), ``cross_elasticity`` (response to
the category price index), ``period`` (``day`` or ``week``), ``n_obs`` (periods of history),
``source`` (where the elasticity came from: ``history``, ``history+category``, ``category``,
``store``, ``default``), then ``category``, ``dow_mon`` … ``dow_sun`` (day-of-week factors,
mean 1; 1 for weekly data) and ``flags`` (what could not be estimated, and the fallback used).

Reading checks every cell at once, like every input (file, row, column, value, expected).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.demand import WEEKDAYS, DemandModel, Period
from pricing.errors import InputError, Problem
from pricing.formats.atomic import write_bytes_atomic
from pricing.formats.dated_table import TableColumn, _Checker, _read_table

__all__ = ["DEMAND_COLUMNS", "demand_frame", "load_demand", "write_demand"]

FloatArray = npt.NDArray[np.float64]

_NUMBER = "a number"
DEMAND_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("sku", ("SKU编码", "商家编码"), True, "the SKU code, unique"),
    TableColumn("base_units", ("基准销量",), True, "units per period, ≥ 0", numeric=True),
    TableColumn("ref_price", ("参考价",), True, "yuan > 0", numeric=True),
    TableColumn("elasticity", ("价格弹性",), True, "< 0", numeric=True),
    TableColumn("elasticity_low", (), False, "a number", numeric=True),
    TableColumn("elasticity_high", (), False, "a number", numeric=True),
    TableColumn("promo_lift", ("活动提升",), True, "a multiplier > 0", numeric=True),
    TableColumn("feature_lift", ("推广提升",), True, "a multiplier > 0", numeric=True),
    TableColumn("cross_elasticity", ("交叉弹性",), True, "a number", numeric=True),
    TableColumn("period", ("周期",), True, "day or week, the same on every row"),
    TableColumn("n_obs", (), False, "whole number ≥ 0"),
    TableColumn("source", (), False, "free text"),
    TableColumn("category", ("类目",), False, "free text"),
    *(TableColumn(f"dow_{day}", (), False, "a factor > 0", numeric=True) for day in WEEKDAYS),
    TableColumn("flags", (), False, "free text"),
)


def demand_frame(model: DemandModel) -> pd.DataFrame:
    """The demand file's table."""
    frame = pd.DataFrame(
        {
            "sku": list(model.skus),
            "base_units": np.round(model.base_units, 4),
            "ref_price": np.round(model.ref_price, 2),
            "elasticity": np.round(model.elasticity, 4),
            "elasticity_low": np.round(model.elasticity_low, 4),
            "elasticity_high": np.round(model.elasticity_high, 4),
            "promo_lift": np.round(model.promo_lift, 4),
            "feature_lift": np.round(model.feature_lift, 4),
            "cross_elasticity": np.round(model.cross_elasticity, 4),
            "period": model.period.value,
            "n_obs": model.n_obs,
            "source": list(model.source),
            "category": list(model.categories),
        }
    )
    for position, day in enumerate(WEEKDAYS):
        frame[f"dow_{day}"] = np.round(model.dow[:, position], 4)
    frame["flags"] = list(model.flags)
    return frame


def write_demand(model: DemandModel, path: Path) -> None:
    """Write the demand file atomically (CSV, UTF-8 with BOM)."""
    text = demand_frame(model).to_csv(index=False, lineterminator="\n")
    write_bytes_atomic(path, text.encode("utf-8-sig"))


def load_demand(path: Path) -> DemandModel:
    """Read and check a demand file; raises :class:`InputError` listing every problem."""
    file, table = _read_table(path, DEMAND_COLUMNS)
    check = _Checker(file, table, DEMAND_COLUMNS, "a demand file")
    required = [c.name for c in DEMAND_COLUMNS if c.required]
    if not all(check.present(name) for name in required):
        raise InputError(check.sorted_problems())
    if not check.count:
        raise InputError([Problem(file, "no rows: the file has a header but no SKU", row=1)])
    skus, sku_index, _ = check.skus()
    repeated = pd.Series(sku_index).duplicated().to_numpy(dtype=np.bool_)
    check.report("sku", repeated, "duplicate SKU: one row per SKU")

    def number(name: str, rule: str) -> FloatArray:
        values, filled = check.numbers(name, rule)
        check.report(name, ~filled, f"empty; expected {rule}")
        return values

    base = number("base_units", "units per period, ≥ 0")
    check.report("base_units", np.isfinite(base) & (base < 0), "must not be negative")
    ref = number("ref_price", "a price in yuan > 0")
    check.report("ref_price", np.isfinite(ref) & (ref <= 0), "must be above 0")
    elasticity = number("elasticity", "a number below 0")
    check.report("elasticity", np.isfinite(elasticity) & (elasticity >= 0), "must be below 0")
    promo = number("promo_lift", "a multiplier > 0")
    check.report("promo_lift", np.isfinite(promo) & (promo <= 0), "must be above 0")
    feature = number("feature_lift", "a multiplier > 0")
    check.report("feature_lift", np.isfinite(feature) & (feature <= 0), "must be above 0")
    cross = number("cross_elasticity", _NUMBER)
    low = high = elasticity
    if check.present("elasticity_low"):
        low = check.numbers("elasticity_low", _NUMBER)[0]
    if check.present("elasticity_high"):
        high = check.numbers("elasticity_high", _NUMBER)[0]
    periods, period_codes = check.texts("period")
    known = {p.value: p for p in Period}
    unknown = np.array([text.casefold() not in known for text in periods.tolist()])
    check.report("period", unknown[period_codes], "expected day or week")
    used = {periods[c].casefold() for c in np.unique(period_codes).tolist()} & set(known)
    if len(used) > 1:
        check.problems.append(
            Problem(file, "rows of both day and week periods; one demand file has one period")
        )
    dow = np.ones((check.count, 7))
    for position, day in enumerate(WEEKDAYS):
        name = f"dow_{day}"
        if check.present(name):
            values, filled = check.numbers(name, "a factor > 0")
            check.report(name, np.isfinite(values) & (values <= 0), "must be above 0")
            dow[:, position] = np.where(filled & np.isfinite(values), values, 1.0)
    n_obs = np.zeros(check.count, dtype=np.int64)
    if check.present("n_obs"):
        values, filled = check.numbers("n_obs", "a whole number ≥ 0")
        n_obs = np.where(filled & np.isfinite(values), values, 0).astype(np.int64)

    def texts(name: str) -> tuple[str, ...]:
        if not check.present(name):
            return ("",) * check.count
        distinct, codes = check.texts(name)
        return tuple(str(t) for t in distinct[codes].tolist())

    problems = check.sorted_problems()
    if problems:
        raise InputError(problems)
    period = known[next(iter(used))] if used else Period.DAY
    return DemandModel(
        period=period,
        skus=tuple(str(s) for s in skus[sku_index].tolist()),
        categories=texts("category"),
        base_units=base,
        ref_price=ref,
        elasticity=elasticity,
        elasticity_low=low,
        elasticity_high=high,
        promo_lift=promo,
        feature_lift=feature,
        cross_elasticity=cross,
        dow=dow,
        n_obs=n_obs,
        source=texts("source"),
        flags=texts("flags"),
    )
