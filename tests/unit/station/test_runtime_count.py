"""Count mode in the station runtime: green only after the count is saved, a failed save
records nothing, and the packer moves between returns and count mode between parcels."""

from __future__ import annotations

from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from sync.protocol import MutationType, ReturnLineInfo, ReturnLookup
from tests.support.station_fakes import FakeClaims, FakeLabels, FakeStore, run_now

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
PARCEL = ReturnLookup(
    order_id=77,
    order_number="ORD-100077",
    return_code="RMA-000003",
    lines=[ReturnLineInfo(line_id=5, sku="MUG", name="Mug", shipped=1, returned=0, expected=1)],
)


def bench() -> tuple[StationRuntime, FakeStore, list[str]]:
    store = FakeStore(users={PACKER.badge: PACKER})
    shown: list[str] = []
    runtime = StationRuntime(
        store, FakeClaims(store), FakeLabels(), run_now,
        lambda m: shown.append(f"{m.tone}: {m.message}"), returns_lookup=lambda _c: PARCEL,
    )  # fmt: skip
    return runtime, store, shown


def scan(runtime: StationRuntime, shown: list[str], *codes: str) -> str:
    for code in codes:
        runtime.handle_scan(classify(code.encode()))
    return shown[-1]


def test_a_failed_save_is_red_and_the_bin_stays_open_to_confirm_again() -> None:
    runtime, store, shown = bench()
    scan(runtime, shown, "BADGE-P001", "PB:COUNT", "PB:LOC:MAIN", "MUG-BLU-350", "4006381333931")
    store.fail_next_record = True
    assert scan(runtime, shown, "PB:CLOSE").startswith("red: Could not save (disk full)")
    assert store.recorded == []
    assert scan(runtime, shown, "PB:CLOSE").startswith("green: Count of MAIN saved: 2 unit(s)")
    (event,) = store.recorded
    assert event.type is MutationType.STOCK_COUNTED and event.order_id is None
    assert [(x.sku, x.counted) for x in event.payload.lines] == [("MUG-BLU-350", 2)]  # type: ignore[union-attr]


def test_returns_and_count_mode_switch_between_parcels_and_logout_leaves_both() -> None:
    runtime, _store, shown = bench()
    scan(runtime, shown, "BADGE-P001", "PB:RETURNS")
    assert scan(runtime, shown, "PB:COUNT").startswith("amber: Count mode")
    assert scan(runtime, shown, "PB:LOC:MAIN").startswith("green: Counting MAIN")
    assert scan(runtime, shown, "PB:RETURNS").startswith("red: PB:RETURNS is not a count")
    scan(runtime, shown, "PB:CANCEL")  # drop the bin
    assert scan(runtime, shown, "PB:RETURNS").startswith("amber: Returns mode")
    scan(runtime, shown, "RMA-000003")
    assert scan(runtime, shown, "PB:COUNT").startswith("red: PB:COUNT is not a returns")
    scan(runtime, shown, "PB:CANCEL", "PB:COUNT", "PB:LOGOUT")
    assert not runtime.returns.active and not runtime.counting.active and runtime.user is None
