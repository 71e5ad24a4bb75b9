"""Forecasting a scenario with a fitted demand model (``price-opt forecast``).

Each scenario row (date, SKU, price, promotion, feature) gets the model's expected units
(:func:`pricing.demand.model.forecast_units`). The category price index of a row is computed
from the scenario's own prices of the category on that date; a SKU of the category absent from
the scenario that date counts at its ``ref_price``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.demand import DemandModel
from pricing.demand.model import category_price_index, forecast_units
from pricing.errors import InputError, Problem
from pricing.formats.history import Scenario

FloatArray = npt.NDArray[np.float64]

MAX_LISTED = 50


def forecast_scenario(model: DemandModel, scenario: Scenario, demand_file: str) -> FloatArray:
    """Expected units of each scenario row; every SKU must have a row in the demand file."""
    position = model.index_of()
    sku = np.array([position.get(str(s), -1) for s in scenario.skus.tolist()], dtype=np.int64)
    unknown = np.flatnonzero(sku < 0)
    if len(unknown):
        problems = [
            Problem(
                scenario.file,
                f"no fitted row for this SKU in {demand_file}; fit it from a history that "
                "has it, or leave it out",
                row=int(scenario.rows[i]),
                column="sku",
                value=str(scenario.skus[i]),
            )
            for i in unknown[:MAX_LISTED].tolist()
        ]
        if len(unknown) > MAX_LISTED:
            problems.append(
                Problem(scenario.file, f"…and {len(unknown) - MAX_LISTED:,} more rows like these")
            )
        raise InputError(problems)
    day = scenario.dates.astype(np.int64)
    index = category_price_index(model, sku, day, scenario.price)
    weekday = ((day + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    return forecast_units(
        model, sku, weekday, scenario.price, scenario.promo, scenario.feature, index
    )
