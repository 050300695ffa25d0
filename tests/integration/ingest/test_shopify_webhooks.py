"""Shopify webhooks end to end through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import statistics
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.ingest import webhooks
from service.lifecycle import OrderStatus, transition
from service.models import (
    ChangeRow,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    WebhookReceipt,
)
from tests.integration.ingest.conftest import SHOP_SECRET, count, shopify_post
from tests.support.shop_payloads import shopify_order


def _order(sessions: sessionmaker[Session], channel_order_id: str) -> Order:
    with sessions() as s:
        order = s.scalar(select(Order).where(Order.channel_order_id == channel_order_id))
        assert order is not None
        return order


def _nothing_stored(sessions: sessionmaker[Session]) -> None:
    for model in (Order, OrderLine, OrderEvent, WebhookReceipt, ChangeRow):
        assert count(sessions, model) == 0, model.__name__


def test_create_confirms_a_valid_order(client: TestClient, seeded: sessionmaker[Session]) -> None:
    r = shopify_post(client, shopify_order(1001), webhook_id="wh-1")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "created"
    assert body["order_status"] == "confirmed"
    order = _order(seeded, "1001")
    assert order.number == f"ORD-{100000 + order.id}"
    assert order.ship_postcode == "10178" and order.ship_country == "DE"
    assert order.phone == "+4930901820"
    assert [(ln.sku, ln.quantity, ln.product_id is not None) for ln in order.lines] == [
        ("MUG-350-BLU", 2, True),
        ("PLATE-24", 1, True),
    ]
    with seeded() as s:
        events = s.execute(
            select(OrderEvent.type, OrderEvent.to_status, OrderEvent.actor).order_by(OrderEvent.id)
        ).all()
        changes = s.scalars(select(ChangeRow.entity_id)).all()
    assert events == [
        ("created", None, "webhook:shop"),
        ("status_changed", "confirmed", "webhook:shop"),
    ]
    assert changes == [order.id]


def test_replayed_webhook_changes_nothing(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1002)
    assert shopify_post(client, payload, webhook_id="wh-2").json()["status"] == "created"
    again = shopify_post(client, payload, webhook_id="wh-2")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    # The same order under a new delivery id (Shopify retries, or create + updated) too.
    other = shopify_post(client, payload, topic="orders/updated", webhook_id="wh-3")
    assert other.status_code == 200 and other.json()["status"] == "unchanged"
    assert count(seeded, Order) == 1
    assert count(seeded, OrderLine) == 2
    assert count(seeded, OrderEvent) == 2
    assert count(seeded, WebhookReceipt) == 2


def test_delivery_without_id_dedupes_on_body(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1003)
    shopify_post(client, payload)
    assert shopify_post(client, payload).json()["status"] == "duplicate"
    assert count(seeded, Order) == 1


def test_replayed_delivery_is_duplicate_even_with_a_body_now_invalid(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    # The receipt is checked before the body is judged: a delivery already received is
    # answered "duplicate" (and applies nothing) whatever it carries now.
    payload = shopify_order(1018)
    assert shopify_post(client, payload, webhook_id="r-1").json()["status"] == "created"
    broken = dict(payload, line_items=[])
    again = shopify_post(client, broken, webhook_id="r-1")
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "outcome": "created"}
    fresh = shopify_post(client, broken, webhook_id="r-2")
    assert fresh.status_code == 422 and fresh.json()["field"] == "line_items"
    assert count(seeded, WebhookReceipt) == 1
    assert count(seeded, OrderLine) == 2


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSByaWdodCBzaWduYXR1cmU=", None])
def test_bad_signature_is_401_and_stores_nothing(
    client: TestClient,
    seeded: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    signature: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)
    if signature is None:  # signed with another secret
        r = shopify_post(client, shopify_order(1004), webhook_id="x", secret="wrong-secret")
    else:
        r = shopify_post(client, shopify_order(1004), webhook_id="x", signature=signature)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_signature"
    _nothing_stored(seeded)
    assert "signature" in caplog.text
    assert SHOP_SECRET not in caplog.text


def test_unknown_channel_answers_and_costs_like_a_bad_signature(
    client: TestClient, seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No channel-name oracle: same status, same body, same HMAC work, about the same time."""
    signed = []
    real_sign = webhooks.sign
    monkeypatch.setattr(
        webhooks, "sign", lambda key, body: signed.append(1) or real_sign(key, body)
    )
    body = json.dumps(shopify_order(1005)).encode()
    forged = "bm90IHRoZSByaWdodCBzaWduYXR1cmU="
    known = shopify_post(client, body, signature=forged)
    unknown = shopify_post(client, body, channel="nope", signature=forged)
    # A WooCommerce channel's name is not a Shopify channel either.
    other_kind = shopify_post(client, body, channel="woo", signature=forged)
    assert [r.status_code for r in (known, unknown, other_kind)] == [401, 401, 401]
    assert unknown.json() == known.json() == other_kind.json()
    assert len(signed) == 3  # the HMAC was computed for the unknown channels too

    def seconds(channel: str) -> float:
        started = time.perf_counter()
        shopify_post(client, body, channel=channel, signature=forged)
        return time.perf_counter() - started

    # Interleaved pairs, judged by the median of the pair ratios: a burst of load from other
    # processes slows both halves of a pair alike instead of a whole block of one kind.
    ratios = [seconds("nope") / seconds("shop") for _ in range(21)]
    ratio = statistics.median(ratios)
    assert 1 / 3 < ratio < 3, sorted(ratios)
    _nothing_stored(seeded)


def test_unknown_topic_is_200_and_ignored(
    client: TestClient, seeded: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    r = shopify_post(client, {"id": 1}, topic="customers/update", webhook_id="t-1")
    assert r.status_code == 200 and r.json()["status"] == "ignored"
    assert "customers/update" in caplog.text
    assert count(seeded, Order) == 0
    with seeded() as s:
        receipt = s.scalar(select(WebhookReceipt))
        assert receipt is not None and receipt.ignored


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"[1, 2]", 400, "body"),
        (b"\xff\xfe", 400, "body"),
        (json.dumps({"id": 1}).encode(), 422, "currency"),
    ],
)
def test_malformed_bodies_are_4xx_and_store_nothing(
    client: TestClient, seeded: sessionmaker[Session], body: bytes, status: int, field: str
) -> None:
    r = shopify_post(client, body, webhook_id="m-1")
    assert r.status_code == status
    assert r.json()["field"] == field
    _nothing_stored(seeded)


@pytest.mark.parametrize("quantity", [0, -1, 10_001, 1_000_000])
def test_absurd_quantities_are_422_naming_the_field(
    client: TestClient, seeded: sessionmaker[Session], quantity: int
) -> None:
    payload = shopify_order(1006)
    payload["line_items"][1]["quantity"] = quantity
    r = shopify_post(client, payload, webhook_id="q-1")
    assert r.status_code == 422
    assert r.json()["field"] == "line_items[1].quantity"
    assert "line_items[1].quantity" in r.json()["message"]
    _nothing_stored(seeded)


def test_ten_megabyte_body_is_413(client: TestClient, seeded: sessionmaker[Session]) -> None:
    payload = shopify_order(1007, note="x" * (10 * 1024 * 1024))
    r = shopify_post(client, payload, webhook_id="big")
    assert r.status_code == 413
    _nothing_stored(seeded)


def _reasons(sessions: sessionmaker[Session], order_id: int) -> list[tuple[str, bool]]:
    with sessions() as s:
        rows = s.execute(
            select(OrderException.code, OrderException.resolved_at.is_not(None))
            .where(OrderException.order_id == order_id)
            .order_by(OrderException.id)
        ).all()
    return [(code, bool(resolved)) for code, resolved in rows]


def test_payment_pending_holds_then_payment_releases(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    pending = shopify_order(
        1008, financial_status="pending", payment_gateway_names=["bank_deposit"]
    )
    r = shopify_post(client, pending, webhook_id="p-1")
    assert r.json()["order_status"] == "on_hold"
    assert r.json()["hold_reasons"] == [
        {"code": "payment_pending", "message": "The order is not paid yet."}
    ]
    order = _order(seeded, "1008")
    assert _reasons(seeded, order.id) == [("payment_pending", False)]

    paid = dict(pending, financial_status="paid")
    r = shopify_post(client, paid, topic="orders/updated", webhook_id="p-2")
    assert r.json()["order_status"] == "confirmed"
    order = _order(seeded, "1008")
    assert order.hold_reasons == [] and order.payment_state == "paid"
    assert _reasons(seeded, order.id) == [("payment_pending", True)]
    with seeded() as s:
        released = s.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.actor)
            .where(OrderEvent.type == "status_changed")
            .order_by(OrderEvent.id)
        ).all()
    assert released == [
        ("pending", "on_hold", "webhook:shop"),
        ("on_hold", "pending", "webhook:shop"),
        ("pending", "confirmed", "webhook:shop"),
    ]


def test_bad_address_holds_and_a_fix_revalidates(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1009)
    payload["shipping_address"]["zip"] = "1017"
    r = shopify_post(client, payload, webhook_id="a-1")
    assert r.json()["order_status"] == "on_hold"
    assert [x["code"] for x in r.json()["hold_reasons"]] == ["postcode_invalid"]
    payload["shipping_address"]["zip"] = "10178"
    r = shopify_post(client, payload, topic="orders/updated", webhook_id="a-2")
    assert r.json()["order_status"] == "confirmed"
    assert _order(seeded, "1009").ship_postcode == "10178"


def test_hold_reasons_follow_partial_fixes(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1010, financial_status="pending", payment_gateway_names=["manual"])
    payload["line_items"][0]["sku"] = "GHOST-1"
    r = shopify_post(client, payload, webhook_id="h-1")
    assert [x["code"] for x in r.json()["hold_reasons"]] == ["unknown_sku", "payment_pending"]
    payload["financial_status"] = "paid"
    r = shopify_post(client, payload, topic="orders/updated", webhook_id="h-2")
    assert r.json()["order_status"] == "on_hold"
    assert [x["code"] for x in r.json()["hold_reasons"]] == ["unknown_sku"]
    order = _order(seeded, "1010")
    assert _reasons(seeded, order.id) == [("unknown_sku", False), ("payment_pending", True)]


def test_cod_allowed_per_destination(client: TestClient, seeded: sessionmaker[Session]) -> None:
    cod = {"financial_status": "pending", "payment_gateway_names": ["Cash on Delivery (COD)"]}
    r = shopify_post(client, shopify_order(1011, **cod), webhook_id="c-1")
    assert r.json()["order_status"] == "confirmed"
    fr = shopify_order(1012, **cod)
    fr["shipping_address"].update(country_code="FR", country="France", zip="75008", city="Paris")
    r = shopify_post(client, fr, webhook_id="c-2")
    assert r.json()["order_status"] == "on_hold"
    assert [x["code"] for x in r.json()["hold_reasons"]] == ["cod_not_allowed"]


def test_cancellation_cancels_an_open_order(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1013)
    shopify_post(client, payload, webhook_id="x-1")
    cancelled = dict(payload, cancelled_at="2024-11-10T12:00:00+01:00", cancel_reason="customer")
    r = shopify_post(client, cancelled, topic="orders/cancelled", webhook_id="x-2")
    assert r.json()["status"] == "cancelled"
    assert _order(seeded, "1013").status == "cancelled"
    # A later update for a cancelled order does not revive it.
    r = shopify_post(client, payload, topic="orders/updated", webhook_id="x-3")
    assert r.json()["order_status"] == "cancelled"


def test_cancellation_after_packing_is_recorded_not_forced(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1014)
    shopify_post(client, payload, webhook_id="k-1")
    with seeded() as s, s.begin():
        order = s.scalar(select(Order).where(Order.channel_order_id == "1014"))
        assert order is not None
        for target in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED):
            transition(s, order, target, actor="station:1")
    cancelled = dict(payload, cancelled_at="2024-11-10T12:00:00+01:00")
    r = shopify_post(client, cancelled, topic="orders/cancelled", webhook_id="k-2")
    assert r.status_code == 200 and r.json()["status"] == "cancel_refused"
    order = _order(seeded, "1014")
    assert order.status == "packed"
    assert _reasons(seeded, order.id) == [("cancel_after_packing", False)]
    # Shopify retries under a new id: still one exception, one event.
    shopify_post(client, cancelled, topic="orders/cancelled", webhook_id="k-3")
    assert _reasons(seeded, order.id) == [("cancel_after_packing", False)]
    with seeded() as s:
        refused = s.scalars(select(OrderEvent.id).where(OrderEvent.type == "cancel_refused")).all()
    assert len(refused) == 1


def test_address_change_after_packing_is_refused(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1015)
    shopify_post(client, payload, webhook_id="l-1")
    with seeded() as s, s.begin():
        order = s.scalar(select(Order).where(Order.channel_order_id == "1015"))
        assert order is not None
        for target in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED):
            transition(s, order, target, actor="station:1")
    payload["shipping_address"]["address1"] = "Alexanderplatz 1"
    payload["financial_status"] = "partially_refunded"
    r = shopify_post(client, payload, topic="orders/updated", webhook_id="l-2")
    assert r.json()["status"] == "change_refused"
    order = _order(seeded, "1015")
    assert order.ship_street1 == "Karl-Liebknecht-Str. 29"
    assert _reasons(seeded, order.id) == [("changed_after_packing", False)]


def test_line_change_before_picking_replaces_lines(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1016)
    shopify_post(client, payload, webhook_id="n-1")
    payload["line_items"][0]["quantity"] = 5
    del payload["line_items"][1]
    r = shopify_post(client, payload, topic="orders/updated", webhook_id="n-2")
    assert r.json()["status"] == "updated"
    order = _order(seeded, "1016")
    assert [(ln.line_no, ln.sku, ln.quantity) for ln in order.lines] == [(1, "MUG-350-BLU", 5)]
    assert order.version > 2


def test_update_for_unknown_order_creates_it(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    r = shopify_post(client, shopify_order(1017), topic="orders/updated", webhook_id="u-1")
    assert r.json()["status"] == "created"


def test_an_older_update_arriving_late_does_not_undo_a_newer_one(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    """Shopify does not promise delivery order: updated_at decides which version stands."""
    payload = shopify_order(1090)  # updated_at 2024-11-10T10:30:02+01:00
    shopify_post(client, payload, webhook_id="o-1")
    older = json.loads(json.dumps(payload))
    older["shipping_address"]["city"] = "Potsdam"
    older["updated_at"] = "2024-11-10T11:00:00+01:00"
    newer = json.loads(json.dumps(payload))
    newer["shipping_address"]["city"] = "Hamburg"
    newer["updated_at"] = "2024-11-10T11:05:00+01:00"
    applied = shopify_post(client, newer, topic="orders/updated", webhook_id="o-3")
    assert applied.json()["status"] == "updated"
    late = shopify_post(client, older, topic="orders/updated", webhook_id="o-2")
    assert late.status_code == 200 and late.json()["status"] == "stale"
    order = _order(seeded, "1090")
    assert order.ship_city == "Hamburg"
    assert order.channel_updated_at is not None
    assert order.channel_updated_at.isoformat() == "2024-11-10T10:05:00+00:00"
    with seeded() as s:
        updates = s.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == order.id, OrderEvent.type == "updated_from_channel"
            )
        ).all()
        receipt = s.scalar(select(WebhookReceipt.outcome).where(WebhookReceipt.webhook_id == "o-2"))
    assert len(updates) == 1  # the newer one only
    assert receipt == "stale"
    # The late delivery retried: a duplicate, still nothing applied.
    again = shopify_post(client, older, topic="orders/updated", webhook_id="o-2")
    assert again.json()["status"] == "duplicate"
    assert _order(seeded, "1090").ship_city == "Hamburg"


def test_a_late_cancellation_still_cancels(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    payload = shopify_order(1091)
    shopify_post(client, payload, webhook_id="lc-1")
    newer = dict(payload, updated_at="2024-11-10T12:00:00+01:00", note="gift")
    shopify_post(client, newer, topic="orders/updated", webhook_id="lc-2")
    cancelled = dict(payload, cancelled_at="2024-11-10T11:00:00+01:00", cancel_reason="fraud")
    cancelled["updated_at"] = "2024-11-10T11:00:00+01:00"  # older than the update applied
    r = shopify_post(client, cancelled, topic="orders/cancelled", webhook_id="lc-3")
    assert r.json()["status"] == "cancelled"
    assert _order(seeded, "1091").status == "cancelled"
