"""Supervisor figures from a scripted shift with known answers (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.supervisor.figures import overview, projected_finish, raw_units
from tests.unit.supervisor.shift import NOW, SHIFT_START, build


def test_raw_units_make_a_one_item_order_exactly_one() -> None:
    assert raw_units(lines=1, items=1) == 1.0
    assert raw_units(lines=3, items=5) == 0.5 + 1.5 + 0.5
    assert raw_units(lines=1, items=4) == 1.75


def test_projected_finish_uses_the_15_minute_rate_then_the_hour() -> None:
    cutoff = NOW + timedelta(hours=1)
    assert projected_finish(6, 8.0, 4.0, cutoff, NOW) == (NOW + timedelta(minutes=45), False)
    assert projected_finish(6, 0.0, 4.0, cutoff, NOW) == (NOW + timedelta(minutes=90), True)
    assert projected_finish(6, 0.0, 0.0, cutoff, NOW) == (None, True)
    assert projected_finish(6, 0.0, 0.0, None, NOW) == (None, False)
    tomorrow = NOW + timedelta(hours=20)  # issue 17: not red just because nobody started it
    assert projected_finish(6, 0.0, 0.0, tomorrow, NOW) == (None, False)
    assert projected_finish(0, 0.0, 0.0, cutoff, NOW) == (None, False)
    late = NOW - timedelta(minutes=1)
    assert projected_finish(1, 600.0, 0.0, late, NOW)[1] is True


@pytest.fixture
def figures(sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    with sessions() as s, s.begin():
        shift = build(s)
    with sessions() as s:
        return shift, overview(s, NOW, SHIFT_START)


def test_batches_progress_rates_and_projection(figures) -> None:  # type: ignore[no-untyped-def]
    _shift, ov = figures
    a, b = ov.batches  # earlier cut-off first
    assert (b.code, a.code) == ("B-A", "B-B")
    a, b = b, a
    assert (a.total, a.packed, a.held, a.remaining) == (10, 4, 1, 6)
    assert (a.rate_15m, a.rate_60m) == (8.0, 4.0)
    assert a.projected_finish == NOW + timedelta(minutes=45)
    assert a.will_miss_cutoff is False
    assert a.station_name == "bench-1"
    assert (b.total, b.packed, b.held, b.remaining) == (6, 1, 0, 5)  # cancelled left out
    assert (b.rate_15m, b.rate_60m) == (0.0, 1.0)
    assert b.projected_finish == NOW + timedelta(hours=5)
    assert b.will_miss_cutoff is True


def test_packers_complexity_accuracy_and_time_per_order(figures) -> None:  # type: ignore[no-untyped-def]
    _shift, ov = figures
    # 4 one-item orders (1.0 raw) and one 3-line/5-item order (2.5 raw): mean 1.3.
    assert ov.complexity_mean_units == 1.3
    packers = {p.name: p for p in ov.packers}
    alice, bob = packers["Alice"], packers["Bob"]
    assert (alice.orders, alice.items, alice.lines) == (4, 4, 4)
    assert alice.active_hours == 0.8  # 11:07 first scan .. 11:55 last pack
    assert alice.orders_per_hour == 5.0 and alice.items_per_hour == 5.0
    assert alice.adjusted_per_hour == round(4 / 1.3 / 0.8, 2)  # 3.85
    assert (alice.scans, alice.rejected_scans, alice.accuracy) == (5, 1, 0.8)
    assert alice.avg_seconds_per_order == 135.0  # (180 + 3 * 120) / 4
    assert alice.overrides == 1
    assert (bob.orders, bob.items, bob.lines) == (1, 5, 3)
    assert bob.active_hours == 0.25  # 10 minutes of work counts as the 15-minute minimum
    assert bob.orders_per_hour == 4.0 and bob.items_per_hour == 20.0
    assert bob.adjusted_per_hour == round(2.5 / 1.3 / 0.25, 2)  # 7.69: fewer, bigger orders
    assert (bob.accuracy, bob.avg_seconds_per_order, bob.overrides) == (1.0, 600.0, 0)
    assert ov.packers[0].name == "Bob"  # sorted by adjusted rate


def test_stations_throughput_and_heartbeat_health(figures) -> None:  # type: ignore[no-untyped-def]
    _shift, ov = figures
    stations = {st.name: st for st in ov.stations}
    one, two = stations["bench-1"], stations["bench-2"]
    assert (one.orders, one.orders_per_hour, one.accuracy, one.overrides) == (4, 5.0, 0.8, 1)
    assert (one.online, one.queue_depth, one.printer, one.scale) == (True, 3, "ready", "stable")
    assert (two.orders, two.items_per_hour) == (1, 20.0)
    assert (two.online, two.queue_depth, two.printer, two.scale) == (
        False,
        12,
        "paper out",
        "unknown",
    )
    assert one.last_sync_at == NOW - timedelta(minutes=1)


def test_throughput_in_15_minute_slots(figures) -> None:  # type: ignore[no-untyped-def]
    _shift, ov = figures
    assert len(ov.throughput) == 17
    assert ov.throughput[0].start == SHIFT_START
    counts = {i: p.orders for i, p in enumerate(ov.throughput) if p.orders}
    assert counts == {12: 1, 13: 1, 14: 1, 15: 2}


def test_exceptions_list_holds_overrides_and_unresolved_rejections(figures) -> None:  # type: ignore[no-untyped-def]
    shift, ov = figures
    got = [(e.source, e.kind, e.code, e.open) for e in ov.exceptions]
    assert got == [
        ("exception", "hold", "damaged_item", True),
        ("exception", "weight", "weight_override", False),
        ("exception", "stuck", "paid_not_packed", True),
        ("rejected_mutation", "rejected", "claimed_by_other", True),
    ]
    assert ov.exceptions[2].order_id == shift.stuck_order
    hold = ov.exceptions[0]
    assert hold.order_id == shift.held_order and hold.order_status == "on_hold"
    assert hold.station_name == "bench-1"
    assert ov.exceptions[3].id == f"mut:{shift.stations['bench-2']}:7"
    assert ov.exceptions[3].station_name == "bench-2"


def test_closed_slots_are_aggregated_once_and_the_open_tail_every_time(
    sessions: sessionmaker[Session],
) -> None:
    from service.models import OrderEvent
    from service.supervisor import slots

    with sessions() as s, s.begin():
        shift = build(s)
    with sessions() as s:
        before = overview(s, NOW, SHIFT_START)
    alice, bench1 = shift.users["alice"], shift.stations["bench-1"]
    order_id = shift.orders["A"][6]
    with sessions() as s, s.begin():
        for minutes in (90, 1):  # one in a closed slot, one in the open tail
            s.add(
                OrderEvent(
                    order_id=order_id,
                    type="scan_recorded",
                    payload={"outcome": "accepted", "packer_id": alice},
                    actor="station",
                    station_id=bench1,
                    at=NOW - timedelta(minutes=minutes),
                )
            )
    with sessions() as s:
        after = overview(s, NOW, SHIFT_START)
    scans = {p.name: p.scans for p in after.packers}
    assert scans["Alice"] == {p.name: p.scans for p in before.packers}["Alice"] + 1
    slots.forget()  # a back-dated write: the cache must be dropped to see it
    with sessions() as s:
        again = overview(s, NOW, SHIFT_START)
    assert {p.name: p.scans for p in again.packers}["Alice"] == scans["Alice"] + 1


def test_a_batch_without_orders_shows_zeros_and_no_projection(
    sessions: sessionmaker[Session],
) -> None:
    from service.models import Batch

    with sessions() as s, s.begin():
        build(s)
        s.add(Batch(code="B-EMPTY", name="empty", status="open", cutoff_at=NOW))
    with sessions() as s:
        ov = overview(s, NOW, SHIFT_START)
    empty = next(b for b in ov.batches if b.code == "B-EMPTY")
    assert (empty.total, empty.packed, empty.held, empty.remaining) == (0, 0, 0, 0)
    assert (empty.rate_15m, empty.rate_60m, empty.station_name) == (0.0, 0.0, None)
    assert (empty.projected_finish, empty.will_miss_cutoff) == (None, False)
    assert ov.batches[0].code == "B-EMPTY"  # the earliest cut-off comes first


def test_closed_slots_older_than_a_day_leave_the_cache(sessions: sessionmaker[Session]) -> None:
    from service.supervisor import slots

    with sessions() as s, s.begin():
        build(s)
    later = NOW + timedelta(hours=30)
    with sessions() as s:
        overview(s, NOW, SHIFT_START)
        engine = s.get_bind()
        assert min(slots._cache[engine]) == SHIFT_START
        moved = overview(s, later, later - timedelta(hours=8))
    kept = slots._cache[engine]
    assert min(kept) >= later - slots.KEEP - slots.SLOT
    assert moved.packers == []  # nothing happened in the later window
