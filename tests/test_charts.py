"""The report's SVG chart geometry (pricing/outputs/charts.py)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pricing.outputs.charts import (
    COLUMNS_AT_MOST,
    LABELLED_BARS,
    MarginBar,
    Step,
    margin_bars,
    nice_ticks,
    waterfall_chart,
)

LABELS = {"list": "日常价", "cut": "让利", "paid": "到手价"}


@given(st.integers(-10**9, 10**9), st.integers(1, 10**9))
def test_ticks_are_round_and_cover_the_range(low: int, span: int) -> None:
    ticks = nice_ticks(low, low + span)
    assert 2 <= len(ticks) <= 12
    assert ticks == sorted(ticks)
    assert ticks[0] - low < span and low + span - ticks[-1] < span


def test_a_waterfall_bar_starts_where_the_previous_step_ended() -> None:
    chart = waterfall_chart(
        [Step("list", "absolute", Fraction(10000)), Step("cut", "relative", Fraction(-2500)),
         Step("paid", "total", Fraction(7500))], LABELS, "title")
    bars = chart["bars"]
    assert isinstance(bars, list)
    first, cut, paid = bars
    assert cut["y"] == first["y"]  # the cut hangs from the everyday price
    assert cut["y"] + cut["h"] == paid["y"]  # and ends at the paid price
    assert [bar["text"] for bar in bars] == ["100.00", "-25.00", "75.00"]
    assert [bar["kind"] for bar in bars] == ["t", "d", "t"]


@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.booleans()), min_size=1,
                max_size=2_000))
def test_every_product_is_in_one_bar_and_red_is_never_lost(
    products: list[tuple[int, bool]]
) -> None:
    bars = [MarginBar(f"SKU{i:05d}", margin, bad, "") for i, (margin, bad) in
            enumerate(products)]
    chart = margin_bars(bars, "every product")
    drawn = chart["bars"]
    assert isinstance(drawn, list)
    assert len(drawn) == (len(products) if len(products) <= LABELLED_BARS
                          else min(len(products), COLUMNS_AT_MOST))
    assert any(bar["bad"] for bar in drawn) == any(bad for _, bad in products)
