"""The sign-up price cap and the reachability of sub-order subtotals, tested directly.

The cap is checked against its definition (the highest price that meets the sign-up rules: the
cap meets them, one fen more does not); reachability against a brute force over every basket.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import rules as rules_strategy

from models.rules import Mechanism, OfficialRounding, PlatformRules, Rules, SignupCheck
from pricing.engine.reach import Reachability
from pricing.engine.signup import meets_signup, signup_price_cap_fen


def _official(rate: str, rounding: OfficialRounding = OfficialRounding.FEN) -> Rules:
    return Rules(platform=PlatformRules(
        mechanism=Mechanism.OFFICIAL, official_rate=Decimal(rate), official_rounding=rounding,
        signup_check=SignupCheck.PRO_RATED,
    ))


@pytest.mark.parametrize("rounding", list(OfficialRounding))
def test_cap_at_official_rate_090_is_the_highest_price_that_signs_up(
    rounding: OfficialRounding,
) -> None:
    """GIVEN an official rate of 0.9 (one fen of effective price spans ten fen of price) WHEN
    the cap is computed THEN it signs up and one fen more does not, for every product (it was
    one fen too low: the walk from the estimate stopped after four steps)."""
    rules = _official("0.9", rounding)
    list_price = np.arange(5_000, 205_000, 997, dtype=np.int64)
    lowest = list_price * 3 // 10
    cap = signup_price_cap_fen(list_price, lowest, rules)
    assert meets_signup(cap, list_price, lowest, rules).all()
    assert not meets_signup(cap + 1, list_price, lowest, rules).any()


def test_cap_example_at_official_rate_090() -> None:
    # Lowest price ¥20.00: p − round(0.9 p) ≤ 2000 holds up to p = 20005 (20005 − 18005).
    rules = _official("0.9")
    cap = signup_price_cap_fen(np.array([100_000]), np.array([2_000]), rules)
    assert cap.tolist() == [20_005]


@given(
    rules_strategy(),
    st.lists(st.integers(100, 300_000), min_size=1, max_size=8),
    st.integers(30, 100),
)
def test_cap_is_the_highest_price_that_signs_up(
    rules: Rules, list_prices: list[int], lowest_percent: int
) -> None:
    list_price = np.asarray(list_prices, dtype=np.int64)
    lowest = np.maximum(list_price * lowest_percent // 100, 1)
    cap = signup_price_cap_fen(list_price, lowest, rules)
    fits = cap >= 0
    assert meets_signup(cap[fits], list_price[fits], lowest[fits], rules).all()
    assert not meets_signup(cap + 1, list_price, lowest, rules).any()


# --- the 2026 check ----------------------------------------------------------------------------


def _rules_2026(**platform: object) -> Rules:
    return Rules(platform=PlatformRules.model_validate(platform))


def test_2026_check_compares_the_price_itself_with_the_lowest_list_price() -> None:
    """The lowest list price of the window is compared with the activity price, nothing taken
    off: ¥180 against a lowest ¥179 fails though the cross-store pro-rating would pass it."""
    rules = _rules_2026(mechanism="cross_store")
    assert not meets_signup(np.array([18_000]), np.array([20_000]), np.array([17_900]), rules)[0]
    legacy = _rules_2026(mechanism="cross_store", signup_check="pro_rated")
    assert meets_signup(np.array([18_000]), np.array([20_000]), np.array([17_900]), legacy)[0]


def test_2026_check_compares_the_price_after_cycle_long_offers_with_the_lowest_coupon_price(
) -> None:
    """¥180 with every-300-save-50 counts ¥150 after the pro-rated reduction; with a ¥5
    coupon covering the cycle ¥145. A lowest 普惠券后价 of ¥148 fails without the coupon and
    passes with it; a product without one is not checked."""
    rules = _rules_2026(mechanism="cross_store")
    price, list_price, lowest = np.array([18_000] * 3), np.array([20_000] * 3), np.array(
        [18_000] * 3)
    coupon_price = np.array([14_800, 14_800, 0])
    assert meets_signup(price, list_price, lowest, rules,
                        lowest_coupon_price_fen=coupon_price).tolist() == [False, False, True]
    assert meets_signup(price, list_price, lowest, rules, lowest_coupon_price_fen=coupon_price,
                        universal_offer_fen=500).tolist() == [True, True, True]
    cap = signup_price_cap_fen(list_price, lowest, rules, lowest_coupon_price_fen=coupon_price)
    # p − round(p/6) ≤ 14800: p = 17760 gives 17760 − 2960 = 14800; 17761 − 2960 = 14801.
    assert cap.tolist() == [17_760, 17_760, 18_000]


# --- reachability ------------------------------------------------------------------------------


def _brute_force(prices: list[int], limits: list[int], horizon: int) -> set[int]:
    """Every basket's subtotal up to ``horizon``: each product in turn, every count of it (up
    to its limit) added to every subtotal of the products before it. The same set as summing
    every combination of counts, without walking the combinations one by one (four unlimited
    ¥0.10 products are 301⁴ baskets, but at most 301 subtotals)."""
    subtotals = {0}
    for price, limit in zip(prices, limits, strict=True):
        most = limit or horizon // price
        subtotals = {
            total
            for before in subtotals
            for count in range(most + 1)
            if (total := before + count * price) <= horizon
        }
    return subtotals


@given(
    st.lists(st.tuples(st.integers(1, 60), st.integers(0, 3)), min_size=1, max_size=4),
    st.integers(0, 250),
)
def test_reachability_agrees_with_a_brute_force(
    products: list[tuple[int, int]], target: int
) -> None:
    """GIVEN small prices and purchase limits WHEN subtotals are enumerated THEN the smallest
    reachable subtotal at least ``target`` is the brute force's, and the basket given back
    reaches it within the limits."""
    prices = [p * 10 for p, _ in products]
    limits = [limit for _, limit in products]
    horizon = 3_000
    reach = Reachability(np.asarray(prices, np.int64), np.asarray(limits, np.int64), horizon)
    reachable = _brute_force(prices, limits, horizon)
    expected = min((s for s in reachable if s >= target * 10), default=None)
    found = reach.smallest_at_least(target * 10)
    assert found == expected
    many = reach.smallest_at_least_many(np.asarray([target * 10], np.int64))
    assert many.tolist() == [-1 if expected is None else expected]
    if found is not None:
        basket = reach.basket(found)
        assert sum(prices[i] * q for i, q in basket.items()) == found
        assert all(not limits[i] or q <= limits[i] for i, q in basket.items())


def test_reachability_refuses_an_unreachable_basket() -> None:
    reach = Reachability(np.array([300, 500]), np.array([1, 0]), 2_000)
    assert reach.smallest_at_least(600) == 800  # 300 once, then 500s: 800, not 600
    with pytest.raises(ValueError, match="not a reachable subtotal"):
        reach.basket(600)


def test_affordable_says_when_the_table_is_too_large() -> None:
    assert Reachability.affordable(np.array([100, 250]), 10_000)
    assert not Reachability.affordable(np.array([1, 3]), 10**9)
