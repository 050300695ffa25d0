"""The arithmetic of weight learning: profiles and unit weights."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from service.weights.stats import MIN_PARCELS, SingleProductParcel, summarise, unit_weight

weights = st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=60)


def test_summary_of_three_parcels() -> None:
    s = summarise([1000, 1010, 990])
    assert (s.parcels, s.mean_grams, round(s.stdev_grams, 6)) == (3, 1000.0, 10.0)
    assert summarise([]).parcels == 0
    assert summarise([812]).stdev_grams == 0.0  # one parcel has no spread


@given(weights)
def test_summary_matches_the_textbook(grams: list[int]) -> None:
    s = summarise(grams)
    assert s.parcels == len(grams)
    assert abs(s.mean_grams - statistics.fmean(grams)) < 1e-6
    assert min(grams) - 1e-6 <= s.mean_grams <= max(grams) + 1e-6
    if len(grams) >= 2:
        assert abs(s.stdev_grams - statistics.stdev(grams)) < 1e-6


@given(weights, st.integers(min_value=-5000, max_value=5000))
def test_a_constant_added_to_every_parcel_moves_the_mean_not_the_spread(
    grams: list[int], shift: int
) -> None:
    moved = [g + shift for g in grams]
    a, b = summarise(grams), summarise(moved)
    assert abs((b.mean_grams - a.mean_grams) - shift) < 1e-6
    assert abs(b.stdev_grams - a.stdev_grams) < 1e-6


def _p(grams: int, box: int = 250, units: int = 1) -> SingleProductParcel:
    return SingleProductParcel(grams, box, units)


def test_unit_weight_is_the_median_per_unit_after_the_box() -> None:
    # (610 - 250), (600 - 250), (900 - 250): the parcel with something extra moves nothing.
    assert unit_weight([_p(610), _p(600), _p(900)]) == 360
    # several units per parcel: (1150 - 150) / 2 = 500 each
    assert unit_weight([_p(1150, 150, 2), _p(650, 150, 1), _p(1650, 150, 3)]) == 500
    # half a gram rounds up
    assert unit_weight([_p(351), _p(351, 250, 2), _p(351)]) == 101


def test_too_few_parcels_or_nothing_left_after_the_box_teach_nothing() -> None:
    assert unit_weight([_p(600)] * (MIN_PARCELS - 1)) is None
    assert unit_weight([_p(250), _p(250), _p(251)]) is None  # 0 g per unit is no weight
    assert unit_weight([_p(100), _p(120), _p(140)]) is None  # lighter than its box


@given(
    st.integers(min_value=1, max_value=20_000),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2_000), st.integers(min_value=1, max_value=12)
        ),
        min_size=MIN_PARCELS,
        max_size=30,
    ),
)
def test_parcels_of_exact_units_give_back_the_unit(
    unit: int, parcels: list[tuple[int, int]]
) -> None:
    exact = [SingleProductParcel(box + unit * n, box, n) for box, n in parcels]
    assert unit_weight(exact) == unit


@given(st.lists(st.integers(min_value=300, max_value=5_000), min_size=MIN_PARCELS, max_size=30))
def test_the_unit_weight_lies_within_the_parcels(grams: list[int]) -> None:
    learned = unit_weight([_p(g) for g in grams])
    assert learned is not None
    assert min(grams) - 250 <= learned <= max(grams) - 250 + 1
