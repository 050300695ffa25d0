"""Packing slips per channel: the admin's setting travels with each order to the stations
(sync protocol 3), with the pickup point and the cash to collect; older stations are served
the orders they can read."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed
from service.users import create_token
from sync.protocol import (
    ORDER_FIELDS_V3,
    ORDER_FIELDS_V4,
    PROTOCOL_HEADER,
    OrderSnapshot,
    PullResponse,
)
from tests.integration.sync_server.conftest import StationAuth
from tests.support import factories


def _pull(client: TestClient, st: StationAuth, cursor: int, protocol: str) -> dict[str, Any]:
    r = client.get(
        f"/v1/sync/pull?cursor={cursor}", headers={**st.headers, PROTOCOL_HEADER: protocol}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _orders(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["data"]["number"]: c["data"] for c in page["changes"] if c["entity"] == "order"}


def _tokens(sessions: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, str]]:
    with sessions() as s, s.begin():
        _a, admin = create_token(s, role="admin", name="boss")
        _o, operator = create_token(s, role="operator", name="desk")
    return {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {operator}"}


def _floor(
    sessions: sessionmaker[Session], make_station: Callable[[str], StationAuth], make_batch: Any
) -> tuple[StationAuth, dict[str, int]]:
    station = make_station("bench-1")
    batch = make_batch(station.id)
    with sessions() as s, s.begin():
        shop = factories.channel(s, "shop", "operator")
        factories.channel(s, "market", "operator")
        ids = {
            "home": factories.sync_order(s, 900001, status="allocated", batch_id=batch, lines=1),
            "point": factories.sync_order(
                s,
                900002,
                status="allocated",
                batch_id=batch,
                lines=2,
                ship_country="RO",
                pickup_point="RO-BUC-1234",
                pickup_point_name="easybox Unirii, Bd. Unirii 12, Bucuresti",
                payment_state="cod",
                total_amount=Decimal("249.90"),
                currency="RON",
            ),
            "company": factories.sync_order(
                s, 900003, status="allocated", batch_id=batch, lines=1, ship_company="Acme SRL"
            ),
            "packed": factories.sync_order(s, 900004, status="packed", batch_id=batch, lines=1),
        }
        assert all(o.channel_id == shop.id for o in ids.values())
        for o in ids.values():
            mark_changed(s, "order", o.id)  # as ingest does: the feed has a head above 0
        return station, {k: o.id for k, o in ids.items()}


def test_the_channel_setting_reaches_the_station_with_each_order(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station: Callable[[str], StationAuth],
    make_batch: Any,
) -> None:
    station, _ids = _floor(sessions, make_station, make_batch)
    admin, operator = _tokens(sessions)
    page = _pull(client, station, 0, "3")
    assert page["snapshot"] and page["cursor"] > 0
    PullResponse.model_validate(page)
    orders = _orders(page)
    assert {o["packing_slip"] for o in orders.values()} == {False}  # never, by default
    point = orders["ORD-900002"]
    assert point["pickup_point"] == {
        "id": "RO-BUC-1234",
        "name": "easybox Unirii, Bd. Unirii 12, Bucuresti",
    }
    assert Decimal(point["cod_amount"]) == Decimal("249.90") and point["currency"] == "RON"
    assert orders["ORD-900001"]["pickup_point"] is None
    assert orders["ORD-900001"]["cod_amount"] is None
    # The slip's language (protocol 4): none stored (an order from before 0019), so the
    # country's; a protocol-3 station is not sent the field at all.
    assert "language" not in point
    v4 = _orders(_pull(client, station, 0, "4"))
    assert v4["ORD-900002"]["language"] == "ro" and v4["ORD-900001"]["language"] == "en"  # RO, NL
    for data in orders.values():  # the hand-built dicts are exactly the protocol's model
        dumped = OrderSnapshot.model_validate(data).model_dump(mode="json")
        assert {k: v for k, v in dumped.items() if k not in ORDER_FIELDS_V4} == data

    assert client.get("/v1/channels/shop/packing-slip", headers=operator).json() == {
        "packing_slip": "never",
        "ship_from_country": "",
    }
    r = client.put("/v1/channels/shop/packing-slip", json={"packing_slip": "b2b"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"packing_slip": "b2b", "ship_from_country": "", "resent_orders": 3}
    page = _pull(client, station, page["cursor"], "3")
    orders = _orders(page)
    # The unpacked orders come again with the new answer; the packed one is left alone.
    assert {n: o["packing_slip"] for n, o in orders.items()} == {
        "ORD-900001": False,
        "ORD-900002": False,
        "ORD-900003": True,
    }

    r = client.put(
        "/v1/channels/shop/packing-slip",
        json={"packing_slip": "cross_border", "ship_from_country": "hu"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["ship_from_country"] == "HU"
    orders = _orders(_pull(client, station, page["cursor"], "3"))
    assert {n: o["packing_slip"] for n, o in orders.items()} == {
        "ORD-900001": True,  # NL from HU
        "ORD-900002": True,  # RO from HU
        "ORD-900003": True,
    }
    r = client.put(
        "/v1/channels/shop/packing-slip", json={"ship_from_country": "NL"}, headers=admin
    )
    assert r.status_code == 200, r.text
    orders = _orders(_pull(client, station, 0, "3"))
    assert orders["ORD-900001"]["packing_slip"] is False  # NL from NL: domestic
    assert orders["ORD-900002"]["packing_slip"] is True

    r = client.put("/v1/channels/shop/packing-slip", json={"packing_slip": "always"}, headers=admin)
    orders = _orders(_pull(client, station, 0, "3"))
    assert {o["packing_slip"] for n, o in orders.items() if n != "ORD-900004"} == {True}


def test_a_protocol_2_station_gets_the_orders_it_can_read(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station: Callable[[str], StationAuth],
    make_batch: Any,
) -> None:
    station, _ids = _floor(sessions, make_station, make_batch)
    admin, _operator = _tokens(sessions)
    assert (
        client.put(
            "/v1/channels/shop/packing-slip", json={"packing_slip": "always"}, headers=admin
        ).status_code
        == 200
    )
    for protocol in ("2", "1"):
        page = _pull(client, station, 0, protocol)
        orders = _orders(page)
        assert len(orders) == 4
        for data in orders.values():
            assert not set(ORDER_FIELDS_V3) & set(data), data  # an old station refuses them
    cursor = _pull(client, station, 0, "2")["cursor"]
    client.put("/v1/channels/shop/packing-slip", json={"packing_slip": "b2b"}, headers=admin)
    orders = _orders(_pull(client, station, cursor, "2"))
    assert len(orders) == 3 and all("packing_slip" not in o for o in orders.values())


def test_bad_settings_are_refused_and_change_nothing(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station: Callable[[str], StationAuth],
    make_batch: Any,
) -> None:
    _station, _ids = _floor(sessions, make_station, make_batch)
    admin, operator = _tokens(sessions)
    for body, words in (
        ({"packing_slip": "sometimes"}, "Unknown packing-slip setting"),
        ({"packing_slip": "cross_border"}, "ship-from-country"),
        ({"ship_from_country": "R0"}, "two-letter country"),
        ({}, "Nothing to change"),
    ):
        r = client.put("/v1/channels/shop/packing-slip", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert words in r.json()["message"], r.json()
    r = client.put(
        "/v1/channels/shop/packing-slip", json={"packing_slip": "always"}, headers=operator
    )
    assert r.status_code == 403
    r = client.put(
        "/v1/channels/nosuch/packing-slip", json={"packing_slip": "always"}, headers=admin
    )
    assert r.status_code == 404
    assert client.get("/v1/channels/shop/packing-slip", headers=operator).json() == {
        "packing_slip": "never",
        "ship_from_country": "",
    }
