"""WooCommerce webhooks, the operator order API, and the channel/import-csv commands."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction
from service.models import ApiToken, Order, OrderEvent
from service.security import token_hash
from tests.integration.ingest.conftest import count, woo_post
from tests.support.shop_payloads import woo_order


def test_woo_ping_is_answered(client: TestClient, seeded: sessionmaker[Session]) -> None:
    r = client.post(
        "/v1/channels/woocommerce/woo/webhooks",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["status"] == "ping"
    assert count(seeded, Order) == 0


def test_woo_create_update_cancel(client: TestClient, seeded: sessionmaker[Session]) -> None:
    r = woo_post(client, woo_order(727), delivery_id="d-1")
    assert r.status_code == 200 and r.json()["order_status"] == "confirmed"
    with seeded() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == "727"))
        assert order is not None
        assert (order.ship_postcode, order.ship_country, order.ship_company) == (
            "1012 LG",
            "NL",
            "Bakkerij de Vries",
        )
    assert woo_post(client, woo_order(727), delivery_id="d-1").json()["status"] == "duplicate"
    r = woo_post(
        client, woo_order(727, status="cancelled"), topic="order.updated", delivery_id="d-2"
    )
    assert r.json()["order_status"] == "cancelled"


def test_woo_cod_on_hold_payment_and_delete(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    bacs = woo_order(
        728, status="on-hold", payment_method="bacs", date_paid=None, date_paid_gmt=None
    )
    r = woo_post(client, bacs, delivery_id="e-1")
    assert r.json()["order_status"] == "on_hold"
    paid = dict(bacs, status="processing", date_paid_gmt="2024-11-11T08:00:00")
    r = woo_post(client, paid, topic="order.updated", delivery_id="e-2")
    assert r.json()["order_status"] == "confirmed"
    r = woo_post(client, {"id": 728}, topic="order.deleted", delivery_id="e-3")
    assert r.json()["status"] == "cancelled"
    r = woo_post(client, {"id": 99999}, topic="order.deleted", delivery_id="e-4")
    assert r.status_code == 200 and r.json()["status"] == "unknown_order"


def test_woo_bad_signature_and_quantity(client: TestClient, seeded: sessionmaker[Session]) -> None:
    r = woo_post(client, woo_order(729), delivery_id="f-1", secret="nope")
    assert r.status_code == 401
    bad = woo_order(730)
    bad["line_items"][0]["quantity"] = 0
    r = woo_post(client, bad, delivery_id="f-2")
    assert r.status_code == 422 and r.json()["field"] == "line_items[0].quantity"
    assert count(seeded, Order) == 0


OPERATOR_TOKEN = "op-token-for-tests"

OPERATOR_ORDER = {
    "channel": "phone",
    "reference": "TEL-2024-0042",
    "currency": "EUR",
    "payment": "invoice",
    "email": "einkauf@kaffeehaus.example",
    "phone": "01 5130000",
    "shipping_address": {
        "name": "Einkauf",
        "company": "Kaffeehaus GmbH",
        "street1": "Stephansplatz 1",
        "postcode": "1010",
        "city": "Wien",
        "country": "AT",
    },
    "priority": 1,
    "lines": [{"sku": "mug-350-blu", "quantity": 24, "unit_price": "9.50"}],
}


def _operator(sessions: sessionmaker[Session]) -> dict[str, str]:
    with transaction(sessions) as s:
        s.add(ApiToken(token_hash=token_hash(OPERATOR_TOKEN), role="operator", name="desk"))
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def test_operator_order_api(client: TestClient, seeded: sessionmaker[Session]) -> None:
    assert client.post("/v1/orders", json=OPERATOR_ORDER).status_code == 401
    auth = _operator(seeded)
    r = client.post("/v1/orders", json=OPERATOR_ORDER, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["order_status"] == "confirmed"
    again = client.post("/v1/orders", json=OPERATOR_ORDER, headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    with seeded() as s:
        order = s.scalar(select(Order))
        assert order is not None
        assert (order.phone, order.priority, order.total_amount) == ("+4315130000", 1, 228)
        actors = set(s.scalars(select(OrderEvent.actor)))
    assert actors == {"operator:1"}

    bad = json.loads(json.dumps(OPERATOR_ORDER))
    bad["lines"][0]["quantity"] = 50_000
    r = client.post("/v1/orders", json=bad, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "lines.0.quantity"
    unknown = dict(OPERATOR_ORDER, channel="nope")
    assert client.post("/v1/orders", json=unknown, headers=auth).status_code == 404
