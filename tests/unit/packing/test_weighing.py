"""Weighing the box: expected weight, out-of-tolerance, reweigh and supervisor override."""

from __future__ import annotations

import pytest

from app.packing.errors import IllegalTransition, UnknownBoxType
from app.packing.model import DEFAULT_BOX_WEIGHTS, LineView
from app.packing.progress import PackState
from app.packing.session import PackSession
from app.packing.step import Outcome
from app.packing.weight_rules import LearnedWeight
from sync.contents import contents_key
from sync.protocol import OverrideGranted, ParcelClosed, WeightRecorded
from tests.support.text import en

from .factories import MUG_GTIN13, MUG_ORDER, Station, catalog, order


def verified_mugs(box: str | None = None) -> Station:
    station = Station()
    station.open(MUG_ORDER)
    if box:
        station.do(station.session.set_box_type(box))
    for _ in range(3):
        station.scan_text(MUG_GTIN13)
    return station


@pytest.mark.parametrize(("box", "grams"), list(DEFAULT_BOX_WEIGHTS.items()))
def test_expected_weight_is_products_plus_the_chosen_box(box: str, grams: int) -> None:
    station = verified_mugs(box)
    assert station.session.expected_grams() == 3 * 350 + grams


def test_a_product_without_weight_means_no_expected_weight_and_any_reading_passes() -> None:
    station = Station()
    station.open(order(LineView(11, "X", "Loose", 1)))
    station.scan_text("X")
    assert station.session.expected_grams() is None
    assert station.weigh(999).outcome is Outcome.WEIGHT_ACCEPTED


def test_out_of_tolerance_is_recorded_and_waits_for_reweigh_or_override() -> None:
    station = verified_mugs()
    off = station.weigh(2000)
    assert (off.outcome, off.tone, off.state) == (
        Outcome.WEIGHT_OUT_OF_TOLERANCE,
        "amber",
        PackState.WEIGHING,
    )
    assert "2.00 kg is too heavy" in en(off.message) and "supervisor" in en(off.message)
    (recorded,) = off.events
    assert isinstance(recorded.payload, WeightRecorded)
    assert (recorded.payload.within, recorded.payload.expected_grams) == (False, 1300)
    assert recorded.payload.tolerance_grams and recorded.payload.rule

    again = station.weigh(1310)
    assert (again.outcome, again.state) == (Outcome.WEIGHT_ACCEPTED, PackState.LABELLING)


def test_supervisor_override_accepts_the_rejected_reading() -> None:
    station = verified_mugs()
    station.weigh(2000)
    step = station.do(station.session.override(42, "gift wrap adds weight"))
    granted, closed = step.events
    assert isinstance(granted.payload, OverrideGranted)
    assert granted.payload.supervisor_id == 42
    assert granted.payload.details["grams"] == 2000
    assert closed.payload.weight_grams == 2000
    assert station.session.state is PackState.LABELLING


def test_zero_or_negative_reading_is_refused_without_recording() -> None:
    station = verified_mugs()
    before = station.session.progress
    step = station.weigh(0)
    assert (step.outcome, step.tone, step.events) == (Outcome.WEIGHT_INVALID, "red", ())
    assert station.session.progress is before


def test_weighing_with_items_missing_tells_the_packer_to_scan_or_start_a_new_box() -> None:
    station = Station()
    station.open(MUG_ORDER)
    station.scan_text(MUG_GTIN13)
    with pytest.raises(IllegalTransition, match="PB:NEW-BOX"):
        station.session.weight(600)


def test_manual_weight_is_marked_manual() -> None:
    station = verified_mugs()
    step = station.do(station.session.weight(1300, manual=True))
    assert step.events[0].payload.manual is True
    closed = step.events[1].payload
    assert isinstance(closed, ParcelClosed)
    # what the service needs to learn: typed in, not overridden, the M box weighs 250 g
    assert (closed.manual, closed.overridden, closed.box_grams) == (True, False, 250)


def test_the_parcel_says_how_its_weight_was_taken() -> None:
    scale = verified_mugs("S").weigh(1200).events[1].payload
    assert isinstance(scale, ParcelClosed)
    assert (scale.manual, scale.overridden, scale.box_grams) == (False, False, 150)
    station = verified_mugs()
    station.do(station.session.weight(2000, manual=True))  # typed in, and off
    step = station.do(station.session.override(42, "gift wrap adds weight"))
    overridden = step.events[1].payload
    assert isinstance(overridden, ParcelClosed)
    assert (overridden.manual, overridden.overridden) == (True, True)


def test_the_learned_weight_of_the_same_contents_decides() -> None:
    learned = LearnedWeight(7, 1500.0, 10.0)
    seen: list[str] = []

    def profiles(key: str) -> LearnedWeight | None:
        seen.append(key)
        return learned if key == contents_key([("mug-blue ", 3)], "m") else None

    station = Station(session=PackSession(catalog(), weight_profiles=profiles))
    station.open(MUG_ORDER)
    for _ in range(3):
        station.scan_text(MUG_GTIN13)
    off = station.weigh(1300)  # the catalogue's 1300 g is not what these parcels weigh
    assert off.outcome is Outcome.WEIGHT_OUT_OF_TOLERANCE
    assert "1.50 kg ± 75 g, learned from 7 parcels" in en(off.message)
    ok = station.weigh(1550)
    assert ok.outcome is Outcome.WEIGHT_ACCEPTED
    assert seen and set(seen) == {contents_key([("mug-blue ", 3)], "m")}


def test_box_catalogue_is_configurable_and_unknown_types_are_refused() -> None:
    session = PackSession(catalog(), box_weights={"tube": 90}, default_box_type="TUBE")
    session.apply(session.open_order(MUG_ORDER))
    with pytest.raises(UnknownBoxType, match="TUBE"):
        session.set_box_type("M")
    assert session.progress.box.box_type == "TUBE"


def test_content_signature_keys_the_weight_history() -> None:
    station = verified_mugs("S")
    assert station.session.content_signature() == "box=S|MUG-BLUE*3"
