"""The station's replica/client/engine against the real service process, through faults."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.changes import number_changes
from service.models import Lease, Order, OrderEvent, StationMutation
from service.sync_server.pull import prune_changes
from sync.errors import ClaimRefusedError
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import ServiceProcess, make_orders, station_mutations
from tests.support.fault_proxy import FaultProxy


def wait_for(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def scans(order_id: int, epoch: int, n: int) -> list[tuple]:
    return [("scan_recorded", order_id, epoch, {"code": "SKU0", "outcome": "accepted"})] * n


def scan_events(engine: Engine, order_id: int) -> int:
    with Session(engine) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .where(OrderEvent.order_id == order_id, OrderEvent.type == "scan_recorded")
            )
            or 0
        )


def claimed(st: Station, sessions: sessionmaker[Session], count: int = 1) -> list[tuple[int, int]]:
    """(order id, epoch) of `count` new orders claimed by the station."""
    out = []
    for oid in make_orders(sessions, count):
        out.append((oid, st.engine.claim_order(oid).leases[0].epoch))
    return out


def test_one_upload_failure_then_no_new_scans_still_drains(
    make_station, sessions, service_engine: Engine, proxy: FaultProxy
) -> None:
    st = make_station("A")
    [(oid, epoch)] = claimed(st, sessions)
    assert st.engine.run_once()
    proxy.fail_next("http_503", 1)
    st.replica.record(scans(oid, epoch, 3))  # the wake-up push fails...
    st.engine.start()
    # ...and nothing else is recorded: only the engine's timer can drain the queue.
    wait_for(lambda: st.replica.queue_depth() == 0)
    assert proxy.faults_injected >= 1
    assert scan_events(service_engine, oid) == 3


def test_response_dropped_after_commit_is_applied_once(
    make_station, sessions, service_engine: Engine, proxy: FaultProxy
) -> None:
    st = make_station("A")
    [(oid, epoch)] = claimed(st, sessions)
    assert st.engine.run_once()
    ids = st.replica.record(scans(oid, epoch, 20))
    proxy.fail_next("drop_response", 1)
    assert not st.engine.run_once()  # the push committed, the answer never came
    assert st.replica.queue_depth() == 20
    assert st.engine.run_once()  # retried: the service answers from its stored results
    assert st.replica.queue_depth() == 0
    assert scan_events(service_engine, oid) == 20
    assert set(station_mutations(service_engine, st.id)) == set(ids)
    assert {e.status for e in st.replica.local_events(oid)} == {"applied"}


def test_expired_cursor_fetches_a_snapshot(
    make_station, sessions: sessionmaker[Session], proxy: FaultProxy, caplog
) -> None:
    st = make_station("A")
    held = claimed(st, sessions, 3)
    assert st.engine.run_once()
    assert st.replica.order_count() == 3
    cursor = st.replica.pull_cursor()
    more = claimed(st, sessions, 2)
    with sessions() as s:
        number_changes(s)  # as any station's next pull would
        with s.begin():
            # Prune everything: the station's cursor now points before the oldest kept change.
            assert prune_changes(s, cursor + 10_000) > 0
    assert st.engine.run_once()
    assert st.replica.order_count() == 5
    assert all(st.replica.order_by_id(o) is not None for o, _ in held + more)
    assert st.replica.pull_cursor() >= cursor
    assert "expired" in caplog.text


def test_wiped_result_table_never_applies_twice(
    make_station, sessions, service_engine: Engine, proxy: FaultProxy
) -> None:
    st = make_station("A")
    [(oid, epoch)] = claimed(st, sessions)
    assert st.engine.run_once()
    st.replica.record(scans(oid, epoch, 5))
    proxy.fail_next("drop_response", 1)
    assert not st.engine.run_once()
    with Session(service_engine) as s, s.begin():
        s.execute(delete(StationMutation))  # results lost, the station counter kept
    assert st.engine.run_once()
    assert st.replica.queue_depth() == 0
    assert scan_events(service_engine, oid) == 5
    # And the station keeps going from where it was.
    st.replica.record(scans(oid, epoch, 2))
    assert st.engine.run_once()
    assert scan_events(service_engine, oid) == 7


def test_service_restarted_mid_batch(
    make_station, sessions, service_engine: Engine, service: ServiceProcess, proxy: FaultProxy
) -> None:
    st = make_station("A")
    [(oid, epoch)] = claimed(st, sessions)
    assert st.engine.run_once()
    ids = st.replica.record(scans(oid, epoch, 1500))
    st.engine.start()
    wait_for(lambda: st.replica.queue_depth() < 1500, timeout=90)
    service.restart()  # SIGKILL while batches are in flight, then back up on the same port
    wait_for(lambda: st.replica.queue_depth() == 0, timeout=180)
    assert scan_events(service_engine, oid) == 1500
    assert sorted(station_mutations(service_engine, st.id)) == ids


def test_two_stations_racing_never_both_pack(
    make_station, sessions: sessionmaker[Session], service_engine: Engine
) -> None:
    a, b = make_station("A"), make_station("B")
    orders = make_orders(sessions, 6)
    packed_by: dict[str, list[int]] = {"A": [], "B": []}
    for oid in orders:
        for st in (a, b):
            try:
                lease = st.engine.claim_order(oid).leases[0]
            except ClaimRefusedError as exc:
                assert exc.refusal.error == "claimed_by_other"
                continue
            st.replica.record(
                [
                    ("scan_recorded", oid, lease.epoch, {"code": "SKU0", "outcome": "accepted"}),
                    ("order_packed", oid, lease.epoch, {"boxes": 1}),
                ]
            )
            packed_by[st.name].append(oid)
    for st in (a, b):
        assert st.engine.run_once()
    with Session(service_engine) as s:
        statuses = dict(s.execute(select(Order.id, Order.status).where(Order.id.in_(orders))).all())
        packs = s.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id.in_(orders), OrderEvent.type == "order_packed")
        )
    assert set(statuses.values()) == {"packed"}
    assert packs == len(orders)  # one pack per order, never two
    assert not set(packed_by["A"]) & set(packed_by["B"])


def test_station_paused_past_its_lease_is_rejected(
    make_station, sessions: sessionmaker[Session], service_engine: Engine
) -> None:
    a, b = make_station("A"), make_station("B")
    [oid] = make_orders(sessions, 1)
    lease_a = a.engine.claim_order(oid).leases[0]
    a.replica.record(scans(oid, lease_a.epoch, 2))  # A packs offline, then pauses
    with Session(service_engine) as s, s.begin():
        s.execute(update(Lease).where(Lease.order_id == oid).values(expires_at=Lease.granted_at))
    lease_b = b.engine.claim_order(oid).leases[0]
    assert lease_b.epoch > lease_a.epoch
    b.replica.record(
        [*scans(oid, lease_b.epoch, 2), ("order_packed", oid, lease_b.epoch, {"boxes": 1})]
    )
    assert b.engine.run_once()
    assert a.engine.run_once()  # A resumes
    events = a.replica.local_events(oid)
    assert [e.status for e in events] == ["rejected", "rejected"]
    assert {e.reason for e in events} <= {"claimed_by_other", "already_packed"}
    assert all(e.message for e in events)
    assert a.engine.status.last_rejection is not None
    assert scan_events(service_engine, oid) == 2  # only B's
    assert {s for s, _ in station_mutations(service_engine, a.id).values()} == {"rejected"}
