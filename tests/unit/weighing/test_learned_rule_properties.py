"""The learned rule as the issue states it: after 3 parcels, flag only when off by more than
5 % AND more than 2 standard deviations AND more than the floor in grams."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.packing.weight_rules import LearnedWeight, ToleranceBand, WeightPolicy, check_weight
from tests.support.text import en, grams

# No cap: the cap (learn_max_pct) is a separate guard, tested in test_weight_rules.py.
POLICY = WeightPolicy(band=ToleranceBand(50, Decimal(5)), learn_max_pct=Decimal(10**9))


@given(
    mean=st.floats(min_value=50, max_value=30_000),
    stdev=st.floats(min_value=0, max_value=2_000),
    parcels=st.integers(min_value=3, max_value=50),
    measured=st.integers(min_value=1, max_value=40_000),
)
def test_flagged_exactly_when_off_by_more_than_every_limit(
    mean: float, stdev: float, parcels: int, measured: int
) -> None:
    v = check_weight(measured, None, LearnedWeight(parcels, mean, stdev), policy=POLICY)
    expected = v.expected_grams
    assert expected is not None
    off = abs(measured - expected)
    # Whole grams, rounded up: each limit is the smallest whole number not below it.
    limits = (50, -(-expected * 5 // 100), int(Decimal(stdev) * 2 + Decimal("0.999999999")))
    if off > max(limits) + 1:
        assert not v.ok
    if off <= max(limits) - 1:
        assert v.ok
    assert en(v.plain) == (
        f"expected {grams(expected)} ± {grams(expected - v.lower_grams)}, "
        f"learned from {parcels} parcels"
    )


def test_eight_percent_heavier_is_flagged_two_percent_is_not() -> None:
    learned = LearnedWeight.from_weights([1000, 1004, 996, 1002, 998])
    assert not check_weight(1080, 1000, learned).ok
    assert check_weight(1020, 1000, learned).ok


def test_fewer_than_three_parcels_fall_back_to_the_catalogue() -> None:
    learned = LearnedWeight.from_weights([1000, 1004])
    v = check_weight(1080, 1100, learned)
    assert v.ok and v.rule.startswith("fixed:")


def test_the_floor_is_the_carriers_grams_where_it_has_its_own() -> None:
    policy = WeightPolicy(carrier_bands={"dhl": ToleranceBand(20, Decimal(1))})
    learned = LearnedWeight.from_weights([200, 200, 200])
    # site floor 50 g: 240 g passes; DHL's floor 20 g: flagged (5 % of 200 g is 10 g)
    assert check_weight(240, None, learned, policy=policy, carrier="UPS").ok
    dhl = check_weight(240, None, learned, policy=policy, carrier="DHL")
    assert not dhl.ok and "expected 200 g ± 20 g, learned from 3 parcels" in en(dhl.message)
