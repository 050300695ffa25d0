"""Returns mode through the station runtime: PB:RETURNS routes scans to the returns core,
events are saved before green, the lookup runs in the background, packing is untouched."""

from __future__ import annotations

import pytest

from app.scanning.classify import classify
from app.station.ports import Offline, UserRecord
from app.station.returns_desk import OFFLINE, LookupRefused
from app.station.runtime import StationRuntime
from app.station.screen import ScreenModel
from sync.protocol import MutationType, ReturnLineInfo, ReturnLookup
from tests.support.station_fakes import MUG, FakeClaims, FakeLabels, FakeStore, order, run_now
from tests.support.text import en

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
PARCEL = ReturnLookup(
    order_id=77,
    order_number="ORD-100077",
    return_code=None,
    lines=[ReturnLineInfo(line_id=5, sku="MUG", name="Mug", shipped=2, returned=0, expected=0)],
)


class Harness:
    def __init__(self) -> None:
        self.store = FakeStore(users={PACKER.badge: PACKER})
        self.store.orders[1] = order(1, (MUG, 1))
        self.lookups: list[str] = []
        self.answer: object = PARCEL
        self.rt = StationRuntime(
            self.store,
            FakeClaims(self.store),
            FakeLabels(),
            run_now,
            lambda _m: None,
            returns_lookup=self.lookup,
        )

    def lookup(self, code: str) -> ReturnLookup:
        self.lookups.append(code)
        if isinstance(self.answer, Exception):
            raise self.answer
        assert isinstance(self.answer, ReturnLookup)
        return self.answer

    def scan(self, text: str) -> ScreenModel:
        self.rt.handle_scan(classify(text.encode()))
        return self.rt.model


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.scan("BADGE-P001")
    return harness


def test_a_return_parcel_is_booked_in_by_scanner_alone(h: Harness) -> None:
    m = h.scan("PB:RETURNS")
    assert m.tone == "amber" and en(m.message).startswith("Returns mode")
    m = h.scan("JJD0099887766")
    assert h.lookups == ["JJD0099887766"]
    assert (m.tone, en(m.message)) == (
        "green",
        "Return of order ORD-100077 (not announced): scan each unit.",
    )
    h.scan("MUG")
    m = h.scan("PB:RESTOCK")
    assert m.tone == "green"
    h.scan("MUG")
    h.scan("PB:WRITEOFF:DAMAGED")
    m = h.scan("PB:CLOSE")
    assert en(m.message) == (
        "Return of order ORD-100077 closed: 1 restocked, 1 written off. Scan the next parcel."
    )
    types = [e.type for e in h.store.recorded]
    assert types == [MutationType.RETURN_UNIT_RECEIVED] * 2 + [MutationType.RETURN_CLOSED]
    assert all(e.order_id == 77 and e.lease_epoch is None for e in h.store.recorded)
    # PB:CANCEL leaves returns mode: an order barcode opens the order for packing again.
    h.scan("PB:CANCEL")
    m = h.scan("ORD-100001")
    assert m.tone == "green" and "ORD-100001" in en(m.message)


def test_refusals_and_an_outage_at_the_lookup_record_nothing(h: Harness) -> None:
    h.scan("PB:RETURNS")
    m = h.scan("PB:BGRADE")
    assert (m.tone, en(m.message)) == (
        "red",
        "Scan a unit before its disposition; nothing was recorded.",
    )
    h.answer = LookupRefused("There is no return RMA-424242.")
    m = h.scan("RMA-424242")
    assert (m.tone, en(m.message)) == ("red", "There is no return RMA-424242.")
    h.answer = Offline("connection refused")
    m = h.scan("ORD-100077")
    assert (m.tone, en(m.message)) == ("red", OFFLINE)
    h.answer = PARCEL
    h.scan("ORD-100077")
    m = h.scan("PLATE")
    assert m.tone == "red" and "is not in order ORD-100077" in en(m.message)
    assert h.store.recorded == []


def test_a_failed_save_is_red_and_the_unit_is_not_counted(h: Harness) -> None:
    h.scan("PB:RETURNS")
    h.scan("ORD-100077")
    h.scan("MUG")
    h.store.fail_next_record = True
    m = h.scan("PB:RESTOCK")
    assert m.tone == "red" and "Nothing was recorded" in en(m.message)
    m = h.scan("PB:RESTOCK")  # still waiting for the unit's disposition
    assert m.tone == "green" and len(h.store.recorded) == 1


def test_logout_from_returns_mode(h: Harness) -> None:
    h.scan("PB:RETURNS")
    h.scan("PB:LOGOUT")
    assert h.rt.user is None and not h.rt.returns.active


def test_a_unit_still_queued_here_counts_when_the_parcel_is_looked_up_again(h: Harness) -> None:
    """Booked, then the station restarts before the outbox is pushed: the service's count
    misses the unit, this station's queue has it, so the unit is not taken a second time."""
    h.scan("PB:RETURNS")
    h.scan("JJD0099887766")
    h.scan("MUG")
    assert h.scan("PB:RESTOCK").tone == "green"  # mutation 1, not yet at the service
    h.scan("PB:CANCEL")
    one_shipped = PARCEL.model_copy(
        update={"lines": [PARCEL.lines[0].model_copy(update={"shipped": 1})]}
    )
    h.answer = one_shipped.model_copy(update={"applied_through": 0})
    h.scan("JJD0099887766")
    m = h.scan("MUG")
    assert m.tone == "red" and "all of them are back already" in en(m.message)
    # Once the service has applied it (and counts it), it is not counted twice either.
    h.scan("PB:CANCEL")
    served = one_shipped.model_copy(
        update={
            "applied_through": 1,
            "lines": [one_shipped.lines[0].model_copy(update={"returned": 1})],
        }
    )
    h.answer = served
    h.scan("JJD0099887766")
    assert "all of them are back already" in en(h.scan("MUG").message)
    # A service that does not say what it applied: its own count, as before.
    h.scan("PB:CANCEL")
    h.answer = one_shipped
    h.scan("JJD0099887766")
    assert h.scan("MUG").tone == "amber"
    assert len(h.store.recorded) == 1
