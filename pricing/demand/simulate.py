"""A seeded simulator of a store's daily sales history, from stated parameters.

It writes the history that ``price-opt fit`` reads, and the parameters it used, so that tests
can check that the fit recovers them and benchmarks can make large histories. The model is the
one the fit assumes (see :mod:`pricing.demand.model`), with over-dispersed counts::

    units ~ Poisson(λ · g),  g ~ Gamma(shape=k, scale=1/k)     (negative binomial, mean λ)
    λ = daily_base · (price / list_price) ^ elasticity · promo_lift ^ promo
        · feature_lift ^ feature · exp(cross_elasticity · x) · dow[weekday]

where ``x`` is the category price index: the mean of ``log(price / list_price)`` over the
*other* SKUs of the category on that day. Per SKU, the elasticity, log promotion lift and log
feature lift are the category's value plus a normal deviation (:class:`SimulationParameters`).

Prices: the everyday price paid is the list price less a daily coupon take (uniform between 0
and ``coupon_noise``); each SKU has one list-price change in the year (±``price_step``) on a
random day; ``promotions_per_sku`` SKU promotions of 3 to 7 days at 10–25 % off (promo on);
618 (1–18 June) for a third of the SKUs at 15–25 % off, featured 16–18 June; Double 11 (1–11
November) for every SKU at 30–45 % off, promo and feature on. ``flat_price_skus`` SKUs never
change price nor join a promotion (the fit must borrow their elasticity); ``new_skus`` SKUs
launch ``new_sku_days`` days before the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

DOW_FACTORS = (0.94, 0.92, 0.95, 0.97, 1.03, 1.11, 1.08)  # Monday first; mean 1.0


@dataclass(frozen=True)
class SimulationParameters:
    """Everything the simulation draws from; the defaults made ``data/samples/history.csv``."""

    start: date = date(2025, 11, 1)
    days: int = 365
    seed: int = 20251111
    category_elasticity: Mapping[str, float] = field(
        default_factory=lambda: {
            "1:18车模": -1.6, "1:24车模": -2.0, "1:43车模": -2.2, "1:64车模": -2.6,
            "展示盒": -1.5, "配件": -1.3,
        }
    )  # fmt: skip
    default_elasticity: float = -2.0
    elasticity_sd: float = 0.25
    promo_log_lift: float = 0.35  # × 1.42 on promotion days
    promo_log_lift_sd: float = 0.10
    feature_log_lift: float = 0.50  # × 1.65 on featured days
    feature_log_lift_sd: float = 0.10
    cross_elasticity: float = 0.5
    dispersion_shape: float = 20.0
    coupon_noise: float = 0.06
    price_step: float = 0.08
    promotions_per_sku: int = 5
    feature_share: float = 0.03
    flat_price_skus: int = 2
    new_skus: int = 1
    new_sku_days: int = 60


@dataclass(frozen=True)
class Simulated:
    """A simulated history (one row per SKU and day), the true per-SKU parameters, and each
    row's true expected units (before the count noise)."""

    history: pd.DataFrame
    truth: pd.DataFrame
    expected: npt.NDArray[np.float64]


def simulate_history(
    skus: Sequence[str],
    categories: Sequence[str],
    list_prices: Sequence[float],
    daily_base: Sequence[float],
    parameters: SimulationParameters | None = None,
) -> Simulated:
    """Simulate a daily history of the given catalogue (see the module docstring)."""
    par = parameters or SimulationParameters()
    rng = np.random.default_rng(par.seed)
    n_sku, n_day = len(skus), par.days
    list_price = np.asarray(list_prices, dtype=np.float64)
    base = np.asarray(daily_base, dtype=np.float64)
    category = np.asarray(categories, dtype=object)
    dates = pd.date_range(pd.Timestamp(par.start), periods=n_day, freq="D")
    day = np.arange(n_day)

    elasticity = np.array(
        [par.category_elasticity.get(c, par.default_elasticity) for c in category]
    ) + rng.normal(0, par.elasticity_sd, n_sku)
    promo_log = par.promo_log_lift + rng.normal(0, par.promo_log_lift_sd, n_sku)
    feature_log = par.feature_log_lift + rng.normal(0, par.feature_log_lift_sd, n_sku)

    # prices: everyday price with a coupon take and one list-price step
    level = np.ones((n_sku, n_day))
    step_day = rng.integers(30, n_day - 30, n_sku)
    step = rng.choice([-1.0, 1.0], n_sku) * par.price_step
    level *= np.where(day[None, :] >= step_day[:, None], 1.0 + step[:, None], 1.0)
    level *= 1.0 - rng.uniform(0, par.coupon_noise, (n_sku, n_day))
    promo = np.zeros((n_sku, n_day), dtype=np.bool_)
    feature = rng.random((n_sku, n_day)) < par.feature_share
    for sku in range(n_sku):
        for _ in range(par.promotions_per_sku):
            first = int(rng.integers(20, n_day - 10))
            last = first + int(rng.integers(3, 8))
            promo[sku, first:last] = True
            level[sku, first:last] *= 1.0 - rng.uniform(0.10, 0.25)
    offset = dates.to_numpy().astype("datetime64[D]")
    in_618 = (offset >= np.datetime64(f"{par.start.year + 1}-06-01")) & (
        offset <= np.datetime64(f"{par.start.year + 1}-06-18")
    )
    in_618_feature = in_618 & (offset >= np.datetime64(f"{par.start.year + 1}-06-16"))
    joins_618 = rng.random(n_sku) < 1 / 3
    cut_618 = 1.0 - rng.uniform(0.15, 0.25, n_sku)
    level[np.ix_(joins_618, in_618)] = cut_618[joins_618, None] * (1.0 - rng.uniform(
        0, par.coupon_noise, (int(joins_618.sum()), int(in_618.sum()))))
    promo[np.ix_(joins_618, in_618)] = True
    feature[np.ix_(joins_618, in_618_feature)] = True
    double11 = (offset >= np.datetime64(f"{par.start.year}-11-01")) & (
        offset <= np.datetime64(f"{par.start.year}-11-11")
    )
    cut_11 = 1.0 - rng.uniform(0.30, 0.45, n_sku)
    level[:, double11] = cut_11[:, None] * (1.0 - rng.uniform(
        0, par.coupon_noise, (n_sku, int(double11.sum()))))
    promo[:, double11] = True
    feature[:, double11] = True

    flat = np.zeros(n_sku, dtype=np.bool_)
    flat[rng.choice(n_sku, size=min(par.flat_price_skus, n_sku), replace=False)] = True
    level[flat] = 1.0
    promo[flat] = False
    feature[flat] = False
    price = np.round(list_price[:, None] * level, 2)

    # cannibalization: mean log relative price of the other SKUs of the category
    relative = np.log(price / list_price[:, None])
    codes, names = pd.factorize(pd.Series(category))
    sizes = np.bincount(codes, minlength=len(names))
    totals = np.zeros((len(names), n_day))
    np.add.at(totals, codes, relative)
    others = np.maximum(sizes[codes] - 1, 1)[:, None]
    index = np.where(sizes[codes][:, None] > 1, (totals[codes] - relative) / others, 0.0)
    cross = np.full(n_sku, par.cross_elasticity)
    cross[sizes[codes] < 2] = 0.0

    dow = np.asarray(DOW_FACTORS)[dates.day_of_week.to_numpy()]
    rate = (
        base[:, None]
        * np.exp(elasticity[:, None] * relative)
        * np.exp(promo_log[:, None] * promo)
        * np.exp(feature_log[:, None] * feature)
        * np.exp(cross[:, None] * index)
        * dow[None, :]
    )
    gamma = rng.gamma(par.dispersion_shape, 1.0 / par.dispersion_shape, rate.shape)
    units = rng.poisson(rate * gamma)

    present = np.ones((n_sku, n_day), dtype=np.bool_)
    new = rng.choice(np.flatnonzero(~flat), size=min(par.new_skus, int((~flat).sum())),
                     replace=False)
    present[new, : n_day - par.new_sku_days] = False
    sku_rows, day_rows = np.nonzero(present)
    history = pd.DataFrame(
        {
            "date": dates[day_rows].strftime("%Y-%m-%d"),
            "sku": np.asarray(skus, dtype=object)[sku_rows],
            "units": units[sku_rows, day_rows],
            "price": price[sku_rows, day_rows],
            "promo": promo[sku_rows, day_rows].astype(np.int8),
            "feature": feature[sku_rows, day_rows].astype(np.int8),
            "category": category[sku_rows],
        }
    )
    truth = pd.DataFrame(
        {
            "sku": list(skus),
            "category": category,
            "elasticity": elasticity,
            "promo_lift": np.exp(promo_log),
            "feature_lift": np.exp(feature_log),
            "cross_elasticity": cross,
            "daily_base": base,
            "flat_price": flat,
            "new": np.isin(np.arange(n_sku), new),
        }
    )
    return Simulated(history=history, truth=truth, expected=rate[sku_rows, day_rows])
