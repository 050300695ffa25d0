"""Whole orders packed the way a packer would: scan, weigh, label, close."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.packing.errors import IllegalTransition, RestoreError
from app.packing.events import PackEvent
from app.packing.progress import PackState, replay
from app.packing.step import Outcome
from app.scanning.classify import classify
from sync.protocol import MutationType, ParcelClosed, ScanRecorded
from tests.support.text import en

from .factories import (
    MIXED_ORDER,
    MUG_GTIN13,
    MUG_ORDER,
    PHONE_GTIN14,
    TOWEL_GTIN8,
    Station,
    gs1,
    product,
)


def types(station: Station) -> list[str]:
    return [event.type.value for event in station.outbox]


def test_single_line_order_from_open_to_packed() -> None:
    station = Station()
    opened = station.open(MUG_ORDER)
    assert opened.state is PackState.ORDER_OPEN
    assert en(opened.message) == "Order 1001 is open with 3 items; scan the first item."

    first = station.scan_text(MUG_GTIN13)
    assert (first.outcome, first.tone, first.state) == (Outcome.ACCEPTED, "green", "verifying")
    assert en(first.message) == "Scanned 1 of 3 × Blue Mug. Scan the next item."
    assert first.line_id == 11
    station.scan_text("MUG-BLUE")
    last = station.scan_text("bm-01")  # alias, typed with Caps Lock off
    assert last.state is PackState.VERIFIED
    assert "put the box on the scale" in en(last.message)

    weighed = station.weigh(3 * 350 + 250)
    assert weighed.state is PackState.LABELLING and weighed.tone == "green"
    labelled = station.label()
    assert "PB:CLOSE" in en(labelled.message)
    packed = station.close()
    assert packed.state is PackState.PACKED
    assert en(packed.message) == "Order 1001 is packed in 1 box; scan the next order."
    assert types(station) == [
        "scan_recorded",
        "scan_recorded",
        "scan_recorded",
        "weight_recorded",
        "parcel_closed",
        "label_printed",
        "order_packed",
    ]


def test_events_carry_order_lease_epoch_and_packer() -> None:
    station = Station()
    station.open(MUG_ORDER)
    step = station.scan_text(MUG_GTIN13)
    (event,) = step.events
    assert (event.order_id, event.lease_epoch) == (7, 3)
    assert isinstance(event.payload, ScanRecorded)
    assert event.payload.packer_id == 5
    assert event.payload.sku == "MUG-BLUE"
    assert event.payload_json()["outcome"] == "accepted"


def test_multi_item_order_with_serial_from_gs1_ai21() -> None:
    station = Station()
    station.open(MIXED_ORDER)
    station.scan_text(MUG_GTIN13)
    station.scan_text(MUG_GTIN13)
    station.scan_text(TOWEL_GTIN8)
    phone = station.scan(gs1(PHONE_GTIN14, serial="SN-0001", _10="LOT9"))
    assert phone.outcome is Outcome.ACCEPTED
    assert phone.state is PackState.VERIFIED
    assert phone.events[0].payload.serial == "SN-0001"
    closed = station.weigh(700 + 80 + 200 + 250)
    parcel = closed.events[1].payload
    assert isinstance(parcel, ParcelClosed)
    assert [(item.line_id, item.quantity, item.serials) for item in parcel.items] == [
        (11, 2, []),
        (12, 1, []),
        (13, 1, ["SN-0001"]),
    ]
    assert (parcel.box_type, parcel.weight_grams) == ("M", 1230)
    station.label()
    assert station.close().state is PackState.PACKED


def test_lot_and_expiry_from_gs1_barcodes_are_recorded_with_the_scan() -> None:
    station = Station()
    station.open(MIXED_ORDER)
    # Real element strings as a GS1 DataMatrix reads them: AI 17 with day 00 is the month's
    # last day; variable-length AIs are ended by GS.
    mug = station.scan(classify(f"]d201{MUG_GTIN13.zfill(14)}1728020010L-42".encode()))
    phone = station.scan(classify(f"]d201{PHONE_GTIN14}10LOT9\x1d21SN-0001".encode()))
    towel = station.scan_text(TOWEL_GTIN8)  # a plain EAN: nothing to record
    recorded = [
        (p.outcome.value, p.lot, p.expiry, p.serial)
        for p in (mug.events[0].payload, phone.events[0].payload, towel.events[0].payload)
        if isinstance(p, ScanRecorded)
    ]
    assert recorded == [
        ("accepted", "L-42", date(2028, 2, 29), None),
        ("accepted", "LOT9", None, "SN-0001"),
        ("accepted", None, None, None),
    ]
    # On the wire as the service stores it in the order's events.
    assert mug.events[0].payload.model_dump(mode="json")["expiry"] == "2028-02-29"


def test_serial_asked_for_by_follow_up_scan() -> None:
    station = Station()
    station.open(MIXED_ORDER)
    ask = station.scan(product(PHONE_GTIN14))
    assert (ask.outcome, ask.tone) == (Outcome.NEED_SERIAL, "amber")
    assert en(ask.message) == "Scan the serial number of Phone X."
    assert ask.events == ()  # nothing counted until the serial is there
    assert station.session.progress.scanned(13) == 0

    serial = station.scan(product("SN-7781"))
    assert serial.outcome is Outcome.ACCEPTED and serial.tone == "green"
    payload = serial.events[0].payload
    assert isinstance(payload, ScanRecorded)
    assert (payload.code, payload.serial, payload.line_id) == (PHONE_GTIN14, "SN-7781", 13)
    assert station.session.progress.pending_serial is None


def test_order_shipped_in_two_boxes_of_different_types() -> None:
    station = Station()
    station.open(MUG_ORDER)
    station.do(station.session.set_box_type("L"))
    station.scan_text(MUG_GTIN13)
    station.scan_text(MUG_GTIN13)
    sealed = station.do(station.session.new_box("S"))
    assert sealed.state is PackState.WEIGHING
    first = station.weigh(2 * 350 + 400)
    # Items remain: box 2 opens at once and box 1's label waits, so that it can say 1 of 2.
    assert first.state is PackState.VERIFYING
    assert en(first.message) == (
        "Box 1 weighs 1.10 kg (expected 1.10 kg ± 55 g, from the catalogue and the site's "
        "tolerance). Put it aside: its label prints with the last box's. "
        "Scan the remaining items into box 2."
    )
    assert station.session.progress.unlabelled == (station.session.progress.boxes[0],)
    box_two = station.session.progress.box
    assert (box_two.box_no, box_two.box_type, box_two.units) == (2, "S", ())
    with pytest.raises(IllegalTransition, match="Weigh the box"):
        station.label(1)  # not before the last box is weighed

    last = station.scan_text(MUG_GTIN13)
    assert last.state is PackState.VERIFIED
    weighed = station.weigh(350 + 150)
    assert weighed.state is PackState.LABELLING
    assert en(weighed.message) == (
        "Box 2 weighs 500 g (expected 500 g ± 50 g, from the catalogue and the site's "
        "tolerance). Printing the labels of all 2 boxes."
    )
    assert [b.box_no for b in station.session.progress.unlabelled] == [1, 2]
    with pytest.raises(IllegalTransition, match="The label for box 1 is still printing"):
        station.close()
    assert en(station.label(1).message) == (
        "Stick the label on box 1; the label for box 2 comes next."
    )
    assert "then scan PB:CLOSE" in en(station.label(2).message)
    packed = station.close()
    assert packed.events[0].payload.boxes == 2
    parcels = [e.payload for e in station.outbox if e.type is MutationType.PARCEL_CLOSED]
    assert [(p.box_no, p.box_type, p.weight_grams) for p in parcels] == [
        (1, "L", 1100),
        (2, "S", 500),
    ]


def test_replaying_the_outbox_gives_the_same_progress_at_every_recorded_step() -> None:
    station = Station()
    # (action, whether everything it changed is recorded). PB:NEW-BOX only seals the box
    # on screen; a restore after it shows the box open again, which the test below pins.
    actions = [
        (lambda: station.open(MIXED_ORDER), True),
        (lambda: station.scan_text(MUG_GTIN13), True),
        (lambda: station.scan_text("NOT-A-THING"), True),  # red, recorded for audit only
        (lambda: station.do(station.session.new_box()), False),
        (lambda: station.weigh(350 + 250), True),  # box 2 opens; box 1's label waits
        (lambda: station.scan(gs1(PHONE_GTIN14, serial="S1")), True),
        (lambda: station.scan_text(MUG_GTIN13), True),
        (lambda: station.scan_text(TOWEL_GTIN8), True),
        (lambda: station.weigh(5000), True),  # out of tolerance
        (lambda: station.do(station.session.override(99, "scale checked, heavy box")), True),
        (lambda: station.label(1), True),
        (lambda: station.label(2), True),
        (lambda: station.close(), True),
    ]
    for action, recorded in actions:
        action()
        if recorded:
            assert replay(MIXED_ORDER, station.outbox, "M") == station.session.progress


def test_a_box_closed_with_new_box_but_not_weighed_reopens_after_restore() -> None:
    station = Station()
    station.open(MUG_ORDER)
    station.scan_text(MUG_GTIN13)
    station.do(station.session.new_box())
    restored = replay(MUG_ORDER, station.outbox, "M")
    assert restored.state is PackState.VERIFYING
    assert restored.box.units == station.session.progress.box.units


def test_station_reopens_an_order_after_a_restart_from_its_stored_events() -> None:
    station = Station()
    station.open(MIXED_ORDER)
    station.scan_text(MUG_GTIN13)
    station.scan(gs1(PHONE_GTIN14, serial="SN-5"))
    # What the station's event log holds: type, order, JSON payload, lease epoch.
    rows = [(e.type.value, e.order_id, e.payload_json(), e.lease_epoch) for e in station.outbox]

    fresh = Station()
    events = [PackEvent.from_record(*row) for row in rows]
    step = fresh.do(fresh.session.restore(MIXED_ORDER, events))
    assert step.events == ()  # nothing new to record
    assert en(step.message) == (
        "Order 1001 reopened with 2 of 4 items scanned; carry on where you left off."
    )
    assert fresh.session.progress == station.session.progress
    # ... and packing simply carries on, refusing the serial already packed.
    assert fresh.scan(gs1(PHONE_GTIN14, serial="SN-5")).outcome is Outcome.OVER_SCAN
    assert fresh.scan_text(MUG_GTIN13).outcome is Outcome.ACCEPTED


def test_restore_refuses_events_of_another_order() -> None:
    station = Station()
    station.open(MUG_ORDER)
    station.scan_text(MUG_GTIN13)
    with pytest.raises(RestoreError):
        Station().session.restore(replace(MIXED_ORDER, id=8), station.outbox)
