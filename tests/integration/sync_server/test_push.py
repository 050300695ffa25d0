"""Push: exactly once, in order, all-or-nothing per mutation, fenced by lease epoch."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.lifecycle import OrderStatus, transition
from service.models import Lease, Order, OrderEvent, OrderException, Parcel, StationMutation
from service.sync_server import mutations as mutations_module
from service.sync_server.mutations import Rejected
from sync.protocol import MAX_MUTATIONS_PER_PUSH
from tests.integration.sync_server.conftest import (
    claim,
    mutation,
    proven_override,
    push,
    scan,
)


def _events(sessions: sessionmaker[Session], order_id: int, type_: str) -> int:
    with sessions() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .where(OrderEvent.order_id == order_id, OrderEvent.type == type_)
            )
            or 0
        )


def _order(sessions: sessionmaker[Session], order_id: int) -> Order:
    with sessions() as s:
        order = s.get(Order, order_id)
        assert order is not None
        return order


def _claimed(client: TestClient, station: Any, order_id: int) -> int:
    r = claim(client, station, order_id=order_id)
    assert r.status_code == 200, r.text
    return int(r.json()["leases"][0]["epoch"])


def test_full_pack_flow_and_idempotent_retry(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order, make_supervisor
) -> None:
    st = make_station("A")
    sup = make_supervisor()
    oid = make_order(status="confirmed")
    epoch = _claimed(client, st, oid)
    batch = [
        scan(1, oid, epoch),
        scan(2, oid, epoch),
        mutation(3, "weight_recorded", oid, epoch, box_no=1, grams=512, within=True),
        mutation(
            4,
            "parcel_closed",
            oid,
            epoch,
            box_no=1,
            box_type="S",
            weight_grams=512,
            items=[{"line_id": 1, "quantity": 1}],
            packer_id=7,
        ),
        mutation(5, "label_printed", oid, epoch, box_no=1, tracking_number="TRK1"),
        proven_override(sessions, 6, st.id, oid, epoch, sup, packer_id=7),
        mutation(7, "order_packed", oid, epoch, boxes=1, packer_id=7),
    ]
    first = push(client, st, *batch)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["last_mutation_id"] == 7
    assert [r["status"] for r in body["results"]] == ["applied"] * 7
    assert _order(sessions, oid).status == "packed"

    again = push(client, st, *batch)
    assert again.status_code == 200
    assert again.json() == body  # same stored answers
    assert _events(sessions, oid, "scan_recorded") == 2  # applied once
    with sessions() as s:
        parcel = s.scalars(select(Parcel).where(Parcel.order_id == oid)).one()
        assert (parcel.tracking_number, parcel.station_id) == ("TRK1", st.id)
        exc = s.scalars(
            select(OrderException).where(
                OrderException.order_id == oid, OrderException.kind == "weight"
            )
        ).one()
        assert (exc.resolved_by, exc.resolution) == (f"user:{sup}", "scale drift")
        lease = s.get(Lease, oid)
        assert lease is not None and lease.released_at is not None
        statuses = s.scalars(
            select(OrderEvent.to_status)
            .where(OrderEvent.order_id == oid, OrderEvent.type == "status_changed")
            .order_by(OrderEvent.id)
        ).all()
        assert statuses == ["allocated", "picking", "packed"]
        actors = {
            (type_, actor)
            for type_, actor in s.execute(
                select(OrderEvent.type, OrderEvent.actor).where(OrderEvent.order_id == oid)
            )
        }
        # The supervisor who typed the PIN is the override's actor; the station did the rest.
        assert {a for t, a in actors if t == "override_granted"} == {f"user:{sup}"}
        assert {a for t, a in actors if t != "override_granted"} == {f"station:{st.id}"}


def test_gaps_and_backwards_ids_are_409_and_apply_nothing(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = _claimed(client, st, oid)
    assert push(client, st, scan(1, oid, epoch)).status_code == 200
    for ids in ([3], [2, 4], [3, 2], [2, 2]):
        r = push(client, st, *(scan(i, oid, epoch) for i in ids))
        assert r.status_code == 409, ids
        assert r.json()["error"] == "mutation_gap"
        assert r.json()["expected"] == 2
    assert _events(sessions, oid, "scan_recorded") == 1
    # The refused pushes moved no counter (on PostgreSQL it is written before the check,
    # in the push's transaction, which the refusal rolls back).
    assert client.get("/v1/stations/me", headers=st.headers).json()["last_mutation_id"] == 1
    # A retry overlapping the acknowledged id continues normally.
    r = push(client, st, scan(1, oid, epoch), scan(2, oid, epoch))
    assert r.status_code == 200
    assert r.json()["last_mutation_id"] == 2


def test_business_rejections_are_stored_and_advance_the_counter(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order()
    unleased = make_order()
    epoch = _claimed(client, st, oid)
    r = push(
        client,
        st,
        mutation(1, "teleport", oid, epoch),
        mutation(2, "weight_recorded", oid, epoch, grams="heavy"),
        scan(3, unleased, 1),
        scan(4, 999999, 1),
        scan(5, oid, None),
        scan(6, oid, epoch),
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["reason"] for x in results] == [
        "unknown_type",
        "invalid_payload",
        "no_lease",
        "unknown_order",
        "no_lease",
        None,
    ]
    assert all(x["message"] for x in results[:5])
    assert r.json()["last_mutation_id"] == 6
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(StationMutation)) == 6


def test_stale_epoch_after_another_station_claimed_names_it(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    a, b = make_station("Bench A"), make_station("Bench B")
    oid = make_order()
    epoch_a = _claimed(client, a, oid)
    # A's lease runs out while A is offline; B claims the order.
    with sessions() as s, s.begin():
        s.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    epoch_b = _claimed(client, b, oid)
    assert epoch_b == epoch_a + 1
    r = push(client, a, scan(1, oid, epoch_a))
    res = r.json()["results"][0]
    assert res["status"] == "rejected"
    assert res["reason"] == "claimed_by_other"
    assert "Bench B" in res["message"]
    assert res["result"]["station_name"] == "Bench B"
    assert push(client, b, scan(1, oid, epoch_b)).json()["results"][0]["status"] == "applied"


def test_expired_own_lease_without_newer_grant_is_accepted(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = _claimed(client, st, oid)
    with sessions() as s, s.begin():
        s.execute(update(Lease).values(expires_at=utcnow() - timedelta(hours=2)))
    r = push(client, st, scan(1, oid, epoch), mutation(2, "order_packed", oid, epoch, boxes=1))
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"]
    assert _order(sessions, oid).status == "packed"


def test_cancelled_and_already_packed_elsewhere(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    a, b = make_station("Bench A"), make_station("Bench B")
    cancelled, packed = make_order(), make_order()
    ea = _claimed(client, a, cancelled)
    with sessions() as s, s.begin():
        order = s.get(Order, cancelled)
        assert order is not None
        transition(s, order, OrderStatus.CANCELLED, actor="webhook:shop", reason="at the shop")
    r = push(client, a, scan(1, cancelled, ea))
    assert r.json()["results"][0]["reason"] == "order_cancelled"

    ea2 = _claimed(client, a, packed)
    with sessions() as s, s.begin():
        s.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    eb = _claimed(client, b, packed)
    assert push(client, b, mutation(1, "order_packed", packed, eb, boxes=1)).status_code == 200
    r = push(client, a, mutation(2, "order_packed", packed, ea2, boxes=1))
    res = r.json()["results"][0]
    assert res["reason"] == "already_packed"
    assert "Bench B" in res["message"]


def _fail_after_status_change(*args: Any, **kwargs: Any) -> None:
    """Stands in for release_lease in order_packed, which runs after the status moved."""
    raise Rejected("illegal_transition", None, message="simulated failure after the status moved")


def test_a_rejected_mutation_leaves_none_of_its_writes(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station,
    make_order,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    st = make_station("A")
    oid = make_order(status="picking")
    epoch = _claimed(client, st, oid)
    real = mutations_module.release_lease

    monkeypatch.setattr(mutations_module, "release_lease", _fail_after_status_change)
    r = push(client, st, mutation(1, "order_packed", oid, epoch, boxes=1), scan(2, oid, epoch))
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "applied"]
    order = _order(sessions, oid)
    assert order.status == "picking"  # the transition inside the savepoint was undone
    assert _events(sessions, oid, "status_changed") == 0
    assert _events(sessions, oid, "order_packed") == 0
    assert _events(sessions, oid, "scan_recorded") == 1
    monkeypatch.setattr(mutations_module, "release_lease", real)


def test_refusal_after_writing_mid_push_keeps_the_mutations_around_it(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station,
    make_order,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The push is redone with a savepoint per mutation: neighbours applied exactly once."""
    st = make_station("A")
    oid = make_order(status="picking")
    epoch = _claimed(client, st, oid)

    monkeypatch.setattr(mutations_module, "release_lease", _fail_after_status_change)
    caplog.set_level("INFO", logger="service.sync_server.push")
    r = push(
        client,
        st,
        scan(1, oid, epoch),
        mutation(2, "order_packed", oid, epoch, boxes=1),
        scan(3, oid, epoch),
    )
    assert [x["status"] for x in r.json()["results"]] == ["applied", "rejected", "applied"]
    assert r.json()["last_mutation_id"] == 3
    assert "push redone with a savepoint per mutation" in caplog.messages
    assert _order(sessions, oid).status == "picking"
    assert _events(sessions, oid, "scan_recorded") == 2
    assert _events(sessions, oid, "order_packed") == 0
    with sessions() as s:
        stored = s.execute(
            select(StationMutation.mutation_id, StationMutation.status).order_by(
                StationMutation.mutation_id
            )
        ).all()
    assert stored == [(1, "applied"), (2, "rejected"), (3, "applied")]


def test_refusal_before_writing_needs_no_redo(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station,
    make_order,
    caplog: pytest.LogCaptureFixture,
) -> None:
    st = make_station("A")
    oid = make_order(status="picking")
    epoch = _claimed(client, st, oid)
    caplog.set_level("INFO", logger="service.sync_server.push")
    r = push(
        client,
        st,
        scan(1, oid, epoch),
        mutation(2, "teleported", oid, epoch),
        scan(3, oid, epoch + 5),  # stale epoch: refused by the lease check
        scan(4, oid, epoch),
    )
    results = r.json()["results"]
    assert [(x["status"], x.get("reason")) for x in results] == [
        ("applied", None),
        ("rejected", "unknown_type"),
        ("rejected", "no_lease"),
        ("applied", None),
    ]
    assert "push redone with a savepoint per mutation" not in caplog.messages
    assert _events(sessions, oid, "scan_recorded") == 2


def test_wiped_results_still_skip_old_ids(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = _claimed(client, st, oid)
    assert push(client, st, scan(1, oid, epoch), scan(2, oid, epoch)).status_code == 200
    with sessions() as s, s.begin():
        s.execute(delete(StationMutation))
    r = push(client, st, scan(1, oid, epoch), scan(2, oid, epoch), scan(3, oid, epoch))
    assert r.status_code == 200
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["applied"] * 3
    assert res[0]["message"] == "This event was already processed by the service."
    assert _events(sessions, oid, "scan_recorded") == 3


def test_wrong_station_and_oversized_pushes(client: TestClient, make_station, make_order) -> None:
    a, b = make_station("A"), make_station("B")
    oid = make_order()
    r = client.post("/v1/sync/push", json={"station_id": b.id, "mutations": []}, headers=a.headers)
    assert r.status_code == 403
    body = {"station_id": b.id, "mutations": [scan(1, oid, 1)]}
    r = client.post("/v1/sync/push", json=body, headers=a.headers)
    assert r.status_code == 403
    unknown = {"Authorization": "Bearer not-a-station-token"}
    r = client.post("/v1/sync/push", json={"station_id": a.id, "mutations": []}, headers=unknown)
    assert r.status_code == 401
    too_many = [scan(i, oid, 1) for i in range(1, MAX_MUTATIONS_PER_PUSH + 2)]
    r = push(client, a, *too_many)
    assert r.status_code == 422
    assert "mutations" in r.json()["message"]
    huge = [mutation(1, "scan_recorded", oid, 1, code="X" * (3 * 1024 * 1024), outcome="accepted")]
    r = push(client, a, *huge)
    assert r.status_code == 413
    assert client.get("/v1/stations/me", headers=a.headers).json()["last_mutation_id"] == 0


def test_concurrent_duplicate_pushes_apply_once(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    """A retry racing the original (timeout on the station side) is answered, not re-applied."""
    st = make_station("A")
    oid = make_order()
    epoch = _claimed(client, st, oid)
    batch = [scan(i, oid, epoch) for i in range(1, 21)]
    answers: list[Any] = []
    barrier = threading.Barrier(3)

    def send() -> None:
        barrier.wait()
        answers.append(push(client, st, *batch).json())

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a["last_mutation_id"] for a in answers] == [20, 20, 20]
    assert _events(sessions, oid, "scan_recorded") == 20
