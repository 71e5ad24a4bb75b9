"""The vectorised fast paths of ``plan`` agree with the simple, obvious computation they replace.

Each test draws small inputs (the whole domain: ties, empty tables, invalid rows, classes) and
compares the fast path with a plain Python loop written from the definition.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import rules as rules_strategy

from models.rules import Rules
from pricing.engine.bounds import unit_margin_bound_fen, worst_rate
from pricing.optimize.candidates import _drop_dominated, base_safe_rows, coupon_unsafe_bits
from pricing.optimize.demand import rounded_units
from pricing.verify.checker import _FAST_CHECKS, ProductCheck, _product_check


def _dominated_by_definition(
    valid: np.ndarray, profit: np.ndarray, spend: np.ndarray, unsafe: np.ndarray,
    with_budget: bool, classes: np.ndarray | None, at_most: list[np.ndarray],
) -> np.ndarray:
    """Row a is dropped when some other valid row b of the product has at least its profit, no
    more unsafe tiers, (with a budget) no more spend, the same class, no more of each ``at_most``
    attribute, and is strictly better in one of them or comes first."""
    keep = valid.copy()
    products, rows = valid.shape
    for j in range(products):
        for a in range(rows):
            for b in range(rows):
                if a == b or not valid[j, b]:
                    continue
                at_least = profit[j, b] >= profit[j, a] and (unsafe[j, b] & ~unsafe[j, a]) == 0
                strictly = profit[j, b] > profit[j, a] or unsafe[j, b] != unsafe[j, a]
                if with_budget:
                    at_least = at_least and spend[j, b] <= spend[j, a]
                    strictly = strictly or spend[j, b] < spend[j, a]
                if classes is not None:
                    at_least = at_least and classes[j, b] == classes[j, a]
                for attribute in at_most:
                    at_least = at_least and attribute[j, b] <= attribute[j, a]
                    strictly = strictly or attribute[j, b] < attribute[j, a]
                if at_least and (strictly or b < a):
                    keep[j, a] = False
    return keep


@st.composite
def dominance_tables(draw: st.DrawFn) -> tuple[Any, ...]:
    shape = (draw(st.integers(0, 4)), draw(st.integers(1, 6)))
    valid = draw(hnp.arrays(np.bool_, shape))
    # Few distinct values, so ties are common.
    profit = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.5, 3.0])))
    spend = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 4.0])))
    unsafe = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 7)))
    classes = draw(st.none() | hnp.arrays(np.int64, shape, elements=st.integers(0, 2)))
    at_most = draw(st.lists(
        hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.0])), max_size=2
    ))
    return valid, profit, spend, unsafe, classes, at_most


@given(dominance_tables(), st.booleans())
def test_dominance_one_row_at_a_time_is_the_definition(
    table: tuple[Any, ...], with_budget: bool
) -> None:
    valid, profit, spend, unsafe, classes, at_most = table
    fast = _drop_dominated(valid, profit, spend, unsafe, with_budget, classes, at_most)
    assert np.array_equal(fast, _dominated_by_definition(
        valid, profit, spend, unsafe, with_budget, classes, at_most
    ))


# Forecasts as a plan meets them, and the awkward ones: exact halves at the third decimal
# (0.0005, 2.5e-3 …), their neighbours one float away, zeros, huge and non-finite values.
_HALVES = st.integers(0, 10**7).map(lambda k: (2 * k + 1) / 2000)
_NEAR_HALVES = st.tuples(_HALVES, st.sampled_from([-1, 1])).map(
    lambda pair: float(np.nextafter(pair[0], pair[1] * np.inf))
)
_UNITS = st.one_of(
    st.floats(0, 1e6, allow_nan=False), _HALVES, _NEAR_HALVES,
    st.sampled_from([0.0, -0.0, 1e300, np.inf, np.nan, 2.0**53, 4503599627370.4995]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(st.lists(_UNITS, max_size=30), st.integers(0, 4))
def test_rounded_units_is_python_round_of_each(units: list[float], digits: int) -> None:
    """GIVEN forecasts WHEN rounded at once THEN each is the float ``round(u, digits)`` gives
    (the same bits: the sign of a zero, NaN where NaN)."""
    fast = rounded_units(np.asarray(units, dtype=np.float64), digits)
    slow = [round(u, digits) for u in units]
    assert [np.float64(x).tobytes() for x in fast] == [np.float64(x).tobytes() for x in slow]
    assert all(type(x) is float for x in fast)


@st.composite
def priced_rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """Prices × rows with what the bound takes: official discounts, costs, B2G1, floors and
    whether the mechanism reaches each row (prices from 1 fen, so cheap lines cut to zero)."""
    shape = (draw(st.integers(0, 4)), draw(st.integers(1, 5)))
    price = draw(hnp.arrays(np.int64, shape, elements=st.integers(1, 200_000)))
    official = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 5_000)))
    cost = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 150_000)))
    in_b2g1 = draw(hnp.arrays(np.bool_, shape))
    floors = draw(hnp.arrays(np.int64, shape, elements=st.integers(-100, 10_000)))
    bears = draw(hnp.arrays(np.bool_, shape))
    # Rows again (a buy-two-get-one row repeats its level's row): some wholly, some in part.
    again = draw(st.lists(st.integers(0, shape[1] - 1), max_size=3))
    table = [price, np.minimum(official, price), cost, in_b2g1, floors, bears]
    table = [np.concatenate([array, array[:, again]], axis=1) for array in table]
    if again and shape[0] and draw(st.booleans()):
        table[draw(st.integers(1, 5))][-1, -1] ^= 1  # differs in one input only
    return tuple(table)


def _bound_of_tier(table: tuple[Any, ...], rules: Rules, index: int) -> np.ndarray:
    price, official, cost, in_b2g1, _, bears = table
    tier = rules.coupons.candidates[index]
    basket = np.maximum(price, tier.threshold_fen)
    return unit_margin_bound_fen(
        price, official, cost, in_b2g1, tier.amount_fen, basket, rules, bears
    )


@given(priced_rows(), rules_strategy(), st.integers(0, 3), st.sampled_from([-1, 0, 1, None]))
def test_coupon_bits_at_once_are_the_bound_of_each_tier(
    table: tuple[Any, ...], rules: Rules, probed: int, offset: int | None
) -> None:
    """GIVEN a table and rules (floors drawn, or set one fen around a tier's bound to probe
    the edge) WHEN the coupon candidates' safety bits are worked out at once THEN they are the
    bits the bound and the worst rate give tier by tier."""
    if offset is not None and probed < len(rules.coupons.candidates):
        table = (*table[:4], _bound_of_tier(table, rules, probed) + offset, table[5])
    price, official, cost, in_b2g1, floors, bears = table
    unsafe, zeroes = coupon_unsafe_bits(price, official, cost, in_b2g1, floors, bears, rules)
    slow_unsafe = np.zeros(price.shape, dtype=np.int64)
    slow_zeroes = np.zeros(price.shape, dtype=np.int64)
    for index, tier in enumerate(rules.coupons.candidates):
        basket = np.maximum(price, tier.threshold_fen)
        bound = _bound_of_tier(table, rules, index)
        rate = worst_rate(price, official, in_b2g1, tier.amount_fen, basket, rules, bears)
        slow_unsafe |= np.where((bound < floors) | (rate >= 1.0), 1 << index, 0)
        slow_zeroes |= np.where(rate >= 1.0, 1 << index, 0)
    assert np.array_equal(unsafe, slow_unsafe)
    assert np.array_equal(zeroes, slow_zeroes)


@given(
    st.text(max_size=8), st.integers(), st.integers(), st.integers(),
    st.none() | st.fractions(), st.booleans(), st.booleans(),
)
def test_product_check_assembled_directly_is_the_dataclass(
    sku: str, price: int, floor: int, bound: int, margin: Fraction | None, cap: bool,
    guaranteed: bool,
) -> None:
    """GIVEN a verdict's values WHEN the checker assembles it directly THEN it is the frozen
    dataclass its constructor makes: equal, the same fields and hash, still frozen."""
    fast = _product_check(sku, price, floor, bound, None, margin, cap, guaranteed, margin)
    slow = ProductCheck(sku, price, floor, bound, None, margin, cap, guaranteed, margin)
    assert fast == slow and vars(fast) == vars(slow) and hash(fast) == hash(slow)
    assert _FAST_CHECKS  # the fast assembly is in use (update it when the fields change)
    with pytest.raises(FrozenInstanceError):
        fast.sku = "changed"  # type: ignore[misc]


@given(priced_rows(), rules_strategy(), st.sampled_from([-1, 0, 1, None]))
def test_base_safety_in_place_is_the_bound_without_a_coupon(
    table: tuple[Any, ...], rules: Rules, offset: int | None
) -> None:
    """GIVEN a table and rules (floors drawn, or one fen around the bound to probe the edge)
    WHEN the rows safe without a coupon are worked out in place THEN they are the rows the
    bound and the worst rate at ``S = price`` call safe."""
    price, official, cost, in_b2g1, floors, bears = table
    bound = unit_margin_bound_fen(price, official, cost, in_b2g1, 0, price, rules, bears)
    if offset is not None:
        floors = bound + offset
    rate = worst_rate(price, official, in_b2g1, 0, price, rules, bears)
    fast = base_safe_rows(price, official, cost, in_b2g1, floors, bears, rules)
    assert np.array_equal(fast, (bound >= floors) & (rate < 1.0))


@st.composite
def _library_messages(draw: st.DrawFn) -> str:
    """A message as the library writes it: catalogue keys with their placeholders filled (by
    plain text, a number, or another key), one or several pieces between ``"; "``, or any
    text."""
    from pricing.outputs import i18n

    keys = sorted(key for key in {**i18n.ZH, **i18n.MESSAGES_ZH, **i18n._pydantic_messages()}
                  if i18n._PLACEHOLDER.search(key))
    values = st.one_of(st.text(max_size=6), st.sampled_from(["0", "12.5", "¥3.00", "a; b"]),
                       st.sampled_from(keys))
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            key = draw(st.sampled_from(keys))
            pieces.append(i18n._PLACEHOLDER.sub(lambda _: draw(values), key))
        else:
            pieces.append(draw(st.text(max_size=20)))
    return "; ".join(pieces)


@given(_library_messages())
def test_translating_a_message_compiles_only_the_patterns_it_can_match(text: str) -> None:
    """The catalogue's patterns are compiled when a message begins with their key's literal
    start; trying every pattern on every message (the obvious way) gives the same Chinese."""
    from pricing.outputs import i18n

    fast = i18n.tr_message(text, "zh")
    everything = tuple(("", regex, chinese) for _, regex, chinese in i18n._message_templates())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(i18n, "_message_templates", lambda: everything)
        assert i18n.tr_message(text, "zh") == fast
