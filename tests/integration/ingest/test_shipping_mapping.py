"""Shop shipping methods -> carriers, and the single order view, through the HTTP API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.channels import set_shipping
from service.db import transaction
from service.errors import ValidationFailed
from service.models import ApiToken, Channel, Order, OrderException
from service.reconcile import reconcile
from service.security import token_hash
from tests.integration.ingest.conftest import shopify_post
from tests.support.shop_payloads import shopify_order

TOKEN = "op-token-mapping-0123456789"


def _auth(sessions: sessionmaker[Session]) -> dict[str, str]:
    with transaction(sessions) as s:
        s.add(ApiToken(token_hash=token_hash(TOKEN), role="operator", name="desk"))
    return {"Authorization": f"Bearer {TOKEN}"}


def _ups_order(order_id: int) -> dict[str, object]:
    payload = shopify_order(order_id)
    line = payload["shipping_lines"][0]  # type: ignore[index]
    line.update(code="UPS Express", title="UPS Express Saver")
    return payload


def test_an_unmapped_method_holds_and_mapping_it_releases(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    auth = _auth(seeded)
    for oid in (9001, 9002):
        r = shopify_post(client, _ups_order(oid))
        assert r.status_code in (200, 201), r.text
        assert r.json()["order_status"] == "on_hold"
        assert [h["code"] for h in r.json()["hold_reasons"]] == ["carrier_unmapped"]
    exceptions = client.get("/v1/exceptions", params={"kind": "validation"}, headers=auth).json()
    unmapped = [e for e in exceptions if e["code"] == "carrier_unmapped"]
    assert len(unmapped) == 2
    assert "'UPS Express Saver'" in unmapped[0]["message"]
    assert "ups" in unmapped[0]["message"]

    with transaction(seeded) as s, pytest.raises(ValidationFailed, match="No carrier adapter"):
        set_shipping(s, "shop", "UPS Express Saver", carrier="ups", actor="test")
    with transaction(seeded) as s:
        mapping, released = set_shipping(
            s, "shop", "UPS Express Saver", carrier="house", service="express", actor="user:ops"
        )
    assert mapping.carrier == "house" and len(released) == 2
    with seeded() as s:
        orders = s.scalars(select(Order).where(Order.channel_order_id.in_(["9001", "9002"])))
        assert {(o.status, o.carrier, o.service) for o in orders} == {
            ("confirmed", "house", "express")
        }
        still_open = s.scalars(
            select(OrderException).where(
                OrderException.code == "carrier_unmapped", OrderException.resolved_at.is_(None)
            )
        ).all()
        assert still_open == []
    # The next order with that method is mapped at ingest.
    r = shopify_post(client, _ups_order(9003))
    assert r.json()["order_status"] == "confirmed"


def test_reconciliation_releases_an_order_held_just_before_its_method_was_mapped(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    assert shopify_post(client, _ups_order(9200)).json()["order_status"] == "on_hold"
    # Mapped by another process whose release ran before this order committed: only the
    # settings change here, as a service that had not yet seen the order would leave it.
    with transaction(seeded) as s:
        channel = s.scalar(select(Channel).where(Channel.name == "shop"))
        assert channel is not None
        methods = dict(channel.settings["shipping_methods"])
        methods["UPS Express"] = {"carrier": "house", "service": "ups-express", "priority": 0}
        channel.settings = {**channel.settings, "shipping_methods": methods}
    with transaction(seeded) as s:
        report = reconcile(s)
    assert len(report.released) == 1
    with seeded() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == "9200"))
        assert order is not None
        assert (order.status, order.carrier, order.service) == ("confirmed", "house", "ups-express")


def test_order_view_answers_where_is_my_order(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    auth = _auth(seeded)
    payload = shopify_order(9100, payment_gateway_names=["Cash on Delivery (COD)"])
    payload["financial_status"] = "pending"
    r = shopify_post(client, payload)
    assert r.status_code in (200, 201), r.text
    with seeded() as s:
        order_id = s.scalar(select(Order.id).where(Order.channel_order_id == "9100"))
    view = client.get(f"/v1/orders/{order_id}", headers=auth)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["email"] == "jana.schmidt@example.com"
    assert body["phone"] == "+4930901820"  # E.164
    assert body["payment_state"] == "cod" and body["payment_method"] == "Cash on Delivery (COD)"
    assert body["cod_amount"] == body["total_amount"] == "89.80"
    ship = body["shipping_address"]
    assert (ship["city"], ship["country"], ship["phone"]) == ("Berlin", "DE", "+4930901820")
    assert body["billing_address"]["name"]
    assert body["parcels"] == [] and body["labels"] == []
    assert body["events"][0]["type"] == "created"
    assert isinstance(body["open_exceptions"], list)
    assert client.get(f"/v1/orders/{order_id}").status_code == 401


def test_mapping_over_the_api_needs_an_admin_and_releases_held_orders(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    operator = _auth(seeded)
    with transaction(seeded) as s:
        s.add(ApiToken(token_hash=token_hash("admin-token-012345678"), role="admin", name="it"))
    admin = {"Authorization": "Bearer admin-token-012345678"}
    assert shopify_post(client, _ups_order(9300)).json()["order_status"] == "on_hold"
    listed = client.get("/v1/channels/shop/shipping", headers=operator).json()
    assert {"method": "DHL Paket", "carrier": "house", "service": "standard", "priority": 0} in (
        listed
    )
    body = {"method": "UPS Express", "carrier": "house", "service": "ups", "priority": 2}
    assert client.put("/v1/channels/shop/shipping", json=body, headers=operator).status_code == 403
    bad = client.put("/v1/channels/shop/shipping", json={**body, "carrier": "ups"}, headers=admin)
    assert bad.status_code == 422 and "No carrier adapter 'ups'" in bad.json()["message"]
    r = client.put("/v1/channels/shop/shipping", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert len(r.json()["released"]) == 1
    assert client.get("/v1/channels/nope/shipping", headers=operator).status_code == 404
