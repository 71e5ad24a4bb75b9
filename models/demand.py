"""The fitted demand model of a store: one row per SKU (forecasts, so floats).

The formula it parameterises is in :mod:`pricing.demand.model`; the file that carries it in
:mod:`pricing.formats.demand_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Period(StrEnum):
    """The length of one row of history: a day or a week."""

    DAY = "day"
    WEEK = "week"

    @property
    def days(self) -> int:
        """The period's length in days."""
        return 1 if self is Period.DAY else 7


@dataclass(frozen=True)
class DemandModel:
    """One fitted row per SKU (arrays aligned with :attr:`skus`)."""

    period: Period
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    base_units: FloatArray
    ref_price: FloatArray
    elasticity: FloatArray
    elasticity_low: FloatArray
    elasticity_high: FloatArray
    promo_lift: FloatArray
    feature_lift: FloatArray
    cross_elasticity: FloatArray
    dow: FloatArray  # (SKUs, 7), Monday first; ones for weekly data
    n_obs: IntArray
    source: tuple[str, ...]
    flags: tuple[str, ...]

    def index_of(self) -> dict[str, int]:
        """Each SKU's position."""
        return {sku: position for position, sku in enumerate(self.skus)}

    def category_codes(self) -> tuple[IntArray, IntArray]:
        """Each SKU's category code, and the number of SKUs in each category."""
        _, codes = np.unique(np.asarray(self.categories, dtype=str), return_inverse=True)
        codes = codes.astype(np.int64)
        return codes, np.bincount(codes).astype(np.int64)
