"""Fitting the demand model (:mod:`pricing.demand.model`) to a sales history.

**Estimator.** Per SKU, a Poisson log-linear regression (quasi-likelihood: counts with zeros are
data, over-dispersion is estimated) of units on ``[1, log(price/ref_price), promo, feature,
x (category price index), day of week (effect-coded, 6 columns, daily data only)]``, with
**partial pooling** (empirical Bayes): every slope of SKU ``i`` has a normal prior centred on
its category's mean, which is itself shrunk toward the store's mean::

    β_ik ~ N(μ_ck, τ²_k),   μ_ck ~ N(m_k, ω²_k)

1. *Unpooled pass*: each SKU alone (a vague ridge keeps flat-price SKUs solvable), giving
   ``β̂_i``, its sampling variance ``v_ik`` (inverse information × the SKU's dispersion φ_i).
2. *Hyper-parameters* by DerSimonian–Laird moments, coefficient by coefficient: ``τ²_k``
   (between SKUs of a category), the category means ``μ_ck`` (precision-weighted), ``ω²_k``
   (between categories) and the store mean ``m_k``; each category mean is then shrunk toward
   ``m_k`` with weight ``ω²_k / (ω²_k + se²_ck)``.
3. *Pooled pass*: each SKU again, maximising ``loglik/φ_i − ½ Σ_k (β_ik − μ_ck)² / τ²_k``;
   the posterior covariance ``(XᵀWX/φ_i + diag(1/τ²))⁻¹`` gives the 90 % interval.

A SKU whose price never moved has no information on its elasticity, so its estimate is its
category's (the posterior equals the prior); the ``source`` column says how much came from the
SKU: ``history`` (its data weigh at least half), ``history+category``, ``category``, or a
visible fallback (``store``, ``default``) with the reason in ``flags``.

**Computation.** Every pass is iteratively reweighted least squares run on all SKUs at once:
rows are packed into a padded ``(SKUs, periods, columns)`` array (SKUs sorted by row count, in
blocks that bound memory) and each iteration is one batched ``XᵀWX`` (``numpy.matmul``) and one
batched solve. No per-SKU Python loop; statsmodels would fit one SKU per call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.demand import DemandModel, Period
from pricing.formats.history import History

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# design columns
INTERCEPT, PRICE, PROMO, FEATURE, CROSS = 0, 1, 2, 3, 4
FIRST_DOW = 5
SLOPE_NAMES = ("elasticity", "promo", "feature", "cross", *(f"dow{d}" for d in range(6)))

INTERVAL_Z = 1.6448536269514722  # 90 % two-sided
VAGUE_PRECISION = 1e-4  # the unpooled pass's ridge: a prior sd of 100
MIN_TAU2 = 1e-4
MAX_ITERATIONS = 30
TOLERANCE = 1e-6
UNPOOLED_TOLERANCE = 1e-4
BLOCK_CELLS = 1_500_000  # SKUs × periods per block: bounds the padded arrays' memory
REF_WINDOW = {Period.DAY: 28, Period.WEEK: 8}
SHORT_HISTORY = {Period.DAY: 28, Period.WEEK: 8}


@dataclass(frozen=True)
class FitResult:
    """The fitted model and what the fit noticed on the way."""

    model: DemandModel
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Design:
    """The history as model inputs, row by row (sorted by SKU then date)."""

    sku: IntArray
    units: FloatArray
    columns: FloatArray  # (rows, k)
    ref_price: FloatArray  # per SKU
    n_sku: int


def subset(history: History, keep: BoolArray) -> History:
    """The history restricted to the rows in ``keep`` (same SKUs)."""
    visitors = None if history.visitors is None else history.visitors[keep]
    return dataclasses.replace(
        history,
        sku_index=history.sku_index[keep],
        dates=history.dates[keep],
        units=history.units[keep],
        price=history.price[keep],
        promo=history.promo[keep],
        feature=history.feature[keep],
        visitors=visitors,
    )


def reference_prices(history: History) -> FloatArray:
    """Each SKU's reference price: the median price paid without promotion in its last
    ``REF_WINDOW`` periods (else without promotion at all, else on any row)."""
    n_sku = len(history.skus)
    frame = pd.DataFrame(
        {"sku": history.sku_index, "price": history.price, "promo": history.promo}
    )
    day = history.dates.astype(np.int64)
    last = np.zeros(n_sku, dtype=np.int64)
    np.maximum.at(last, history.sku_index, day)
    recent = day > last[history.sku_index] - REF_WINDOW[history.period] * history.period.days
    result = np.full(n_sku, np.nan)
    for mask in (recent & ~history.promo, ~history.promo, np.ones(len(frame), dtype=np.bool_)):
        medians = frame[mask].groupby("sku")["price"].median()
        index = medians.index.to_numpy(dtype=np.int64)
        fill = np.isnan(result[index])
        result[index[fill]] = medians.to_numpy(dtype=np.float64)[fill]
    return np.round(result, 2)


def _category_codes(categories: tuple[str, ...]) -> tuple[IntArray, IntArray]:
    codes, _ = pd.factorize(pd.Series(categories, dtype=object))
    codes = np.asarray(codes, dtype=np.int64)
    return codes, np.bincount(codes).astype(np.int64)


# Effect coding of the day of week: Monday … Saturday each have a column, Sunday is −1 in all.
_DOW_CODING = np.vstack([np.eye(6), -np.ones((1, 6))])


def _design(history: History, categories: tuple[str, ...], ref: FloatArray) -> _Design:
    sku = history.sku_index
    relative = np.log(history.price / ref[sku])
    codes, sizes = _category_codes(categories)
    day = history.dates.astype(np.int64)
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1
    category = codes[sku]
    # Σ of relative prices per category and date, dense when the grid is small enough.
    if span * len(sizes) <= 50_000_000:
        key = (day - first_day) * len(sizes) + category
        totals = np.bincount(key, weights=relative, minlength=span * len(sizes))[key]
    else:
        unique_keys, key = np.unique((day - first_day) * len(sizes) + category,
                                     return_inverse=True)
        totals = np.bincount(key, weights=relative, minlength=len(unique_keys))[key]
    size = sizes[category]
    cross = np.where(size > 1, (totals - relative) / np.maximum(size - 1, 1), 0.0)
    parts = [
        np.ones(history.rows),
        relative,
        history.promo.astype(np.float64),
        history.feature.astype(np.float64),
        cross,
    ]
    columns = np.column_stack(parts)
    if history.period is Period.DAY:
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        columns = np.concatenate([columns, _DOW_CODING[weekday]], axis=1)
    return _Design(sku=sku, units=history.units, columns=columns, ref_price=ref,
                   n_sku=len(history.skus))


@dataclass
class _Pass:
    """One IRLS pass's results, per SKU."""

    beta: FloatArray  # (SKUs, k)
    covariance: FloatArray  # (SKUs, k, k): posterior (or sampling, unpooled) covariance
    dispersion: FloatArray  # (SKUs,)


def _blocks(counts: IntArray) -> list[IntArray]:
    """SKUs (with rows) grouped into blocks of similar row counts and bounded size."""
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]
    blocks: list[IntArray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and (end - start + 1) * int(counts[order[end]]) <= BLOCK_CELLS:
            end += 1
        blocks.append(order[start:end])
        start = end
    return blocks


def _irls(
    design: _Design,
    prior_mean: FloatArray,
    prior_precision: FloatArray,
    dispersion: FloatArray | None,
    start: FloatArray | None = None,
) -> _Pass:
    """Penalised Poisson IRLS of every SKU (see the module docstring), block by block.

    ``prior_mean`` is (SKUs, k); ``prior_precision`` is (k,) or (SKUs, k), 0 for the
    intercept. With ``dispersion`` None, it is estimated from the fit (quasi-Poisson).
    ``start`` (SKUs, k) are the starting coefficients (default: the mean, no slopes). The
    unpooled pass (``dispersion`` None) only feeds the hyper-parameters and the pooled pass's
    start, so it stops at a looser tolerance.
    """
    n_sku, k = design.n_sku, design.columns.shape[1]
    counts = np.bincount(design.sku, minlength=n_sku).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    beta = np.array(prior_mean, dtype=np.float64, copy=True)
    covariance = np.zeros((n_sku, k, k))
    phi = np.ones(n_sku) if dispersion is None else dispersion.copy()
    precision = np.broadcast_to(prior_precision, (n_sku, k))
    tolerance = UNPOOLED_TOLERANCE if dispersion is None else TOLERANCE
    for block in _blocks(counts):
        width = int(counts[block].max())
        position = np.arange(width)[None, :]
        filled = position < counts[block][:, None]
        rows = np.where(filled, starts[block][:, None] + position, 0)
        mask = filled.astype(np.float64)
        x = design.columns[rows] * mask[:, :, None]
        y = design.units[rows] * mask
        xt = np.ascontiguousarray(x.transpose(0, 2, 1))
        n = counts[block].astype(np.float64)
        if start is None:
            b = np.zeros((len(block), k))
            b[:, INTERCEPT] = np.log(np.maximum(y.sum(axis=1) / n, 0.05))
        else:
            b = start[block].copy()
        phi_block = phi[block]
        penalty = precision[block][:, :, None] * np.eye(k)[None, :, :]
        target = precision[block] * prior_mean[block]
        # Iterate only the SKUs that have not converged yet (most converge in a few steps).
        active = np.arange(len(block))
        # One buffer for x·μ: a fresh 100 MB temporary per iteration costs more in page
        # faults than the arithmetic.
        weighted = np.empty_like(x)
        for _ in range(MAX_ITERATIONS):
            every = len(active) == len(block)
            xa = x if every else x[active]
            xta = xt if every else xt[active]
            ba = b[active]
            eta = np.clip(np.matmul(xa, ba[:, :, None])[:, :, 0], -30.0, 15.0)
            mu = np.exp(eta) * (mask if every else mask[active])
            work = weighted[: len(active)]
            np.multiply(xa, mu[:, :, None], out=work)
            info = np.matmul(xta, work)
            working = mu * eta + (y if every else y[active]) - mu
            score = np.matmul(xta, working[:, :, None])[:, :, 0]
            system = info / phi_block[active, None, None] + penalty[active]
            right = score / phi_block[active, None] + target[active]
            new_b = np.linalg.solve(system, right[:, :, None])[:, :, 0]
            moved = np.abs(new_b - ba).max(axis=1)
            b[active] = new_b
            active = active[moved >= tolerance]
            if not len(active):
                break
        eta = np.clip(np.matmul(x, b[:, :, None])[:, :, 0], -30.0, 15.0)
        mu = np.exp(eta) * mask
        np.multiply(x, mu[:, :, None], out=weighted)
        info = np.matmul(xt, weighted)
        del weighted
        if dispersion is None:
            pearson = np.where(filled, (y - mu) ** 2 / np.maximum(mu, 1e-9), 0.0).sum(axis=1)
            phi_block = np.clip(pearson / np.maximum(n - k, 1.0), 1.0, 100.0)
            phi_block = np.where(n - k >= 10, phi_block, np.nan)
        safe_phi = np.where(np.isnan(phi_block), 1.0, phi_block)
        system = info / safe_phi[:, None, None] + penalty
        covariance[block] = np.linalg.inv(system)
        beta[block] = b
        phi[block] = phi_block
    if dispersion is None:
        typical = float(np.nanmedian(phi)) if np.isfinite(phi).any() else 1.0
        phi = np.where(np.isfinite(phi), phi, typical)
    return _Pass(beta=beta, covariance=covariance, dispersion=phi)


def _dersimonian_laird(
    estimate: FloatArray, variance: FloatArray, group: IntArray, groups: int
) -> tuple[float, FloatArray, FloatArray]:
    """Between-unit variance within groups, each group's precision-weighted mean and its
    squared standard error (DerSimonian–Laird)."""
    w = 1.0 / variance
    sum_w = np.bincount(group, weights=w, minlength=groups)
    mean = np.bincount(group, weights=w * estimate, minlength=groups) / np.maximum(sum_w, 1e-300)
    q = float(np.sum(w * (estimate - mean[group]) ** 2))
    sum_w2 = np.bincount(group, weights=w * w, minlength=groups)
    members = np.bincount(group, minlength=groups)
    used = members > 0
    denominator = float(np.sum(sum_w[used] - sum_w2[used] / sum_w[used]))
    degrees = int(np.sum(members[used] - 1))
    tau2 = max((q - degrees) / denominator, 0.0) if denominator > 0 and degrees > 0 else 0.0
    tau2 = max(tau2, MIN_TAU2)
    w_star = 1.0 / (variance + tau2)
    sum_star = np.bincount(group, weights=w_star, minlength=groups)
    mean_star = np.bincount(group, weights=w_star * estimate, minlength=groups) / np.maximum(
        sum_star, 1e-300
    )
    se2 = 1.0 / np.maximum(sum_star, 1e-300)
    return tau2, mean_star, se2


def _hyper(
    unpooled: _Pass, informative: BoolArray, category: IntArray, n_category: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per coefficient: the prior mean of each SKU (its category's, shrunk toward the store's),
    the SKU-level prior variance τ², and the store mean."""
    n_sku, k = unpooled.beta.shape
    prior_mean = np.zeros((n_sku, k))
    tau2 = np.zeros(k)
    store_mean = np.zeros(k)
    variance_all = np.diagonal(unpooled.covariance, axis1=1, axis2=2)  # φ included
    for column in range(1, k):
        use = informative[:, column]
        if use.sum() < 2:
            tau2[column] = 0.25 if column == PRICE else MIN_TAU2
            store_mean[column] = -1.5 if column == PRICE else 0.0
            prior_mean[:, column] = store_mean[column]
            continue
        estimate = unpooled.beta[use, column]
        variance = np.maximum(variance_all[use, column], 1e-8)
        tau2_k, category_mean, category_se2 = _dersimonian_laird(
            estimate, variance, category[use], n_category
        )
        present = np.bincount(category[use], minlength=n_category) > 0
        omega2, store, _ = _dersimonian_laird(
            category_mean[present],
            category_se2[present],
            np.zeros(int(present.sum()), dtype=np.int64),
            1,
        )
        weight = np.where(present, omega2 / (omega2 + category_se2), 0.0)
        shrunk = weight * category_mean + (1.0 - weight) * float(store[0])
        tau2[column] = tau2_k
        store_mean[column] = float(store[0])
        prior_mean[:, column] = shrunk[category]
    return prior_mean, tau2, store_mean


def _informative(design: _Design, unpooled: _Pass) -> BoolArray:
    """Which SKU × coefficient estimates carry information (their variance is not the ridge's)."""
    variance = np.diagonal(unpooled.covariance, axis1=1, axis2=2)
    return np.asarray(variance < 0.1 / VAGUE_PRECISION, dtype=np.bool_) & np.isfinite(
        unpooled.beta
    )


def fit_demand(history: History, categories: tuple[str, ...] | None = None) -> FitResult:
    """Fit the demand model to ``history`` (categories default to the history's own)."""
    cats = categories if categories is not None else history.categories
    ref = reference_prices(history)
    design = _design(history, cats, ref)
    n_sku, k = design.n_sku, design.columns.shape[1]
    counts = np.bincount(design.sku, minlength=n_sku).astype(np.int64)
    totals = np.bincount(design.sku, weights=design.units, minlength=n_sku).astype(np.float64)
    category, sizes = _category_codes(cats)

    vague = np.full(k, VAGUE_PRECISION)
    vague[INTERCEPT] = 0.0
    unpooled = _irls(design, np.zeros((n_sku, k)), vague, None)
    informative = _informative(design, unpooled) & (totals > 0)[:, None]
    prior_mean, tau2, store_mean = _hyper(unpooled, informative, category, len(sizes))
    precision = np.concatenate([[0.0], 1.0 / tau2[1:]])
    start = np.where(informative, unpooled.beta, prior_mean)
    start[:, INTERCEPT] = unpooled.beta[:, INTERCEPT]
    pooled = _irls(design, prior_mean, precision, unpooled.dispersion, start)
    return _assemble(history, cats, design, unpooled, pooled, prior_mean, tau2, store_mean,
                     counts, totals, sizes[category])


def _spread(values: FloatArray, sku: IntArray, n_sku: int) -> FloatArray:
    """Each SKU's standard deviation of ``values`` over its rows."""
    count = np.maximum(np.bincount(sku, minlength=n_sku), 1)
    mean = np.bincount(sku, weights=values, minlength=n_sku) / count
    square = np.bincount(sku, weights=values * values, minlength=n_sku) / count
    return np.asarray(np.sqrt(np.maximum(square - mean * mean, 0.0)), dtype=np.float64)


def _assemble(
    history: History,
    categories: tuple[str, ...],
    design: _Design,
    unpooled: _Pass,
    pooled: _Pass,
    prior_mean: FloatArray,
    tau2: FloatArray,
    store_mean: FloatArray,
    counts: IntArray,
    totals: FloatArray,
    category_size: IntArray,
) -> FitResult:
    n_sku = design.n_sku
    beta = pooled.beta.copy()
    sd = np.sqrt(np.maximum(pooled.covariance[:, PRICE, PRICE], 0.0))
    data_variance = unpooled.covariance[:, PRICE, PRICE]
    weight = (1.0 / data_variance) / (1.0 / data_variance + 1.0 / tau2[PRICE])
    source = np.where(weight >= 0.5, "history", np.where(weight >= 0.05, "history+category",
                                                          "category")).astype(object)
    flags: list[list[str]] = [[] for _ in range(n_sku)]
    price_spread = _spread(design.columns[:, PRICE], design.sku, n_sku)
    promo_rows = np.bincount(design.sku, weights=design.columns[:, PROMO], minlength=n_sku)
    feature_rows = np.bincount(design.sku, weights=design.columns[:, FEATURE], minlength=n_sku)
    short = SHORT_HISTORY[history.period]

    for i in np.flatnonzero(price_spread < 0.005).tolist():
        flags[i].append("price never moved: elasticity from its category")
        source[i] = "category"
    positive = beta[:, PRICE] >= 0
    for i in np.flatnonzero(positive).tolist():
        fallback, where = float(prior_mean[i, PRICE]), "category"
        if fallback >= 0:
            fallback, where = float(store_mean[PRICE]), "store"
        if fallback >= 0:
            fallback, where = -1.0, "default"
        flags[i].append(f"positive elasticity {beta[i, PRICE]:+.2f} replaced by the {where}'s")
        beta[i, PRICE] = fallback
        source[i] = where
    for i in np.flatnonzero((promo_rows == 0) & (counts > 0)).tolist():
        flags[i].append("never on promotion: promo lift from its category")
    for i in np.flatnonzero((feature_rows == 0) & (counts > 0)).tolist():
        flags[i].append("never featured: feature lift from its category")
    for i in np.flatnonzero(category_size < 2).tolist():
        flags[i].append("alone in its category: no cannibalization")
        beta[i, CROSS] = 0.0
    for i in np.flatnonzero((counts > 0) & (counts < short)).tolist():
        flags[i].append(f"short history ({counts[i]} periods)")
    no_sales = (counts > 0) & (totals == 0)
    for i in np.flatnonzero(no_sales).tolist():
        flags[i].append("no units sold in the history: base_units 0")

    daily = history.period is Period.DAY
    if daily:
        effects = np.concatenate([beta[:, FIRST_DOW:], -beta[:, FIRST_DOW:].sum(axis=1,
                                                                             keepdims=True)],
                                 axis=1)
        multipliers = np.exp(effects)
        mean_multiplier = multipliers.mean(axis=1)
        dow = multipliers / mean_multiplier[:, None]
    else:
        mean_multiplier = np.ones(n_sku)
        dow = np.ones((n_sku, 7))
    base = np.where(no_sales, 0.0, np.exp(beta[:, INTERCEPT]) * mean_multiplier)
    has_rows = counts > 0
    keep = np.flatnonzero(has_rows)
    elasticity = beta[:, PRICE]
    model = DemandModel(
        period=history.period,
        skus=tuple(history.skus[i] for i in keep.tolist()),
        categories=tuple(categories[i] for i in keep.tolist()),
        base_units=base[keep],
        ref_price=design.ref_price[keep],
        elasticity=elasticity[keep],
        elasticity_low=(elasticity - INTERVAL_Z * sd)[keep],
        elasticity_high=(elasticity + INTERVAL_Z * sd)[keep],
        promo_lift=np.exp(beta[keep, PROMO]),
        feature_lift=np.exp(beta[keep, FEATURE]),
        cross_elasticity=beta[keep, CROSS],
        dow=dow[keep],
        n_obs=counts[keep].astype(np.int64),
        source=tuple(str(source[i]) for i in keep.tolist()),
        flags=tuple("; ".join(flags[i]) for i in keep.tolist()),
    )
    notes = [
        f"store means: elasticity {store_mean[PRICE]:+.2f} (SKU spread sd "
        f"{np.sqrt(tau2[PRICE]):.2f}), promo lift ×{np.exp(store_mean[PROMO]):.2f}, "
        f"feature lift ×{np.exp(store_mean[FEATURE]):.2f}, cross-elasticity "
        f"{store_mean[CROSS]:+.2f}"
    ]
    if not history.has_promo:
        notes.append("the history has no promo column: promo lift 1 for every SKU")
    if not history.has_feature:
        notes.append("the history has no feature column: feature lift 1 for every SKU")
    if not any(categories):
        notes.append("no categories (history or --products): no cannibalization term")
    skipped = n_sku - len(keep)
    if skipped:
        notes.append(f"{skipped} SKUs have no rows in the fit window and are left out")
    return FitResult(model=model, notes=tuple(notes))
