"""The rules written once and used everywhere: labels, yes/no, coupon tiers, witness limits."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.money import (
    discount_label,
    fen_times_rate,
    round_half_up,
    times_rate_fen,
    times_rate_fen_array,
)
from models.rules import CouponTier, Mechanism, PlatformRules, mechanism_label
from pricing.formats.tables import YES_NO, yes_no
from pricing.formats.tiers import TierTextError, parse_tier
from pricing.verify.margin_check import discounted_price_fen
from pricing.verify.policy import WITNESSES, WitnessPolicy


def test_discount_labels_in_both_languages() -> None:
    assert discount_label(Decimal("0.85")) == "8.5折"
    assert discount_label(Decimal("0.50"), "zh") == "5折"
    assert discount_label(Decimal("0.85"), "en") == "15% off"
    assert discount_label(Decimal(1), "zh") == "原价"
    assert discount_label(Decimal(1), "en") == "no discount"


@given(st.integers(0, 10**9), st.decimals(0, 1, places=4))
def test_price_times_rate_rounds_half_up_exactly_once(fen: int, rate: Decimal) -> None:
    numerator, denominator = rate.as_integer_ratio()
    assert fen_times_rate(fen, rate) == round_half_up(fen * numerator, denominator)


@given(st.lists(st.integers(0, 10**10), min_size=1, max_size=20),
       st.decimals(0, 1, places=4), st.sampled_from([1, 10, 100]), st.booleans())
def test_one_rate_rounding_for_amounts_and_arrays(
    amounts: list[int], rate: Decimal, step: int, up: bool
) -> None:
    """GIVEN amounts, a rate, a rounding step and direction WHEN rounded one by one and as an
    array THEN the integers agree, and half up to the fen is fen_times_rate."""
    one_by_one = [times_rate_fen(fen, rate, step_fen=step, up=up) for fen in amounts]
    array = times_rate_fen_array(np.array(amounts, dtype=np.int64), rate, step_fen=step, up=up)
    assert array.tolist() == one_by_one
    if step == 1 and not up:
        assert one_by_one == [fen_times_rate(fen, rate) for fen in amounts]


@given(st.integers(1, 10**9), st.decimals(0, Decimal("0.99"), places=2))
def test_a_discounted_price_is_the_list_price_times_the_level(fen: int, off: Decimal) -> None:
    assert discounted_price_fen(fen, off) == fen_times_rate(fen, 1 - off)


def test_one_description_of_the_platform_mechanism() -> None:
    cross = PlatformRules(mechanism=Mechanism.CROSS_STORE, cross_store_every_fen=30000,
                          cross_store_save_fen=5000)
    official = PlatformRules(mechanism=Mechanism.OFFICIAL, official_rate=Decimal("0.15"))
    assert mechanism_label(cross) == "cross-store every ¥300 save ¥50"
    assert mechanism_label(cross, "zh") == "跨店满减 每满300减50"
    assert mechanism_label(official) == "official instant discount 15%"
    assert mechanism_label(official, "zh") == "官方立减 15%"
    assert mechanism_label(PlatformRules(mechanism=Mechanism.NONE)) == "no platform-wide discount"


@pytest.mark.parametrize(
    ("text", "meaning"),
    [("是", True), ("否", False), (" YES ", True), ("n", False), ("1", True), ("0", False),
     ("", True), ("  ", True), ("maybe", None)],
)
def test_one_yes_no_vocabulary_where_an_empty_cell_means_yes(text: str, meaning: bool) -> None:
    assert yes_no(text) is meaning
    assert YES_NO[""] is True


@pytest.mark.parametrize("text", ["299-20", "满299减20", "满299减20元", " 299 / 20 ", "299:20"])
def test_a_coupon_tier_is_read_in_every_notation(text: str) -> None:
    assert parse_tier(text) == CouponTier(threshold_fen=29900, amount_fen=2000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("abc", "expected threshold-amount"), ("99.999-5", "finer than a fen"),
     ("100-100", "less than its threshold")],
)
def test_a_bad_coupon_tier_says_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(TierTextError, match=expected):
        parse_tier(text)


def test_one_witness_policy_for_every_command() -> None:
    assert isinstance(WITNESSES, WitnessPolicy)
    assert WITNESSES.for_plan(500) is None and WITNESSES.for_plan(501) == 20
    assert WITNESSES.for_check(2_000) is None and WITNESSES.for_check(2_001) == 200
    assert WITNESSES.for_report(2_001) == 400 and WITNESSES.for_stress_test(2_001) == 0
