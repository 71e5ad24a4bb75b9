"""Properties of the demand forecast on generated models and scenarios (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples

from models.demand import DemandModel, Period
from models.product import Product
from pricing.demand.event import EventDemand
from pricing.demand.forecast import forecast_scenario
from pricing.demand.model import category_price_index
from pricing.formats.history import Scenario


@st.composite
def models_and_prices(draw: st.DrawFn) -> tuple[DemandModel, np.ndarray]:
    count = draw(st.integers(2, 6))
    floats = st.floats
    model = DemandModel(
        period=Period.DAY,
        skus=tuple(f"S{i}" for i in range(count)),
        categories=tuple(draw(st.lists(st.sampled_from("ab"), min_size=count, max_size=count))),
        base_units=np.array(draw(st.lists(floats(0.1, 100), min_size=count, max_size=count))),
        ref_price=np.array(draw(st.lists(floats(1, 1000), min_size=count, max_size=count))),
        elasticity=np.array(draw(st.lists(floats(-5, -0.1), min_size=count, max_size=count))),
        elasticity_low=np.full(count, -6.0),
        elasticity_high=np.zeros(count),
        promo_lift=np.array(draw(st.lists(floats(0.5, 3), min_size=count, max_size=count))),
        feature_lift=np.ones(count),
        cross_elasticity=np.array(draw(st.lists(floats(0, 3), min_size=count, max_size=count))),
        dow=np.ones((count, 7)),
        n_obs=np.full(count, 365),
        source=("history",) * count,
        flags=("",) * count,
    )
    shares = np.array(draw(st.lists(floats(0.3, 1.5), min_size=count, max_size=count)))
    return model, model.ref_price * shares


def _scenario(model: DemandModel, prices: np.ndarray, order: np.ndarray) -> Scenario:
    count = len(prices)
    return Scenario(
        file="s",
        skus=np.array(model.skus, dtype=object)[order],
        dates=np.full(count, np.datetime64("2026-11-11"), dtype="datetime64[D]"),
        price=prices[order],
        promo=np.zeros(count, dtype=np.bool_),
        feature=np.zeros(count, dtype=np.bool_),
        rows=np.arange(2, count + 2, dtype=np.int64)[order],
    )


@settings(max_examples=examples(0.6), deadline=None)
@given(models_and_prices(), st.data())
def test_a_dearer_product_sells_less_and_its_neighbours_no_less(
    case: tuple[DemandModel, np.ndarray], data: st.DataObject
) -> None:
    model, prices = case
    order = np.arange(len(prices))
    before = forecast_scenario(model, _scenario(model, prices, order), "d")
    k = data.draw(st.integers(0, len(prices) - 1))
    dearer = prices.copy()
    dearer[k] *= data.draw(st.floats(1.01, 3.0))
    after = forecast_scenario(model, _scenario(model, dearer, order), "d")
    assert after[k] < before[k]
    same = np.array([c == model.categories[k] for c in model.categories])
    others = np.arange(len(prices)) != k
    assert np.all(after[others & same] >= before[others & same] * (1 - 1e-12))
    np.testing.assert_allclose(after[~same], before[~same], rtol=1e-12)


@settings(max_examples=examples(0.6), deadline=None)
@given(models_and_prices(), st.randoms(use_true_random=False))
def test_the_forecast_does_not_depend_on_the_order_of_the_rows(
    case: tuple[DemandModel, np.ndarray], random: object
) -> None:
    model, prices = case
    order = np.arange(len(prices))
    shuffled = order.copy()
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    straight = forecast_scenario(model, _scenario(model, prices, order), "d")
    mixed = forecast_scenario(model, _scenario(model, prices, shuffled), "d")
    np.testing.assert_allclose(mixed, straight[shuffled], rtol=1e-12)


@settings(max_examples=examples(0.6), deadline=None)
@given(models_and_prices())
def test_the_planners_category_index_is_the_forecasts(
    case: tuple[DemandModel, np.ndarray],
) -> None:
    """The planner's index (prices in fen, products in catalogue order) is the one forecast
    computes from the same prices (SKUs absent from the catalogue at their reference price)."""
    model, prices = case
    fen = np.maximum(np.rint(prices * 100), 1).astype(np.int64)
    products = [
        Product(sku=sku, list_price_fen=int(f), lowest_price_fen=int(f), unit_cost_fen=0,
                stock=1, base_units=1.0)
        for sku, f in zip(model.skus, fen.tolist(), strict=True)
    ]
    event = EventDemand.of(model, products)
    index = category_price_index(model, np.arange(len(fen)), np.zeros(len(fen), np.int64),
                                 fen / 100.0)
    np.testing.assert_allclose(event.category_index(fen), index, rtol=1e-9, atol=1e-12)
