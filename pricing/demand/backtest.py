"""Backtest: fit without the last N periods, forecast them, and score against two baselines.

The forecast of a held-out row uses what was known for that row (its price, promotion and
feature, and the category's prices that date), as a plan would state them. Scores over the
held-out rows of SKUs the fit saw (``units`` actual, ``f`` forecast)::

    WAPE = Σ |f − units| / Σ units          bias = (Σ f − Σ units) / Σ units

Baselines: **naive**, each SKU's mean units per period over the fit window; **log-log**, a
per-SKU least-squares regression of ``log(1 + units)`` on ``log(price)`` (no promotion, feature,
seasonality or pooling; a SKU whose price never moved gets its mean), forecast ``exp(·) − 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.demand import DemandModel
from pricing.demand.fit import FitResult, fit_demand, subset
from pricing.demand.model import category_price_index, forecast_units
from pricing.errors import InputError, Problem
from pricing.formats.history import History

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Score:
    """One forecast's accuracy on the held-out rows."""

    name: str
    wape: float
    bias: float


@dataclass(frozen=True)
class Backtest:
    """The held-out window, its rows, and each forecast's score (the model's first)."""

    periods: int
    first: str
    last: str
    rows: int
    units: float
    unseen_rows: int
    scores: tuple[Score, ...]
    fit: FitResult


def _score(name: str, forecast: FloatArray, actual: FloatArray) -> Score:
    total = float(actual.sum())
    if total <= 0:
        return Score(name, float("nan"), float("nan"))
    return Score(
        name,
        float(np.abs(forecast - actual).sum()) / total,
        float(forecast.sum() - total) / total,
    )


def model_forecast_of_rows(model: DemandModel, history: History, rows: IntArray) -> FloatArray:
    """The model's forecast of the given history rows (their SKUs must be in the model)."""
    position = model.index_of()
    sku = np.array([position[history.skus[k]] for k in history.sku_index[rows].tolist()],
                   dtype=np.int64)
    day = history.dates[rows].astype(np.int64)
    price = history.price[rows]
    index = category_price_index(model, sku, day, price)
    weekday = ((day + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    return forecast_units(
        model, sku, weekday, price, history.promo[rows], history.feature[rows], index
    )


def _log_log(train: History, test: History, n_sku: int) -> FloatArray:
    """Per-SKU OLS of log(1 + units) on log(price), forecast for the test rows."""
    sku = train.sku_index
    x = np.log(train.price)
    y = np.log1p(train.units)
    count = np.maximum(np.bincount(sku, minlength=n_sku), 1)
    mean_x = np.bincount(sku, weights=x, minlength=n_sku) / count
    mean_y = np.bincount(sku, weights=y, minlength=n_sku) / count
    dx = x - mean_x[sku]
    sxx = np.bincount(sku, weights=dx * dx, minlength=n_sku)
    sxy = np.bincount(sku, weights=dx * (y - mean_y[sku]), minlength=n_sku)
    slope = np.where(sxx > 1e-9 * count, sxy / np.maximum(sxx, 1e-300), 0.0)
    k = test.sku_index
    prediction = mean_y[k] + slope[k] * (np.log(test.price) - mean_x[k])
    return np.asarray(np.maximum(np.expm1(prediction), 0.0), dtype=np.float64)


def run_backtest(
    history: History, holdout: int, categories: tuple[str, ...] | None = None
) -> Backtest:
    """Fit on all but the last ``holdout`` periods and score the forecast of those."""
    last_day = history.dates.max()
    cut = last_day - np.timedelta64(holdout * history.period.days, "D")
    held = history.dates > cut
    train_mask = ~held
    distinct_periods = len(np.unique(history.dates))
    if holdout < 1 or not train_mask.any() or holdout >= distinct_periods:
        raise InputError(
            [
                Problem(
                    history.file,
                    f"--holdout-last {holdout}: expected at least 1 and fewer than the "
                    f"{distinct_periods} {history.period.value}s of the history",
                )
            ]
        )
    train = subset(history, train_mask)
    test = subset(history, held)
    result = fit_demand(train, categories)
    model = result.model
    n_sku = len(history.skus)
    train_rows = np.bincount(train.sku_index, minlength=n_sku)
    seen = train_rows[test.sku_index] > 0
    rows = np.flatnonzero(seen).astype(np.int64)
    actual = test.units[rows]
    model_forecast = model_forecast_of_rows(model, test, rows)
    naive_mean = np.bincount(train.sku_index, weights=train.units, minlength=n_sku) / np.maximum(
        train_rows, 1
    )
    naive = naive_mean[test.sku_index[rows]]
    log_log = _log_log(train, subset(test, seen), n_sku)
    return Backtest(
        periods=holdout,
        first=str(test.dates.min()),
        last=str(last_day),
        rows=len(rows),
        units=float(actual.sum()),
        unseen_rows=int((~seen).sum()),
        scores=(
            _score("model", model_forecast, actual),
            _score("naive (SKU mean)", naive, actual),
            _score("log-log per SKU", log_log, actual),
        ),
        fit=result,
    )
