"""Simultaneous deliveries of the same new order never create two orders."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service.ingest.webhooks import receive, sign
from service.models import Order, OrderLine, WebhookReceipt
from tests.integration.ingest.conftest import SHOP_SECRET, count
from tests.support.shop_payloads import shopify_order

THREADS = 6


def _deliver_at_once(sessions: sessionmaker[Session], ids: list[str]) -> list[Any]:
    body = json.dumps(shopify_order(4242)).encode()
    barrier = threading.Barrier(len(ids))
    results: list[Any] = [None] * len(ids)

    def deliver(i: int) -> None:
        headers = {
            "x-shopify-topic": "orders/create",
            "x-shopify-hmac-sha256": sign(SHOP_SECRET, body),
            "x-shopify-webhook-id": ids[i],
        }
        barrier.wait()
        try:
            results[i] = receive(sessions, "shopify", "shop", headers, body)
        except Exception as exc:  # the assertion below shows which thread failed and why
            results[i] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_same_order_different_deliveries(seeded: sessionmaker[Session]) -> None:
    results = _deliver_at_once(seeded, [f"wh-{i}" for i in range(THREADS)])
    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["status"] for r in results) == ["created"] + ["unchanged"] * (THREADS - 1)
    assert count(seeded, Order) == 1
    assert count(seeded, OrderLine) == 2
    assert count(seeded, WebhookReceipt) == THREADS


def test_same_delivery_replayed_concurrently(seeded: sessionmaker[Session]) -> None:
    results = _deliver_at_once(seeded, ["same-id"] * THREADS)
    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["status"] for r in results) == ["created"] + ["duplicate"] * (THREADS - 1)
    assert count(seeded, Order) == 1
    assert count(seeded, WebhookReceipt) == 1
