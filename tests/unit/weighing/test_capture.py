"""Weighing one box: stable, fresh, locked until re-weigh."""

from __future__ import annotations

from decimal import Decimal

from app.weighing import BoxWeighing, CaptureState, ScaleReading, WeightUnit
from tests.support.text import en


def r(grams: str | int, at: float, *, stable: bool = True, **flags: bool) -> ScaleReading:
    return ScaleReading(Decimal(grams), WeightUnit.G, stable=stable, at=at, **flags)


def test_only_a_stable_in_range_reading_is_accepted() -> None:
    box = BoxWeighing()
    box.start(1, at=10.0)
    for bad, words in [
        (r(800, 11, stable=False), "still moving"),
        (r(0, 11, stable=False, overload=True), "overloaded"),
        (r(-40, 11), "negative weight"),
        (r(0, 11, underload=True), "negative weight"),
        (r(0, 11, at_zero=True), "Put box 1 on the scale"),
    ]:
        outcome = box.feed(bad)
        assert outcome.accepted is None and words in en(outcome.message)
    outcome = box.feed(r(812, 12))
    assert outcome.newly_accepted and outcome.accepted is not None
    assert en(outcome.message) == "Box 1 weighs 812 g (accepted)."


def test_reading_taken_before_the_box_started_is_ignored() -> None:
    box = BoxWeighing()
    box.start(1, at=10.0)
    assert box.feed(r(812, 9.9)).accepted is None


def test_weight_is_locked_until_reweigh() -> None:
    box = BoxWeighing()
    box.start(1, at=0)
    box.feed(r(812, 1))
    locked = box.feed(r(900, 2))
    assert locked.state is CaptureState.ACCEPTED and locked.accepted.whole_grams == 812
    assert "locked" in en(locked.message)
    box.reweigh(at=3)
    assert box.feed(r(900, 2.5)).accepted is None  # older than the re-weigh request
    assert box.feed(r(900, 4)).accepted.whole_grams == 900  # same box: no need to clear


def test_previous_box_weight_is_never_reused() -> None:
    box = BoxWeighing()
    box.start(1, at=0)
    box.feed(r(812, 1))
    box.start(2, at=2)
    stale = box.feed(r(812, 3))  # box 1 still on the platter
    assert stale.accepted is None and "previous parcel" in en(stale.message)
    assert box.feed(r(2, 4)).accepted is None  # platter emptied
    assert box.feed(r(812, 5)).accepted.whole_grams == 812  # identical box 2 is fine now


def test_a_clearly_lighter_weight_counts_as_a_new_box() -> None:
    box = BoxWeighing()
    box.start(1, at=0)
    box.feed(r(812, 1))
    box.start(2, at=2)
    assert box.feed(r(300, 3)).accepted.whole_grams == 300


def test_a_heavier_weight_before_the_platter_was_empty_may_be_two_parcels() -> None:
    """A parcel put on before the previous one was lifted: never taken as its weight."""
    box = BoxWeighing()
    box.start(1, at=0)
    box.feed(r(812, 1))
    box.start(2, at=2)
    stacked = box.feed(r(1500, 3))
    assert stacked.accepted is None
    assert en(stacked.message) == (
        "The previous parcel may still be on the scale: lift everything off, then put this "
        "parcel on alone."
    )
    assert box.feed(r(0, 4)).accepted is None
    assert box.feed(r(688, 5)).accepted.whole_grams == 688


def test_manual_reading_is_accepted_and_marked() -> None:
    box = BoxWeighing()
    box.start(1, at=0)
    reading = ScaleReading(Decimal("1.2"), WeightUnit.KG, stable=True, manual=True, at=1)
    assert en(box.feed(reading).message) == "Box 1 weighs 1.20 kg (typed in)."


def test_feeding_without_a_box_asks_to_open_an_order() -> None:
    assert "Open an order" in en(BoxWeighing().feed(r(5, 1)).message)


def test_empty_platter_seen_while_no_box_waits_counts_for_the_next_identical_box() -> None:
    """Two parcels of the same weight in a row: the empty platter between them counts."""
    box = BoxWeighing()
    box.start(1, at=0)
    assert box.feed(r(812, 1)).newly_accepted
    box.feed(r(812, 2))  # label printing, parcel still on
    box.feed(r(0, 3, at_zero=True))  # parcel lifted off while the next order is scanned
    box.start(1, at=4)  # next order's box
    assert box.feed(r(812, 5)).accepted.whole_grams == 812


def test_parcel_never_lifted_asks_to_lift_it_off_and_put_it_back() -> None:
    box = BoxWeighing()
    box.start(1, at=0)
    box.feed(r(812, 1))
    box.feed(r(2, 2, stable=False))  # a wobble near zero is not an empty platter
    box.start(1, at=3)
    for t in (4, 5, 6):  # a scale that reports the same weight forever
        stuck = box.feed(r(812, t))
        assert stuck.accepted is None
        assert en(stuck.message) == (
            "The scale still shows the previous parcel's weight: "
            "lift the parcel off and put it back."
        )
    assert box.feed(r(0, 7)).accepted is None
    assert box.feed(r(812, 8)).accepted.whole_grams == 812


def test_a_typed_in_weight_needs_no_empty_platter() -> None:
    """A manual scale has no platter to lift: the same weight typed for the next box counts."""
    box = BoxWeighing()
    box.start(1, at=0)
    first = ScaleReading(Decimal(600), WeightUnit.G, stable=True, manual=True, at=1)
    assert box.feed(first).newly_accepted
    box.start(2, at=2)
    assert box.feed(first).accepted is None  # the old entry, read again: not this box's
    again = ScaleReading(Decimal(600), WeightUnit.G, stable=True, manual=True, at=3)
    assert box.feed(again).accepted.whole_grams == 600
