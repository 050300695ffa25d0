"""The packer's flow through the station runtime, with in-memory ports.

These assert what the packer would see (screen, colour, sentence) and what was recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.scanning.classify import classify
from app.station.auth import PinChecker
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.station.screen import Screen, ScreenModel
from app.weighing.reading import ScaleReading, WeightUnit
from sync import pins
from sync.clock import utcnow
from sync.protocol import MutationType, OverrideGranted
from tests.support.pins import checker, sealed_pin
from tests.support.station_fakes import (
    MUG,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    lease,
    order,
    run_now,
)
from tests.support.text import en

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("1234"))


class Harness:
    def __init__(self) -> None:
        self.store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
        self.claims = FakeClaims(self.store)
        self.labels = FakeLabels()
        self.shown: list[ScreenModel] = []
        self.rt = StationRuntime(
            self.store,
            self.claims,
            self.labels,
            run_now,
            self.shown.append,
            pin_checker=checker(),
            auto_complete=False,  # these tests walk the PB:CLOSE path; test_first_day the other
        )

    def scan(self, text: str) -> ScreenModel:
        self.rt.handle_scan(classify(text.encode()))
        return self.rt.model

    def weigh(self, grams: int, stable: bool = True) -> ScreenModel:
        self.rt.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, stable))
        return self.rt.model

    def scan_whole_order(self) -> ScreenModel:
        """Log in as the packer, open order 1 and scan all of it (2 mugs, 1 plate)."""
        self.scan("BADGE-P001")
        self.scan("ORD-100001")
        for code in ("4006381333931", "4006381333931", "PLT-WHT-27"):
            self.scan(code)
        return self.rt.model

    def types(self) -> list[str]:
        return [e.type.value for e in self.store.recorded]


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
    return harness


def test_login_needs_a_known_badge(h: Harness) -> None:
    m = h.scan("BADGE-X999")
    assert (m.screen, m.tone) == (Screen.LOGIN, "red")
    assert "not allowed" in en(m.message)
    m = h.scan("4006381333931")
    assert m.tone == "red" and "badge" in en(m.message).lower()
    m = h.scan("BADGE-P001")
    assert (m.screen, m.tone) == (Screen.BATCHES, "green")


def test_supervisor_needs_the_right_pin(h: Harness) -> None:
    m = h.scan("BADGE-S001")
    assert m.ask_pin_for == "BADGE-S001" and m.screen is Screen.LOGIN
    h.rt.submit_pin("0000")
    assert h.rt.model.tone == "red" and h.rt.user is None
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    assert h.rt.user is SUPERVISOR


def test_full_single_box_flow_records_every_step(h: Harness) -> None:
    h.scan("BADGE-P001")
    m = h.scan("ORD-100001")
    assert m.screen is Screen.PACK and h.claims.calls == [1]
    m = h.scan("4006381333931")  # EAN-13 of the mug
    assert m.tone == "green" and "1 of 2" in en(m.message)
    m = h.scan("4006381333931")
    m = h.scan("PLT-WHT-27")
    assert m.tone == "green"
    assert [r.scanned for r in m.lines] == [2, 1]
    m = h.weigh(1530, stable=False)
    assert h.labels.jobs == []  # a moving scale is never accepted
    m = h.weigh(1530)
    assert h.labels.jobs == [(1, 1, 1530)]
    h.rt.label_done(1, True, "")
    m = h.scan("PB:CLOSE")
    assert m.tone == "green" and "packed" in en(m.message)
    assert h.types() == [
        "scan_recorded",
        "scan_recorded",
        "scan_recorded",
        "weight_recorded",
        "parcel_closed",
        "label_printed",
        "order_packed",
    ]
    assert all(e.lease_epoch == 3 for e in h.store.recorded)


def test_nothing_shows_green_when_the_save_fails(h: Harness) -> None:
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    h.store.fail_next_record = True
    m = h.scan("4006381333931")
    assert m.tone == "red" and "Nothing was counted" in en(m.message)
    assert [r.scanned for r in m.lines] == [0, 0]
    m = h.scan("4006381333931")
    assert m.tone == "green" and [r.scanned for r in m.lines] == [1, 0]


def test_wrong_and_unknown_items_are_red_and_change_nothing(h: Harness) -> None:
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    m = h.scan("4012345678901")  # headphones: a known product, not in this order
    assert m.tone == "red" and "not in this order" in en(m.message)
    m = h.scan("ZZZ-UNKNOWN-1")
    assert m.tone == "red" and "unknown" in en(m.message).lower()
    m = h.scan("4006381333932")  # wrong check digit
    assert m.tone == "red"
    assert [r.scanned for r in m.lines] == [0, 0]


def test_order_held_by_another_station_is_refused(h: Harness) -> None:
    h.claims.refuse[1] = "Order ORD-100001 is being packed at bench-3 since 10:02."
    h.scan("BADGE-P001")
    m = h.scan("ORD-100001")
    assert m.tone == "red" and "bench-3" in en(m.message) and m.screen is Screen.BATCHES
    assert h.store.recorded == []


def test_offline_only_leased_orders_open(h: Harness) -> None:
    h.claims.offline = True
    h.store.orders[2] = order(2, (MUG, 1))
    from dataclasses import replace

    h.store.orders[2] = replace(h.store.orders[2], lease=lease())
    h.scan("BADGE-P001")
    m = h.scan("ORD-100001")
    assert m.tone == "red" and "Offline" in en(m.message)
    m = h.scan("ORD-100002")
    assert m.screen is Screen.PACK and m.tone == "green"
    assert h.claims.calls == [1]  # the leased order needed no claim


def test_cancelled_order_is_refused(h: Harness) -> None:
    h.store.orders[3] = order(3, (MUG, 1), status="cancelled")
    h.scan("BADGE-P001")
    m = h.scan("ORD-100003")
    assert m.tone == "red" and "cancelled" in en(m.message)


def test_out_of_tolerance_weight_blocks_label_until_supervisor_override(h: Harness) -> None:
    h.scan_whole_order()
    m = h.weigh(3000)
    assert m.tone == "amber" and "supervisor" in en(m.message)
    assert h.labels.jobs == []
    h.rt.override("BADGE-P001", "", "looks fine")
    assert h.rt.model.tone == "red" and h.labels.jobs == []  # a packer cannot override
    h.rt.override("BADGE-S001", "9999", "looks fine")
    assert h.rt.model.tone == "red" and h.labels.jobs == []
    h.rt.override("BADGE-S001", "1234", "extra padding for glass")
    assert h.labels.jobs == [(1, 1, 3000)]
    override = [e for e in h.store.recorded if e.type is MutationType.OVERRIDE_GRANTED]
    assert len(override) == 1
    assert override[0].payload.supervisor_id == 9
    assert override[0].payload.reason == "extra padding for glass"


def test_hold_then_next_order(h: Harness) -> None:
    h.store.orders[2] = order(2, (MUG, 1))
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    m = h.scan("PB:HOLD:SHORT_PICK")
    assert m.tone == "amber" and "on hold" in en(m.message)
    m = h.scan("ORD-100002")
    assert m.screen is Screen.PACK and m.header is not None and m.header.number == "ORD-100002"


def test_restart_restores_progress_from_recorded_events(h: Harness) -> None:
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    h.scan("4006381333931")
    again = StationRuntime(
        h.store, h.claims, h.labels, run_now, lambda _m: None, pin_checker=checker()
    )
    again.handle_scan(classify(b"BADGE-P001"))
    again.handle_scan(classify(b"ORD-100001"))
    assert [r.scanned for r in again.model.lines] == [1, 0]
    assert again.model.tone == "amber"


def test_a_label_printed_just_before_a_restart_is_recorded_not_printed_again(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(1530)
    assert h.labels.jobs == [(1, 1, 1530)]  # job 1; the station dies before it is reported
    h.rt = StationRuntime(
        h.store,
        h.claims,
        h.labels,
        run_now,
        h.shown.append,
        pin_checker=checker(),
        auto_complete=False,
    )
    h.labels.job_ids[(1, 1)] = 1  # the print queue still holds it...
    h.labels.ended[1] = (True, "")  # ...and the printer confirmed it
    h.scan("BADGE-P001")
    m = h.scan("ORD-100001")
    assert h.labels.jobs == [(1, 1, 1530)]  # not queued a second time
    assert "PB:CLOSE" in en(m.message)
    assert h.types().count("label_printed") == 1
    assert h.scan("PB:CLOSE").tone == "green"


def test_a_stray_scan_while_the_label_prints_does_not_queue_it_again(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(1530)
    m = h.scan("4006381333931")  # one mug too many, while the label is still printing
    assert m.tone == "red" and "already scanned" in en(m.message)
    h.scan("ZZZ-UNKNOWN")
    assert h.labels.jobs == [(1, 1, 1530)]  # still the one label
    h.rt.label_done(1, True, "")
    assert h.scan("PB:CLOSE").tone == "green"


def test_reweighing_withdraws_the_label_still_waiting_for_the_printer(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(1530)  # job 1 queued; the printer is out of paper
    h.scan("PB:REWEIGH")
    assert h.labels.withdrawn == [1]
    h.weigh(0)
    h.weigh(1540)
    assert h.labels.jobs == [(1, 1, 1530), (1, 1, 1540)]  # the new weight's label
    h.rt.label_done(1, True, "")  # a late report of the withdrawn job changes nothing
    assert "label_printed" not in h.types()
    h.rt.label_done(2, True, "")
    assert h.types().count("label_printed") == 1
    assert h.scan("PB:CLOSE").tone == "green"


def test_reweigh_after_a_restart_takes_the_next_weight(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(1530)
    h.rt = StationRuntime(
        h.store,
        h.claims,
        h.labels,
        run_now,
        h.shown.append,
        pin_checker=checker(),
        auto_complete=False,
    )  # restarted
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    assert en(h.scan("PB:REWEIGH").message) == "Put box 1 on the scale again."
    m = h.weigh(1545)
    assert m.tone == "green" and "1.545 kg" in en(m.message)


def test_logout_refused_with_open_order(h: Harness) -> None:
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    h.scan("4006381333931")
    m = h.scan("PB:LOGOUT")
    assert m.tone == "red" and h.rt.user is PACKER


def test_supervisor_overrides_with_scanner_only(h: Harness) -> None:
    h.rt.override_requires_pin = False
    h.scan_whole_order()
    h.weigh(3000)
    m = h.scan("PB:OVR:PACKAGING")
    assert m.tone == "red" and "badge" in en(m.message)  # a reason without a supervisor: refused
    m = h.scan("BADGE-P001")
    assert m.tone == "red" and "not a supervisor" in en(m.message)
    m = h.scan("BADGE-S001")
    assert m.tone == "amber" and "override reason" in en(m.message)
    m = h.scan("PB:OVR:NO-SUCH-REASON")
    assert m.tone == "red" and h.labels.jobs == []
    h.scan("PB:OVR:PACKAGING")
    assert h.labels.jobs == [(1, 1, 3000)]
    granted = [e for e in h.store.recorded if e.type is MutationType.OVERRIDE_GRANTED]
    assert granted[0].payload.supervisor_id == 9
    assert "packaging" in granted[0].payload.reason.lower()


def test_scanned_override_asks_the_supervisor_pin_when_required(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(3000)
    m = h.scan("BADGE-S001")
    assert m.ask_pin_for == "BADGE-S001"
    h.rt.submit_pin("0000")
    assert h.rt.model.tone == "red"
    h.scan("PB:OVR:PACKAGING")
    assert h.labels.jobs == []  # the wrong PIN let nothing through
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    h.scan("PB:OVR:CHECKED")
    assert h.labels.jobs == [(1, 1, 3000)]
    assert h.rt.user is PACKER  # the packer stays logged in


def test_next_order_never_takes_the_previous_parcels_weight(h: Harness) -> None:
    h.store.orders[2] = order(2, (MUG, 1))
    h.scan_whole_order()
    h.weigh(1550)
    h.rt.label_done(1, True, "")
    h.scan("PB:CLOSE")
    h.scan("ORD-100002")
    h.scan("4006381333931")
    m = h.weigh(1550)  # the first parcel is still on the scale
    assert len(h.labels.jobs) == 1 and m.box is not None and m.box.weight_grams is None
    h.weigh(0)  # lifted off
    h.weigh(600)
    assert h.labels.jobs[-1] == (2, 1, 600)


def test_login_leases_the_batches_so_packing_survives_an_outage(h: Harness) -> None:
    from dataclasses import replace

    from app.station.ports import BatchRow

    h.store.orders[1] = replace(h.store.orders[1], batch_id=5)
    h.store.batch_rows = [BatchRow(5, "B-1", "Morning", 1, 0, 0, None)]
    h.scan("BADGE-P001")
    assert h.claims.batch_calls == [5]
    h.claims.offline = True  # the network goes away after login
    m = h.scan("ORD-100001")
    assert m.screen is Screen.PACK and m.tone == "green"
    assert h.claims.calls == []  # no claim was needed: the batch lease covers the order


def test_login_offline_still_works_and_says_nothing_alarming(h: Harness) -> None:
    from app.station.ports import BatchRow

    h.claims.offline = True
    h.store.batch_rows = [BatchRow(5, "B-1", "Morning", 1, 0, 0, None)]
    m = h.scan("BADGE-P001")
    assert m.tone == "green" and m.screen is Screen.BATCHES


def test_box_waits_for_its_carrier_label_then_prints_after_a_sync(h: Harness) -> None:
    h.scan_whole_order()
    h.labels.awaiting = True
    m = h.weigh(1550)
    assert m.tone == "amber" and "waits for its label" in en(m.message)
    assert h.labels.jobs == []
    h.rt.retry_awaiting_label()  # a sync without the label: still waiting
    assert h.labels.jobs == [] and h.rt.model.tone == "amber"
    h.labels.awaiting = False  # the service's new label arrived with the last pull
    h.rt.retry_awaiting_label()
    assert h.labels.jobs == [(1, 1, 1550)]
    h.rt.label_done(1, True, "")
    assert h.scan("PB:CLOSE").tone == "green"


def test_two_boxes_get_their_labels_together_once_the_last_is_weighed(h: Harness) -> None:
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    h.scan("4006381333931")
    h.scan("4006381333931")
    h.scan("PB:NEW-BOX")
    m = h.weigh(2 * 350 + 250)
    assert m.tone == "green" and "its label prints with the last box's" in en(m.message)
    assert h.labels.jobs == []  # box 1's label would not know the order has two boxes
    h.weigh(0)  # box 1 lifted off; the scale is empty for box 2
    h.scan("PLT-WHT-27")
    h.labels.waiting_boxes = {1}  # box 1's label "1 of 2" is still being made by the service
    m = h.weigh(600 + 250)
    assert m.tone == "amber" and "Box 1 waits for its label" in en(m.message)
    assert h.labels.jobs == [(1, 2, 850)] and h.labels.counts == [2]
    h.rt.label_done(1, True, "")  # box 2's label printed
    h.scan("XYZ-NOT-A-PRODUCT")  # a stray scan while labelling queues nothing twice
    assert h.labels.jobs == [(1, 2, 850)]
    h.labels.waiting_boxes = set()  # it came with the last pull
    h.rt.retry_awaiting_label()
    assert h.labels.jobs == [(1, 2, 850), (1, 1, 950)] and h.labels.counts == [2, 2]
    assert h.rt.model.tone == "green" and "box 1" in en(h.rt.model.message)
    h.rt.label_done(2, True, "")
    m = h.scan("PB:CLOSE")
    assert m.tone == "green" and "packed in 2 boxes" in en(m.message)
    printed = [e.payload.box_no for e in h.store.recorded if e.type is MutationType.LABEL_PRINTED]
    assert printed == [2, 1]


def test_reprint_from_the_scanner_needs_a_supervisor_badge(h: Harness) -> None:
    h.rt.override_requires_pin = False
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    m = h.scan("PB:REPRINT")
    assert m.tone == "red" and "no printed label" in en(m.message)
    for code in ("4006381333931", "4006381333931", "PLT-WHT-27"):
        h.scan(code)
    h.weigh(1550)
    h.rt.label_done(1, True, "")
    m = h.scan("PB:REPRINT")
    assert m.tone == "amber" and "supervisor" in en(m.message)
    m = h.scan("BADGE-P001")
    assert m.tone == "red" and h.labels.reprints == []  # a packer cannot confirm
    h.scan("BADGE-S001")
    assert h.labels.reprints == [(1, 1, 9, "Reprint at the bench, confirmed by Sam Super")]
    h.rt.label_done(2, True, "")
    reprinted = [e for e in h.store.recorded if e.type is MutationType.LABEL_PRINTED]
    assert [e.payload.reprint for e in reprinted] == [False, True]
    assert "Sam Super" in reprinted[1].payload.reason


def test_live_weight_reaches_the_pack_screen_only_when_it_changes(h: Harness) -> None:
    h.weigh(500)  # nobody logged in: no screen shows a weight, nothing re-rendered
    assert h.shown == []
    h.scan("BADGE-P001")
    h.scan("ORD-100001")
    h.scan("4006381333931")
    before = len(h.shown)
    m = h.weigh(480, stable=False)
    assert (m.status.live_grams, m.status.live_stable) == (None, False)
    m = h.weigh(480)
    assert (m.status.live_grams, m.status.live_stable) == (480, True)
    assert len(h.shown) == before + 2  # two changes, two renders
    h.weigh(480)  # the same reading again: no new render
    assert len(h.shown) == before + 2


def test_a_scanned_override_carries_a_proof_of_the_typed_pin(h: Harness) -> None:
    h.scan_whole_order()
    h.weigh(3000)
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    h.scan("PB:OVR:CHECKED")
    [granted] = [e for e in h.store.recorded if e.type is MutationType.OVERRIDE_GRANTED]
    p = granted.payload
    assert isinstance(p, OverrideGranted) and p.proof
    message = pins.override_message(
        station_id=h.store.station_id, order_id=granted.order_id, supervisor_id=p.supervisor_id,
        kind=p.kind, reason=p.reason, details=p.model_dump(mode="json")["details"],
    )  # fmt: skip
    check = SUPERVISOR.pin
    assert check is not None
    params = pins.PinParams(pins.unb64(check.salt), check.time_cost, check.memory_cost,
                            check.parallelism, check.hash_len)  # fmt: skip
    # What the service checks at sync: the right PIN's key matches, any other does not.
    assert pins.override_proven(pins.pin_key("1234", params), message, p.proof)
    assert not pins.override_proven(pins.pin_key("1235", params), message, p.proof)


def test_five_wrong_pins_lock_the_badge_at_this_station(h: Harness) -> None:
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    h.rt.pins = checker(lambda: now[0])
    for _ in range(5):
        h.scan("BADGE-S001")
        h.rt.submit_pin("0000")
    assert "Too many wrong PINs" in en(h.rt.model.message)
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")  # the right PIN, but locked
    assert h.rt.user is None and "Too many wrong PINs" in en(h.rt.model.message)
    now[0] += timedelta(minutes=16)
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    assert h.rt.user is SUPERVISOR


def test_a_station_without_its_key_cannot_check_pins(h: Harness) -> None:
    h.rt.pins = PinChecker(None, utcnow)  # enrolled before keys existed
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    assert h.rt.user is None and "enrol it again" in en(h.rt.model.message)


def test_a_supervisor_login_opens_and_logout_ends_the_service_session(h: Harness) -> None:
    opened: list[tuple[int, str]] = []
    ended: list[int] = []
    h.rt.supervisor_signed_in = lambda user, pin: opened.append((user.id, pin))
    h.rt.supervisor_signed_out = lambda user: ended.append(user.id)
    h.scan("BADGE-S001")
    h.rt.submit_pin("0000")
    assert opened == []  # a wrong PIN never reaches the service
    h.scan("BADGE-S001")
    h.rt.submit_pin("1234")
    assert opened == [(SUPERVISOR.id, "1234")] and h.rt.user is SUPERVISOR
    h.rt.logout()
    assert ended == [SUPERVISOR.id] and h.rt.user is None


def test_identical_parcels_in_a_row_each_weigh_when_the_platter_is_emptied_between(
    h: Harness,
) -> None:
    """The empty platter is seen while the next order is opened and scanned."""
    for n in (2, 3, 4):
        h.store.orders[n] = order(n, (MUG, 1))
    h.scan("BADGE-P001")
    for n in (2, 3, 4):
        h.scan(f"ORD-10000{n}")
        h.weigh(0)  # the platter is empty before the item is even scanned
        h.scan("4006381333931")
        h.weigh(600)
        assert h.labels.jobs[-1] == (n, 1, 600)
        h.rt.label_done(len(h.labels.jobs), True, "")
        h.weigh(600)  # still on while the order is closed ...
        h.scan("PB:CLOSE")
        h.weigh(0)  # ... and lifted off afterwards
    assert len(h.labels.jobs) == 3


def test_a_parcel_never_lifted_is_asked_to_be_lifted_and_put_back(h: Harness) -> None:
    h.store.orders[2] = order(2, (MUG, 1))
    h.store.orders[3] = order(3, (MUG, 1))
    h.scan("BADGE-P001")
    h.scan("ORD-100002")
    h.scan("4006381333931")
    h.weigh(600)
    h.rt.label_done(1, True, "")
    h.scan("PB:CLOSE")
    h.scan("ORD-100003")
    h.scan("4006381333931")
    shown = len(h.shown)
    m = h.weigh(600)  # never lifted (or a scale stuck on one weight)
    assert m.tone == "amber"
    assert en(m.message) == (
        "The scale still shows the previous parcel's weight: lift the parcel off and put it back."
    )
    assert len(h.labels.jobs) == 1
    h.weigh(600)
    h.weigh(600)  # the same sentence is not re-rendered for every reading
    assert len(h.shown) == shown + 1
    h.weigh(0)
    h.weigh(600)
    assert h.labels.jobs[-1] == (3, 1, 600)


@pytest.mark.parametrize("badge", ["BADGE-H2-P1", "H2P1", "0042-ANNA", "badge-p7"])
def test_any_badge_in_the_user_list_logs_in_whatever_its_shape(badge: str) -> None:
    """`user add --badge BADGE-H2-P1` once made a person who could never log in."""
    harness = Harness()
    person = UserRecord(5, "Hana Two", "packer", badge, None)
    harness.store.users[badge] = person
    m = harness.scan(badge)
    assert (m.screen, m.tone) == (Screen.BATCHES, "green")
    assert harness.rt.user is person


def test_a_code_nobody_has_is_still_no_badge(h: Harness) -> None:
    m = h.scan("H2P1")
    assert (m.screen, m.tone) == (Screen.LOGIN, "red")
    assert en(m.message) == "Nobody is logged in. Scan your badge first."


def test_a_typed_in_weight_is_recorded_as_manual_where_allowed() -> None:
    harness = Harness()
    harness.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
    harness.rt.allow_manual_weight = True
    harness.scan_whole_order()
    harness.rt.scale_reading(ScaleReading(Decimal(1530), WeightUnit.G, True, manual=True))
    weights = [e for e in harness.store.recorded if e.type is MutationType.WEIGHT_RECORDED]
    assert len(weights) == 1 and weights[0].payload.manual is True
    assert harness.labels.jobs == [(1, 1, 1530)]


def test_a_parcel_put_on_the_previous_one_is_refused_and_nothing_recorded(h: Harness) -> None:
    h.store.orders[2] = order(2, (MUG, 1))
    h.store.orders[3] = order(3, (MUG, 1))
    h.scan("BADGE-P001")
    h.scan("ORD-100002")
    h.scan("4006381333931")
    h.weigh(600)
    h.rt.label_done(1, True, "")
    h.scan("PB:CLOSE")
    h.scan("ORD-100003")
    h.scan("4006381333931")
    recorded = len(h.store.recorded)
    m = h.weigh(1200)  # the new parcel on top of the old one
    assert m.tone == "amber"
    assert en(m.message) == (
        "The previous parcel may still be on the scale: lift everything off, then put this "
        "parcel on alone."
    )
    assert len(h.store.recorded) == recorded and len(h.labels.jobs) == 1
    h.weigh(0)
    h.weigh(600)
    assert h.labels.jobs[-1] == (3, 1, 600)
