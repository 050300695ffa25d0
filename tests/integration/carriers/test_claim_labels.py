"""End to end over HTTP: a claim makes labels, and the claiming station pulls them."""

from __future__ import annotations

import base64
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.models import OrderException
from tests.integration.sync_server.conftest import enroll_station


def test_claim_makes_labels_the_station_pulls_and_a_bad_address_becomes_an_exception(
    service_engine: Engine, sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    good = make_order()
    bad = make_order(ship_street1="")
    with TestClient(create_app(service_engine)) as client:
        station = enroll_station(client, sessions, "bench-1")
        other = enroll_station(client, sessions, "bench-2")
        cursors = {}
        for st in (station, other):
            r = client.get("/v1/sync/pull", params={"cursor": 0}, headers=st.headers)
            cursors[st.id] = r.json()["cursor"]

        for oid in (good, bad):
            r = client.post("/v1/claims", json={"order_id": oid}, headers=station.headers)
            assert r.status_code == 200, r.text  # a carrier problem never fails the claim

        r = client.get(
            "/v1/sync/pull", params={"cursor": cursors[station.id]}, headers=station.headers
        )
        labels = [c for c in r.json()["changes"] if c["entity"] == "label"]
        assert len(labels) == 1
        data = labels[0]["data"]
        assert data["order_id"] == good and data["format"] == "zpl" and data["status"] == "ready"
        assert data["tracking_number"] in base64.b64decode(data["content_b64"]).decode()
        assert (data["weight_min_grams"], data["weight_max_grams"]) == (1170, 1430)

        # Another station does not receive the label of an order it does not hold.
        r = client.get("/v1/sync/pull", params={"cursor": cursors[other.id]}, headers=other.headers)
        assert not [c for c in r.json()["changes"] if c["entity"] == "label" and c["data"]]

    with sessions() as s:
        (exc,) = s.scalars(select(OrderException).where(OrderException.order_id == bad)).all()
        assert exc.kind == "carrier" and "no street or city" in exc.message


def test_pushed_weight_outside_the_band_gets_a_new_label_the_station_pulls(
    service_engine: Engine, sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    from datetime import UTC, datetime

    from service.models import Label, Parcel

    oid = make_order()
    with TestClient(create_app(service_engine)) as client:
        station = enroll_station(client, sessions, "bench-1")
        cursor = client.get("/v1/sync/pull", params={"cursor": 0}, headers=station.headers)
        claim = client.post("/v1/claims", json={"order_id": oid}, headers=station.headers).json()
        epoch = claim["leases"][0]["epoch"]
        cursor = client.get(
            "/v1/sync/pull", params={"cursor": cursor.json()["cursor"]}, headers=station.headers
        ).json()["cursor"]
        with sessions() as s:
            (first,) = s.scalars(select(Label).where(Label.order_id == oid)).all()
            first_id, band_max = first.id, first.weight_max_grams
        mutation = {
            "id": 1,
            "type": "parcel_closed",
            "order_id": oid,
            "lease_epoch": epoch,
            "at": datetime.now(UTC).isoformat(),
            "payload": {"box_no": 1, "box_type": "M", "weight_grams": band_max + 500, "items": []},
        }
        r = client.post(
            "/v1/sync/push",
            json={"station_id": station.id, "mutations": [mutation]},
            headers=station.headers,
        )
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
        r = client.get("/v1/sync/pull", params={"cursor": cursor}, headers=station.headers)
        pulled = {c["entity_id"]: c["data"] for c in r.json()["changes"] if c["entity"] == "label"}
    with sessions() as s:
        labels = {lb.id: lb for lb in s.scalars(select(Label).where(Label.order_id == oid))}
        parcel = s.scalars(select(Parcel).where(Parcel.order_id == oid)).one()
    assert labels[first_id].status == "cancelled"
    (new_id,) = [i for i in labels if i != first_id]
    new = labels[new_id]
    assert new.weight_min_grams <= band_max + 500 <= new.weight_max_grams
    assert pulled[new_id] is not None and pulled[new_id]["status"] == "ready"
    assert parcel.status == "closed"
