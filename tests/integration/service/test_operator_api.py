"""The operator API over HTTP on both databases: auth, filters, transitions, holds, batches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.db import make_sessionmaker
from service.models import Order, OrderEvent
from service.reconcile import reconcile
from service.users import create_token
from tests.support import factories


@pytest.fixture
def api(service_engine: Engine) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    """A client carrying a valid operator token, and the database's session factory."""
    sessions = make_sessionmaker(service_engine)
    with sessions() as s, s.begin():
        _row, token = create_token(s, role="operator", name="ops")
    with TestClient(create_app(service_engine)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, sessions


def test_requests_without_a_valid_token_are_401(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, _ = api
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"}):
        r = client.get("/v1/orders", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"
    r = client.post("/v1/batches", json={}, headers={"Authorization": "Basic x"})
    assert r.status_code == 401


def test_list_orders_filters_and_paginates(api: tuple[TestClient, sessionmaker[Session]]) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        fr = factories.order(s, country="FR", age_hours=30).id
        factories.order(s, country="DE", status="pending", age_hours=2)
        factories.order(s, country="DE", channel_name="b2b", age_hours=5)
    r = client.get("/v1/orders")
    assert r.status_code == 200 and r.json()["total"] == 3
    assert [
        o["id"] for o in client.get("/v1/orders", params={"country": "fr"}).json()["items"]
    ] == [fr]
    assert client.get("/v1/orders", params={"status": "pending"}).json()["total"] == 1
    assert client.get("/v1/orders", params={"channel": "b2b"}).json()["total"] == 1
    aged = client.get("/v1/orders", params={"min_age_hours": 24}).json()
    assert [o["number"] for o in aged["items"]] and aged["total"] == 1
    assert client.get("/v1/orders", params={"max_age_hours": 10}).json()["total"] == 2
    page = client.get("/v1/orders", params={"limit": 2, "offset": 2}).json()
    assert (len(page["items"]), page["total"]) == (1, 3)
    bad = client.get("/v1/orders", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"


def test_order_detail_and_an_illegal_transition_changes_nothing(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        oid = factories.order(s, status="confirmed", lines=[("MUG-BLU-350", 2)]).id
    r = client.post(f"/v1/orders/{oid}/transition", json={"to": "shipped", "reason": "oops"})
    assert r.status_code == 409
    assert r.json()["error"] == "illegal_transition"
    assert "cannot become shipped" in r.json()["message"]
    with sessions() as s:
        assert s.get_one(Order, oid).status == "confirmed"
        assert s.scalar(select(func.count()).select_from(OrderEvent)) == 0

    r = client.post(f"/v1/orders/{oid}/transition", json={"to": "cancelled", "reason": "fraud"})
    assert r.status_code == 200
    detail = client.get(f"/v1/orders/{oid}").json()
    assert detail["status"] == "cancelled"
    assert detail["lines"][0]["quantity"] == 2
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in detail["events"]] == [
        ("confirmed", "cancelled", "operator:ops")
    ]
    assert detail["events"][0]["payload"]["reason"] == "fraud"
    assert client.get("/v1/orders/999999").status_code == 404
    r = client.post(f"/v1/orders/{oid}/transition", json={"to": "lost", "reason": "x"})
    assert r.status_code == 422 and r.json()["field"] == "to"


def test_hold_shows_as_exception_and_release_restores_and_closes_it(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        oid = factories.order(s, status="confirmed").id
    r = client.post(f"/v1/orders/{oid}/hold", json={"reason": "Customer called"})
    assert r.status_code == 200 and r.json()["status"] == "on_hold"
    (exc,) = client.get("/v1/exceptions", params={"kind": "hold"}).json()
    assert exc["order_id"] == oid and exc["message"] == "Customer called"
    r = client.post(f"/v1/orders/{oid}/release", json={"reason": "Sorted"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert client.get("/v1/exceptions").json() == []
    again = client.post(f"/v1/orders/{oid}/release", json={"reason": "again"})
    assert again.status_code == 409


def test_stuck_exceptions_are_listed_and_resolved_once(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        factories.order(s, status="confirmed", age_hours=40)
        reconcile(s)
    (exc,) = client.get("/v1/exceptions", params={"kind": "stuck"}).json()
    assert exc["code"] == "paid_not_packed"
    assert client.get("/v1/exceptions", params={"kind": "hold"}).json() == []
    r = client.post(f"/v1/exceptions/{exc['id']}/resolve", json={"resolution": "picked now"})
    assert r.status_code == 200 and r.json()["resolved_by"] == "operator:ops"
    assert client.get("/v1/exceptions").json() == []
    r = client.post(f"/v1/exceptions/{exc['id']}/resolve", json={"resolution": "again"})
    assert r.status_code == 409


def test_batches_are_created_listed_and_assigned(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        for _ in range(3):
            factories.order(s, service="express")
        station_id = factories.station(s).id
    r = client.post("/v1/batches", json={"service": "express", "max_orders": 2})
    assert r.status_code == 201
    made = r.json()
    assert [b["order_count"] for b in made] == [2, 1]
    assert client.post("/v1/batches", json={"service": "express"}).json() == []
    bad = client.post("/v1/batches", json={"max_orders": 0})
    assert bad.status_code == 422
    r = client.post(f"/v1/batches/{made[0]['id']}/assign", json={"station_id": station_id})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["station_id"]) == ("assigned", station_id)
    assert [b["code"] for b in client.get("/v1/batches", params={"status": "assigned"}).json()] == [
        made[0]["code"]
    ]
    assert (
        client.post(f"/v1/batches/{made[0]['id']}/assign", json={"station_id": 999}).status_code
        == 404
    )
    in_batch = client.get("/v1/orders", params={"batch": made[0]["code"]}).json()
    assert in_batch["total"] == 2 and {o["status"] for o in in_batch["items"]} == {"allocated"}


def test_stations_are_listed_and_batches_assigned_by_station_name(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, sessions = api
    with sessions() as s, s.begin():
        factories.order(s, service="std")
        bench = factories.station(s, "bench-07")
        factories.station(s, "bench-02")
        bench_id = bench.id
    listed = client.get("/v1/stations").json()
    assert [(st["name"], st["open_batches"]) for st in listed] == [("bench-02", 0), ("bench-07", 0)]
    assert listed[1]["id"] == bench_id
    (batch,) = client.post("/v1/batches", json={"service": "std"}).json()
    r = client.post(f"/v1/batches/{batch['id']}/assign", json={"station": "bench-07"})
    assert r.status_code == 200 and r.json()["station_id"] == bench_id
    assert [st["open_batches"] for st in client.get("/v1/stations").json()] == [0, 1]
    unknown = client.post(f"/v1/batches/{batch['id']}/assign", json={"station": "bench-99"})
    assert unknown.status_code == 404 and "station list" in unknown.text
    both = client.post(
        f"/v1/batches/{batch['id']}/assign", json={"station": "bench-07", "station_id": bench_id}
    )
    assert both.status_code == 422
    assert client.get("/v1/stations", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_openapi_document_lists_the_operator_endpoints(
    api: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/orders", "/v1/orders/{order_id}/transition", "/v1/batches", "/v1/exceptions"):
        assert path in paths
