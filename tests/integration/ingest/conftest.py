"""Fixtures for ingest integration tests: an app on each database, channels, products."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.channels import add_channel, set_shipping
from service.db import transaction
from service.ingest.webhooks import sign
from service.models import Product

SHOP_SECRET = "shpss_test_0f9a8b7c6d5e4f3a2b1c"
WOO_SECRET = "wc_test_secret_1234567890"


@pytest.fixture
def client(service_engine: Engine) -> Iterator[TestClient]:
    """A TestClient over the real app on the fresh database."""
    with TestClient(create_app(service_engine)) as c:
        yield c


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Channels `shop` (Shopify), `woo` (WooCommerce), `phone` (operator) and products."""
    with transaction(sessions) as s:
        add_channel(s, "shopify", "shop", secret=SHOP_SECRET)
        add_channel(s, "woocommerce", "woo", secret=WOO_SECRET)
        add_channel(s, "operator", "phone")
        # The fixture shops' methods, mapped as an operator does after `channel add`.
        set_shipping(s, "shop", "DHL Paket", carrier="house", service="standard", actor="test")
        set_shipping(s, "woo", "PostNL Standaard", carrier="house", actor="test")
        s.add_all(
            [
                Product(sku="MUG-350-BLU", name="Trail Mug 350 ml"),
                Product(sku="PLATE-24", name="Enamel Plate 24 cm"),
            ]
        )
    return sessions


def shopify_post(
    client: TestClient,
    payload: dict[str, Any] | bytes,
    *,
    topic: str = "orders/create",
    webhook_id: str | None = None,
    secret: str = SHOP_SECRET,
    channel: str = "shop",
    signature: str | None = None,
) -> Any:
    """POST a signed Shopify webhook; returns the httpx response."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature if signature is not None else sign(secret, body),
        "X-Shopify-Shop-Domain": "example-store.myshopify.com",
        "X-Shopify-API-Version": "2024-10",
    }
    if webhook_id is not None:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return client.post(f"/v1/channels/shopify/{channel}/webhooks", content=body, headers=headers)


def woo_post(
    client: TestClient,
    payload: dict[str, Any] | bytes,
    *,
    topic: str = "order.created",
    delivery_id: str | None = None,
    secret: str = WOO_SECRET,
    channel: str = "woo",
) -> Any:
    """POST a signed WooCommerce webhook."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example.nl/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-Signature": sign(secret, body),
        "X-WC-Webhook-ID": "12",
    }
    if delivery_id is not None:
        headers["X-WC-Webhook-Delivery-ID"] = delivery_id
    return client.post(
        f"/v1/channels/woocommerce/{channel}/webhooks", content=body, headers=headers
    )


def count(sessions: sessionmaker[Session], model: Any) -> int:
    """How many rows `model` has."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
