"""Returns mode in the real station window: the packer sees each answer on the banner and
hears accept and reject, by scanner alone."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.views.main_window import StationWindow
from sync.protocol import MutationType, ReturnLineInfo, ReturnLookup
from tests.support.pseudo import plain
from tests.support.station_fakes import FakeClaims, FakeLabels, FakeStore, run_now

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
PARCEL = ReturnLookup(
    order_id=77,
    order_number="ORD-100077",
    return_code="RMA-000003",
    lines=[ReturnLineInfo(line_id=5, sku="MUG", name="Mug", shipped=1, returned=0, expected=1)],
)


def test_a_return_booked_in_through_the_window(qtbot: QtBot) -> None:
    store = FakeStore(users={PACKER.badge: PACKER})
    runtime = StationRuntime(
        store, FakeClaims(store), FakeLabels(), run_now, lambda _m: None,
        returns_lookup=lambda _code: PARCEL,
    )  # fmt: skip
    sounds: list[str] = []
    window = StationWindow(runtime, "bench-7", store.batches, sounds=sounds.append)
    qtbot.addWidget(window)

    def scan(text: str) -> tuple[str, str]:
        window.on_scan(classify(text.encode()))
        banner = window.stack.currentWidget().banner  # type: ignore[attr-defined]
        return banner.tone, plain(banner.text())

    scan("BADGE-P001")
    assert scan("PB:RETURNS")[0] == "amber"
    assert scan("RMA-000003") == (
        "green",
        "✔  Return of order ORD-100077 (RMA-000003): scan each unit.",
    )
    assert scan("PB:WRITEOFF")[0] == "red"  # a disposition before any unit
    scan("MUG")
    assert scan("PB:RESTOCK")[0] == "green"
    tone, text = scan("PB:CLOSE")
    assert tone == "green" and "closed: 1 restocked" in text
    assert [e.type for e in store.recorded] == [
        MutationType.RETURN_UNIT_RECEIVED,
        MutationType.RETURN_CLOSED,
    ]
    assert "red" in sounds and sounds[-1] == "green"  # the refusal and the close were heard
