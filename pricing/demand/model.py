"""The fitted demand model of a store, and its forecast.

Per SKU ``i`` and period ``t`` (a day or a week), the expected units are log-linear::

    E[units] = base_units_i · dow_i[weekday]                (daily data; 1 for weekly)
               · (price / ref_price_i) ^ elasticity_i
               · promo_lift_i ^ promo · feature_lift_i ^ feature
               · exp(cross_elasticity_i · x_it)

``x_it``, the **category price index**, is the mean of ``log(price_j / ref_price_j)`` over the
*other* SKUs ``j`` of ``i``'s category on that date; a SKU of the category that is absent that
date counts at its ``ref_price`` (0). So a positive ``cross_elasticity`` means that when the rest
of the category gets cheaper, ``i`` sells less (cannibalization). ``base_units`` is the expected
units per period at ``ref_price``, without promotion or feature, with the category at its
reference prices, averaged over the days of the week (``dow`` factors have mean 1).

This module is the one place that evaluates the formula: ``price-opt forecast`` and the
planner's ``plan --demand`` both call :func:`forecast_units`, so they agree by construction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.demand import DemandModel, Period

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["DemandModel", "category_price_index", "forecast_units"]


def category_price_index(
    model: DemandModel,
    sku: IntArray,
    group: IntArray,
    price: FloatArray,
) -> FloatArray:
    """The category price index ``x`` of each row (see the module docstring).

    ``sku`` indexes the model's SKUs; ``group`` numbers the dates (rows of one date share a
    number); a SKU appears at most once per group.
    """
    codes, sizes = model.category_codes()
    relative = np.log(price / model.ref_price[sku])
    category = codes[sku]
    key = group.astype(np.int64) * (len(sizes) + 1) + category
    unique_keys, inverse = np.unique(key, return_inverse=True)
    totals = np.bincount(inverse, weights=relative, minlength=len(unique_keys))
    size = sizes[category]
    others = np.maximum(size - 1, 1)
    return np.asarray(
        np.where(size > 1, (totals[inverse] - relative) / others, 0.0), dtype=np.float64
    )


def forecast_units(
    model: DemandModel,
    sku: IntArray,
    weekday: IntArray | None,
    price: FloatArray,
    promo: BoolArray,
    feature: BoolArray,
    category_index: FloatArray,
) -> FloatArray:
    """Expected units of each row; ``weekday`` (0 = Monday) is None for the average day."""
    units = model.base_units[sku] * np.power(price / model.ref_price[sku], model.elasticity[sku])
    units = units * np.where(promo, model.promo_lift[sku], 1.0)
    units = units * np.where(feature, model.feature_lift[sku], 1.0)
    units = units * np.exp(model.cross_elasticity[sku] * category_index)
    if model.period is Period.DAY:
        # The average day: the mean factor (1 as fitted; the file's rounding may move it).
        factor = model.dow[sku].mean(axis=1) if weekday is None else model.dow[sku, weekday]
        units = units * factor
    return np.asarray(units, dtype=np.float64)
