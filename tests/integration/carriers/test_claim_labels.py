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
