"""The fitted model as the planner's forecast of event units (``price-opt plan --demand``).

For a product of the catalogue with a row in the demand file, at activity price ``p``::

    units = event_days × forecast(p, promo = joins, feature off, the average day of the week,
                                  x = the category price index of the plan's prices)
            × (1 + event_uplift)       if it joins the event (the venue's traffic)
            × (1 + b2g1.uplift)        if it joins buy-two-get-one
    units = min(units, stock)

where ``forecast`` is :func:`pricing.demand.model.forecast_units`, the function ``price-opt
forecast`` evaluates: a plan's expected units are what ``forecast`` says for a scenario of
``event_days`` days at the plan's prices (over whole weeks, where the day-of-week factors
average to one), times the uplifts. Products without a fitted row keep the products file's
``base_units`` and ``elasticity``.

**Cannibalization in the objective: iterated linearisation.** ``x_i`` depends on the prices
of the other products of ``i``'s category, so the true objective is not separable. The planner
solves a sequence of separable problems: around the current plan, each product ``j``'s rows
carry, besides their own profit (with ``x`` fixed at the current plan), the first-order effect
of ``j``'s price on the rest of its category's profit::

    externality_j(p) = log(p / ref_j) × Σ_{i ≠ j in j's category} π_i · γ_i / (n_c − 1)

(``π_i`` the current profit of ``i``, ``γ_i`` its cross-elasticity, ``n_c`` the category's size
in the demand file), so a deep cut that only steals from its neighbours is not rewarded. It
re-solves until the plan repeats (at most :data:`MAX_ROUNDS` rounds), evaluates every plan it
visited exactly (units at ``x`` of that plan's own prices, no linearisation), and keeps the best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.demand import DemandModel
from models.product import Product
from models.rules import Rules
from pricing.demand.model import forecast_units

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MAX_ROUNDS = 6


@dataclass(frozen=True)
class EventDemand:
    """The demand model lined up with a catalogue: ``model_index[j]`` is product ``j``'s row in
    the model, −1 when it has none."""

    model: DemandModel
    model_index: IntArray

    @classmethod
    def of(cls, model: DemandModel, products: Sequence[Product]) -> EventDemand:
        position = model.index_of()
        index = np.array([position.get(p.sku, -1) for p in products], dtype=np.int64)
        return cls(model=model, model_index=index)

    @property
    def fitted(self) -> BoolArray:
        """Which products have a fitted row."""
        return np.asarray(self.model_index >= 0, dtype=np.bool_)

    def category_index(self, price_fen: IntArray) -> FloatArray:
        """Each product's category price index when the catalogue sells at ``price_fen``
        (products of the model absent from the catalogue count at their ``ref_price``)."""
        model = self.model
        codes, sizes = model.category_codes()
        relative = np.zeros(len(model.skus))
        fitted = self.fitted
        rows = self.model_index[fitted]
        relative[rows] = np.log(price_fen[fitted] / 100.0 / model.ref_price[rows])
        totals = np.bincount(codes, weights=relative, minlength=len(sizes))
        size = sizes[codes]
        index = np.where(size > 1, (totals[codes] - relative) / np.maximum(size - 1, 1), 0.0)
        result = np.zeros(len(price_fen))
        result[fitted] = index[rows]
        return result

    def units(
        self,
        price_fen: IntArray,
        joins: BoolArray,
        in_b2g1: BoolArray,
        stock: IntArray,
        category_index: FloatArray,
        rules: Rules,
    ) -> FloatArray:
        """Event units of the fitted products (rows as in the candidate table: products ×
        rows); NaN for products without a fitted row."""
        fitted = self.fitted
        count, rows = price_fen.shape
        result = np.full((count, rows), np.nan)
        if not fitted.any():
            return result
        sku = np.broadcast_to(self.model_index[fitted][:, None], (int(fitted.sum()), rows))
        promo = np.broadcast_to(joins, price_fen.shape)[fitted]
        per_day = forecast_units(
            self.model,
            sku.ravel(),
            None,
            price_fen[fitted].ravel() / 100.0,
            promo.ravel(),
            np.zeros(promo.size, dtype=np.bool_),
            np.broadcast_to(category_index[fitted][:, None], sku.shape).ravel(),
        ).reshape(sku.shape)
        units = per_day * rules.demand.event_days
        units = units * np.where(promo, 1.0 + rules.demand.event_uplift, 1.0)
        units = units * np.where(np.broadcast_to(in_b2g1, price_fen.shape)[fitted],
                                 1.0 + rules.b2g1.uplift, 1.0)
        result[fitted] = np.minimum(units, np.broadcast_to(stock, price_fen.shape)[fitted])
        return result

    def externality_weight(self, current_profit: FloatArray) -> FloatArray:
        """Per product, ``Σ_{i ≠ j in j's category} π_i · γ_i / (n_c − 1)`` at the current
        profits (stock caps ignored): the externality of ``j``'s rows per unit of
        ``log(p / ref_j)``; zero for products without a fitted row."""
        model = self.model
        fitted = self.fitted
        codes, sizes = model.category_codes()
        rows = self.model_index[fitted]
        weight = np.zeros(len(model.skus))
        weight[rows] = current_profit[fitted] * model.cross_elasticity[rows]
        totals = np.bincount(codes, weights=weight, minlength=len(sizes))
        size = sizes[codes]
        per_sku = np.where(size > 1, (totals[codes] - weight) / np.maximum(size - 1, 1), 0.0)
        result = np.zeros(len(self.model_index))
        result[fitted] = per_sku[rows]
        return result


@dataclass(frozen=True)
class CandidateDemand:
    """What the candidate table needs from the fitted model in one round: the category price
    index of the current plan, and (while optimising, not when evaluating) the externality
    weight of each product."""

    event: EventDemand
    category_index: FloatArray
    externality_weight: FloatArray | None = None

    def units(
        self, price_fen: IntArray, joins: BoolArray, in_b2g1: BoolArray, stock: IntArray,
        rules: Rules,
    ) -> FloatArray:
        """Event units of the fitted products, NaN for the others (see the module docstring)."""
        return self.event.units(price_fen, joins, in_b2g1, stock, self.category_index, rules)

    def extra_objective(self, price_fen: IntArray) -> FloatArray:
        """The externality term of each row (zero when evaluating)."""
        if self.externality_weight is None:
            return np.zeros(price_fen.shape)
        fitted = self.event.fitted
        rows = self.event.model_index[fitted]
        result = np.zeros(price_fen.shape)
        log_relative = np.log(price_fen[fitted] / 100.0 / self.event.model.ref_price[rows][:, None])
        result[fitted] = self.externality_weight[fitted][:, None] * log_relative
        return result
