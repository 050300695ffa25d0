"""What the packer sees for every kind of scan while an order is open (and when none is)."""

from __future__ import annotations

import pytest

from app.packing.progress import PackState
from app.packing.step import Outcome
from app.scanning.scan import ScanKind
from sync.protocol import ScanOutcome, ScanRecorded
from tests.support.text import en

from .factories import (
    MIXED_ORDER,
    MUG,
    MUG_GTIN13,
    MUG_ORDER,
    PHONE,
    PHONE_GTIN14,
    SPARE_GTIN13,
    TOWEL_GTIN8,
    Station,
    gs1,
    kind,
    line,
    order,
    product,
)


def opened(the_order=MIXED_ORDER) -> Station:
    station = Station()
    station.open(the_order)
    return station


def recorded_outcome(step) -> ScanOutcome | None:
    if not step.events:
        return None
    payload = step.events[0].payload
    assert isinstance(payload, ScanRecorded)
    return payload.outcome


@pytest.mark.parametrize(
    ("scan", "outcome", "message"),
    [
        (
            product(SPARE_GTIN13),
            Outcome.NOT_IN_ORDER,
            "That item is not in this order. Put it aside and scan an item from the list.",
        ),
        (
            product("SP9"),
            Outcome.NOT_IN_ORDER,
            "That item is not in this order. Put it aside and scan an item from the list.",
        ),
        (
            product("ZZ-NOBODY"),
            Outcome.UNKNOWN_CODE,
            "This code is unknown. Check the label or ask a supervisor.",
        ),
        (
            kind("XK#1", ScanKind.UNKNOWN),
            Outcome.UNKNOWN_CODE,
            "This code is unknown. Check the label or ask a supervisor.",
        ),
        (
            kind("4006381333932", ScanKind.INVALID, "Wrong check digit."),
            Outcome.INVALID,
            "Wrong check digit. Scan it again.",
        ),
        (
            gs1(None, serial="S1"),
            Outcome.UNKNOWN_CODE,
            "This barcode has no product number. Scan the item's product barcode.",
        ),
    ],
)
def test_refused_item_scans_are_red_recorded_and_change_nothing(scan, outcome, message) -> None:
    station = opened()
    before = station.session.progress
    step = station.scan(scan)
    assert (step.outcome, step.tone, en(step.message)) == (outcome, "red", message)
    assert step.progress is before
    assert recorded_outcome(step) == ScanOutcome(outcome.value)


def test_over_scan_is_its_own_outcome_naming_the_item() -> None:
    station = opened(MUG_ORDER)
    for _ in range(3):
        station.scan_text(MUG_GTIN13)
    before = station.session.progress
    step = station.scan_text(MUG_GTIN13)
    assert (step.outcome, step.tone, step.line_id) == (Outcome.OVER_SCAN, "red", 11)
    assert en(step.message) == (
        "All 3 × Blue Mug are already scanned. Take this one out and scan the next item."
    )
    assert recorded_outcome(step) is ScanOutcome.OVER_SCAN
    assert station.session.progress is before


def test_same_serial_twice_in_one_order_is_a_red_duplicate() -> None:
    two_phones = order(line(13, PHONE, 2))
    station = opened(two_phones)
    station.scan(gs1(PHONE_GTIN14, serial="SN-0001"))
    before = station.session.progress
    step = station.scan(gs1(PHONE_GTIN14, serial="SN-0001"))
    assert (step.outcome, step.tone) == (Outcome.DUPLICATE, "red")
    assert "SN-0001" in en(step.message)
    assert recorded_outcome(step) is ScanOutcome.DUPLICATE
    assert station.session.progress is before
    # ... and the same serial typed in after a follow-up prompt is refused too
    station.scan(product(PHONE_GTIN14))
    again = station.scan(product("SN-0001"))
    assert again.outcome is Outcome.DUPLICATE
    assert station.session.progress.pending_serial is not None  # still waiting for a serial
    assert station.scan(product("SN-0002")).state is PackState.VERIFIED


@pytest.mark.parametrize(
    ("scan", "why"),
    [
        # the product code again: the commonest slip
        (product(PHONE_GTIN14), f"{PHONE_GTIN14} is the product code of Phone X, not a serial"),
        (product(TOWEL_GTIN8), f"{TOWEL_GTIN8} is the product code of Tea Towel, not a serial"),
        (kind("1Z999AA10123456784", ScanKind.TRACKING), "That is a tracking number, not a"),
        (kind("bad\x07", ScanKind.UNKNOWN), "That is not a serial number."),
        (gs1(PHONE_GTIN14), "That is not a serial number."),  # GS1 without AI 21
        # serial of a different product
        (gs1(MUG_GTIN13.zfill(14), serial="S9"), "That is not a serial number."),
    ],
)
def test_what_is_not_a_serial_is_refused_while_one_is_asked_for(scan, why: str) -> None:
    station = opened()
    station.scan(product(PHONE_GTIN14))
    before = station.session.progress
    step = station.scan(scan)
    assert (step.outcome, step.tone) == (Outcome.NOT_A_SERIAL, "red")
    assert en(step.message).startswith(why)
    assert en(step.message).endswith("Scan the serial number of Phone X.")
    assert station.session.progress is before


def test_a_gs1_label_with_the_serial_answers_the_serial_prompt() -> None:
    station = opened()
    station.scan(product(PHONE_GTIN14))
    step = station.scan(gs1(PHONE_GTIN14, serial="SN-42"))
    assert step.outcome is Outcome.ACCEPTED
    assert station.session.progress.serials() == {"SN-42"}


def test_cancel_drops_the_item_waiting_for_a_serial() -> None:
    station = opened()
    station.scan(product(PHONE_GTIN14))
    step = station.scan(kind("PB:CANCEL", ScanKind.COMMAND))
    assert (step.outcome, step.tone) == (Outcome.CANCELLED, "amber")
    assert station.session.progress.pending_serial is None
    assert station.session.progress.scanned(13) == 0


def test_serial_override_counts_the_item_without_a_serial() -> None:
    station = opened()
    station.scan(product(PHONE_GTIN14))
    step = station.do(station.session.override(99, "label torn off", "serial"))
    assert [e.type.value for e in step.events] == ["override_granted", "scan_recorded"]
    assert station.session.progress.scanned(13) == 1


def test_item_scanned_into_a_closed_box_is_refused_until_it_is_labelled() -> None:
    station = opened(MUG_ORDER)
    station.scan_text(MUG_GTIN13)
    station.do(station.session.new_box())
    step = station.scan_text(MUG_GTIN13)
    assert (step.outcome, step.tone, step.events) == (Outcome.BOX_CLOSED, "red", ())
    assert "Weigh and label it first" in en(step.message)


def test_a_shipping_label_is_not_an_item() -> None:
    station = opened()
    step = station.scan(kind("00012345600012345678", ScanKind.SSCC))
    assert (step.outcome, step.tone) == (Outcome.NOT_A_PRODUCT, "red")


def test_catalogue_knows_an_alias_the_cached_line_does_not() -> None:
    station = opened(order(line(11, MUG, 1, with_codes=False)))
    assert station.scan_text("BM-01").outcome is Outcome.ACCEPTED


def test_two_lines_of_the_same_product_fill_in_order() -> None:
    station = opened(order(line(11, MUG, 1), line(12, MUG, 1)))
    assert station.scan_text(MUG_GTIN13).line_id == 11
    assert station.scan_text(MUG_GTIN13).line_id == 12
    assert station.scan_text(MUG_GTIN13).outcome is Outcome.OVER_SCAN


# ---------------------------------------------------------------- routing scans


@pytest.mark.parametrize(
    ("scan", "outcome"),
    [
        (kind("ORD-2002", ScanKind.ORDER), Outcome.SWITCH_ORDER),
        (kind("T-B02", ScanKind.TOTE), Outcome.SWITCH_ORDER),
        (kind("ORD-1001", ScanKind.ORDER), Outcome.ALREADY_OPEN),
        (kind("T-A17", ScanKind.TOTE), Outcome.ALREADY_OPEN),
        (kind("BADGE-P001", ScanKind.BADGE), Outcome.BADGE),
    ],
)
def test_order_tote_and_badge_scans_never_switch_the_open_order(scan, outcome) -> None:
    station = opened()
    station.scan_text(MUG_GTIN13)
    before = station.session.progress
    step = station.scan(scan)
    assert (step.outcome, step.tone, step.events) == (outcome, "amber", ())
    assert station.session.progress is before
    if outcome is Outcome.SWITCH_ORDER:
        assert en(step.message).endswith("is not finished yet; finish it or hold it (F2) first.")


def test_with_no_order_open_scans_tell_the_station_what_to_do() -> None:
    station = Station()
    assert station.scan(kind("ORD-1001", ScanKind.ORDER)).outcome is Outcome.OPEN_ORDER
    assert station.scan(product(MUG_GTIN13)).outcome is Outcome.NO_ORDER
    assert station.scan(kind("BADGE-P001", ScanKind.BADGE)).outcome is Outcome.BADGE
    assert station.outbox == []
