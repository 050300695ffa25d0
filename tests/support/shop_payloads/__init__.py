"""Real-shaped storefront payloads (Shopify REST Order, WooCommerce v3 order) and helpers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    """A fresh deep copy of the named fixture (without .json), safe to modify."""
    data: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def shopify_order(order_id: int = 5940139491234, **changes: Any) -> dict[str, Any]:
    """The Shopify orders/create fixture with a different id and top-level changes."""
    order = load("shopify_orders_create")
    order["id"] = order_id
    order["name"] = f"#{order_id % 100000}"
    order.update(changes)
    return order


def woo_order(order_id: int = 727, **changes: Any) -> dict[str, Any]:
    """The WooCommerce order.created fixture with a different id and top-level changes."""
    order = load("woocommerce_order_created")
    order["id"] = order_id
    order["number"] = str(order_id)
    order.update(changes)
    return order


def shopify_return(return_id: int = 7293819834, order_id: int = 5940139491234) -> dict[str, Any]:
    """The Shopify returns/request fixture for another return id and order id.

    Its shape (id, admin_graphql_api_id, status, order {id}, return_line_items with
    fulfillment_line_item.line_item.id, quantity, return_reason, return_reason_note) is the
    Return webhook body as public Shopify integrations read it; the shopify.dev sample page
    itself could not be retrieved when this was written, so re-check it against a real
    delivery before relying on fields beyond these.
    """
    body = load("shopify_returns_request")
    body["id"] = return_id
    body["admin_graphql_api_id"] = f"gid://shopify/Return/{return_id}"
    body["order"] = {"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}"}
    return body


def shopify_headers(
    secret: str, body: bytes, *, topic: str = "orders/create", delivery: str | None = None
) -> dict[str, str]:
    """The headers Shopify sends with a webhook: its topic, the body's HMAC under `secret`
    and, given one, the delivery's id."""
    from service.ingest.webhooks import sign  # the service's own signing, as the shop's

    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(secret, body),
    }
    if delivery is not None:
        headers["X-Shopify-Webhook-Id"] = delivery
    return headers
