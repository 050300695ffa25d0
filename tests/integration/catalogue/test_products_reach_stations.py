"""Catalogue changes reach the stations through the pull, new fields included."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from sync.protocol import ProductSnapshot, PullResponse
from tests.integration.sync_server.conftest import enroll_station


def _products(client: TestClient, headers: dict[str, str], cursor: int) -> tuple[int, Any]:
    r = client.get(f"/v1/sync/pull?cursor={cursor}", headers=headers)
    assert r.status_code == 200, r.text
    page = PullResponse.model_validate(r.json())
    found = {c.data["sku"]: c.data for c in page.changes if c.entity == "product" and c.data}
    return page.cursor, found


def test_a_pull_carries_serial_pattern_image_and_active(
    client: TestClient, sessions: sessionmaker[Session], operator_token: str
) -> None:
    station = enroll_station(client, sessions, "Bench 7")
    auth = {"Authorization": f"Bearer {operator_token}"}
    cursor, before = _products(client, station.headers, 0)
    assert before == {}
    drill = {
        "sku": "DRILL-18V",
        "name": "Cordless drill 18 V",
        "gtins": ["4006381333931"],
        "aliases": ["BOSCH-0601"],
        "weight_grams": 1650,
        "image_url": "https://cdn.example.com/drill.jpg",
        "serial_required": True,
        "serial_pattern": "[0-9]{9}",
    }
    assert client.post("/v1/products", json={"products": [drill]}, headers=auth).status_code == 200

    cursor, got = _products(client, station.headers, cursor)

    snapshot = ProductSnapshot.model_validate(got["DRILL-18V"])
    assert snapshot.serial_required and snapshot.serial_pattern == "[0-9]{9}"
    assert snapshot.image_url == "https://cdn.example.com/drill.jpg"
    assert snapshot.gtins == ["04006381333931"] and snapshot.aliases == ["BOSCH-0601"]
    assert snapshot.weight_grams == 1650 and snapshot.active is True

    retired = {"products": [{"sku": "DRILL-18V", "active": False}]}
    assert client.put("/v1/products", json=retired, headers=auth).status_code == 200
    _cursor, got = _products(client, station.headers, cursor)
    assert got["DRILL-18V"]["active"] is False
    assert got["DRILL-18V"]["serial_pattern"] == "[0-9]{9}"
