"""Claims: fenced leases, renewals, refusals with a reason, and no double grants under races."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.lifecycle import OrderStatus, transition
from service.models import Lease, Order, Station
from service.sync_server.errors import ClaimRefusedError
from service.sync_server.leases import claim_orders
from sync.protocol import ClaimRequest
from tests.integration.sync_server.conftest import claim


def test_grant_renew_regrant_and_release(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    a, b = make_station("Bench A"), make_station("Bench B")
    oid = make_order()
    first = claim(client, a, order_id=oid).json()
    lease = first["leases"][0]
    assert (lease["station_name"], lease["epoch"]) == ("Bench A", 1)

    renewed = claim(client, a, order_id=oid).json()["leases"][0]
    assert renewed["epoch"] == 1
    assert renewed["expires_at"] >= lease["expires_at"]

    refused = claim(client, b, order_id=oid)
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "claimed_by_other"
    assert body["station_name"] == "Bench A"
    assert body["claimed_at"]

    second = claim(client, a, order_id=oid).json()
    assert client.delete(f"/v1/claims/{second['claim_id']}", headers=a.headers).status_code == 204
    taken = claim(client, b, order_id=oid).json()["leases"][0]
    assert (taken["station_name"], taken["epoch"]) == ("Bench B", 2)
    assert client.delete(f"/v1/claims/{second['claim_id']}", headers=b.headers).status_code == 404


def test_not_claimable_orders_say_why(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    st = make_station("A")
    oid = make_order()
    with sessions() as s, s.begin():
        order = s.get(Order, oid)
        assert order is not None
        transition(
            s, order, OrderStatus.CANCELLED, actor="webhook:shop", reason="cancelled at the shop"
        )
    r = claim(client, st, order_id=oid)
    assert r.status_code == 409
    assert r.json()["error"] == "order_not_claimable"
    assert "cancelled at the shop" in r.json()["message"]
    assert claim(client, st, order_id=424242).status_code == 404
    assert claim(client, st).status_code == 422


def test_batch_claim_skips_orders_held_elsewhere(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order, make_batch
) -> None:
    a, b = make_station("A"), make_station("B")
    batch = make_batch()
    o1, o2, o3 = (make_order(batch_id=batch) for _ in range(3))
    make_order(status="pending", batch_id=batch)
    assert claim(client, b, order_id=o2).status_code == 200
    r = claim(client, a, batch_id=batch)
    assert r.status_code == 200
    assert sorted(x["order_id"] for x in r.json()["leases"]) == [o1, o3]
    with sessions() as s, s.begin():
        s.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    # Expired leases: B can now take the whole batch, and A's orders get a new epoch.
    r = claim(client, b, batch_id=batch).json()
    assert {x["order_id"]: x["epoch"] for x in r["leases"]} == {o1: 2, o2: 1, o3: 2}


def test_racing_claims_never_grant_twice(
    sessions: sessionmaker[Session], make_station, make_order, make_batch
) -> None:
    stations = [make_station(f"Race {i}") for i in range(4)]
    batch = make_batch()
    orders = [make_order(batch_id=batch) for _ in range(6)]
    winners: dict[int, list[int]] = {oid: [] for oid in orders}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stations))

    def run(station_id: int, batch_claim: bool) -> None:
        try:
            barrier.wait()
            targets = [None] if batch_claim else orders
            for oid in targets:
                with sessions() as s, s.begin():
                    st = s.get(Station, station_id)
                    assert st is not None
                    req = (
                        ClaimRequest(batch_id=batch) if oid is None else ClaimRequest(order_id=oid)
                    )
                    try:
                        resp = claim_orders(s, st, req)
                    except ClaimRefusedError:
                        continue
                for lease in resp.leases:
                    winners[lease.order_id].append(station_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(st.id, i % 2 == 0)) for i, st in enumerate(stations)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(len(w) == 1 for w in winners.values()), winners
    with sessions() as s:
        leases = {x.order_id: x for x in s.scalars(select(Lease))}
        epochs = {o.id: o.lease_epoch for o in s.scalars(select(Order))}
    assert {oid: leases[oid].station_id for oid in orders} == {
        oid: w[0] for oid, w in winners.items()
    }
    assert all(epochs[oid] == 1 for oid in orders)
