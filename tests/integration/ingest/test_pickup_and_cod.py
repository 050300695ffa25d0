"""Pickup points and cash on delivery from the shop's webhook to the carrier's label."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.channels import set_shipping, update_channel
from service.db import transaction
from service.ingest.store import cancel_order
from service.lifecycle import OrderStatus, transition
from service.models import Channel, Label, Order, OrderException
from service.secrets_store import put_secret
from service.shipping.labels import prepare_labels
from tests.integration.ingest.conftest import shopify_post, woo_post
from tests.support.carrier_labels_decode import barcodes_at
from tests.support.fake_packeta import FakePacketa, running_fake_packeta
from tests.support.shop_payloads import shopify_order, woo_order

METHOD = "Zásilkovna výdejní místo"


@pytest.fixture
def packeta(seeded: sessionmaker[Session]) -> Iterator[FakePacketa]:
    """The Packeta fake, and both shops mapping a pickup method to Packeta's pickup service."""
    with running_fake_packeta() as fake:
        put_secret("carrier:packeta:cz:api_password", fake.api_password)
        carrier = {
            "account": "cz",
            "base_url": f"{fake.url}/api/rest",
            "eshop": "MyEshop",
            "label_format": "pdf",
            "cod_limits": {"CZK": 20000},
            "timeout_seconds": 2,
        }
        with transaction(seeded) as s:
            update_channel(
                s,
                "shop",
                settings={
                    "carriers": {"packeta": carrier},
                    "cod_countries": ["CZ"],
                    "pickup_point": {
                        "from": "note_attributes",
                        "id": "packeta_point_id",
                        "name": "packeta_point_name",
                    },
                },
            )
            update_channel(
                s,
                "woo",
                settings={
                    "carriers": {"packeta": carrier},
                    "cod_countries": ["CZ"],
                    "pickup_point": {"from": "meta_data", "id": "_packeta_point_id"},
                },
            )
            for channel in ("shop", "woo"):
                set_shipping(s, channel, METHOD, carrier="packeta", service="pickup", actor="t")
        yield fake


def _czech_cod_shopify(order_id: int, total: str, point: str | None) -> dict[str, Any]:
    payload = shopify_order(
        order_id,
        currency="CZK",
        total_price=total,
        financial_status="pending",
        payment_gateway_names=["Cash on Delivery (COD)"],
    )
    payload["shipping_address"].update(
        address1="Na Pankráci 969/97",
        zip="140 00",
        city="Praha",
        country="Czech Republic",
        country_code="CZ",
        phone="+420777123456",
    )
    payload["shipping_lines"][0].update(code=METHOD, title=METHOD)
    payload["note_attributes"] = (
        [
            {"name": "packeta_point_id", "value": point},
            {"name": "packeta_point_name", "value": "Praha 4, Na Pankráci 969/97"},
        ]
        if point
        else []
    )
    return payload


def _order(sessions: sessionmaker[Session], channel_order_id: str) -> Order:
    with sessions() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == channel_order_id))
        assert order is not None
        s.expunge(order)
        return order


def test_a_chosen_point_and_cod_reach_packeta_and_the_label(
    client: TestClient, seeded: sessionmaker[Session], packeta: FakePacketa
) -> None:
    r = shopify_post(client, _czech_cod_shopify(7001, "2490.00", "95"))
    assert r.status_code in (200, 201), r.text
    assert r.json()["order_status"] == "confirmed", r.json()
    order = _order(seeded, "7001")
    assert (order.pickup_point, order.pickup_point_name) == ("95", "Praha 4, Na Pankráci 969/97")
    assert (order.carrier, order.service, order.payment_state) == ("packeta", "pickup", "cod")
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 1
    ((_method, sent),) = [r for r in packeta.requests if r[0] == "createPacket"]
    attrs = sent["packetAttributes"]
    assert (attrs["addressId"], attrs["cod"], attrs["currency"]) == ("95", "2490.00", "CZK")
    with seeded() as s:
        (label,) = s.scalars(select(Label).where(Label.order_id == order.id))
        assert label.tracking_number == "Z1000000001" and label.format == "pdf"
        assert barcodes_at(label.content, 203) == {"Z1000000001"}

    # Packeta scans the packet; then the shop cancels the order: a person has to act.
    packeta.set_status(1000000001, 2, "2026-11-30T10:00:00", "Packet accepted at our branch.")
    with transaction(seeded) as s:
        o = s.get_one(Order, order.id)
        transition(s, o, OrderStatus.ALLOCATED, actor="t")
        channel = s.get_one(Channel, o.channel_id)
        assert cancel_order(s, channel, "7001", actor="shop").outcome == "cancelled"
    with seeded() as s:
        (exc,) = s.scalars(select(OrderException).where(OrderException.order_id == order.id))
        assert exc.code == "label_not_voided" and "Z1000000001" in exc.message
    assert packeta.packets[1000000001].status == 2  # Packeta kept it: a person must act


def test_a_pickup_order_without_a_point_or_over_the_cod_limit_is_held(
    client: TestClient, seeded: sessionmaker[Session], packeta: FakePacketa
) -> None:
    r = shopify_post(client, _czech_cod_shopify(7002, "2490.00", None))
    assert r.json()["order_status"] == "on_hold"
    (reason,) = r.json()["hold_reasons"]
    assert reason["code"] == "pickup_point_missing"
    assert "needs the pickup point the customer chose" in reason["message"]
    r = shopify_post(client, _czech_cod_shopify(7003, "25000.00", "95"))
    (reason,) = r.json()["hold_reasons"]
    assert reason["code"] == "cod_over_limit" and "limit of 20000 CZK" in reason["message"]
    assert packeta.requests == []  # nothing went to the carrier

    # The shop sends the order again with the point: the hold lifts by itself.
    fixed = _czech_cod_shopify(7002, "2490.00", "79")
    fixed["updated_at"] = "2030-01-01T00:00:00Z"
    r = shopify_post(client, fixed, topic="orders/updated")
    assert r.json()["order_status"] == "confirmed", r.json()
    assert _order(seeded, "7002").pickup_point == "79"


def test_woocommerce_meta_data_carries_the_point(
    client: TestClient, seeded: sessionmaker[Session], packeta: FakePacketa
) -> None:
    payload = woo_order(
        731,
        currency="CZK",
        total="990.00",
        payment_method="cod",
        status="processing",
        date_paid=None,
        date_paid_gmt=None,
    )
    payload["shipping"].update(
        address_1="Na Pankráci 969/97", postcode="140 00", city="Praha", country="CZ"
    )
    payload["billing"]["phone"] = "+420777123456"
    payload["shipping_lines"][0].update(method_id=METHOD, method_title=METHOD)
    payload["meta_data"] = [{"id": 1, "key": "_packeta_point_id", "value": "4321"}]
    r = woo_post(client, payload)
    assert r.json()["order_status"] == "confirmed", r.json()
    order = _order(seeded, "731")
    assert order.pickup_point == "4321"
    # Point 4321 closed after checkout: Packeta refuses it before anything is packed.
    with transaction(seeded) as s:
        assert prepare_labels(s, [order.id]) == 0
    with seeded() as s:
        (exc,) = s.scalars(select(OrderException).where(OrderException.order_id == order.id))
        assert exc.code == "carrier_pickup_point_closed"
        assert "addressId: Pickup point is closed" in exc.message
        assert s.scalars(select(Label).where(Label.order_id == order.id)).all() == []
    assert packeta.packets == {}


def test_a_point_for_a_carrier_without_points_is_held_and_never_labelled_home(
    client: TestClient, seeded: sessionmaker[Session], packeta: FakePacketa
) -> None:
    payload = _czech_cod_shopify(7010, "990.00", "95")
    payload["shipping_lines"][0].update(code="DHL Paket", title="DHL Paket")  # -> house
    r = shopify_post(client, payload)
    assert len(r.json()["hold_reasons"]) == 1, r.json()
    (reason,) = r.json()["hold_reasons"]
    assert reason["code"] == "pickup_point_unsupported"
    assert "cannot deliver to pickup points" in reason["message"]
    # Had it been released by hand, the label step still refuses a home label.
    order = _order(seeded, "7010")
    with transaction(seeded) as s:
        row = s.get_one(Order, order.id)
        row.status = "allocated"
        assert prepare_labels(s, [order.id]) == 0
    with seeded() as s:
        codes = {
            e.code
            for e in s.scalars(select(OrderException).where(OrderException.order_id == order.id))
        }
        assert "carrier_pickup_point_unsupported" in codes
        assert s.scalars(select(Label).where(Label.order_id == order.id)).all() == []
