"""Fulfilment back to the shops (Shopify, WooCommerce), retried with backoff, audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.cli import main
from service.models import Order, OrderEvent, OrderException
from service.secrets_store import put_secret
from service.shipping.dispatch import close_day
from service.shipping.publish import publish_fulfilment
from tests.integration.carriers.conftest import pack
from tests.support.fake_shops import FakeShops, running_fake_shops


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


def _events(sessions: sessionmaker[Session], oid: int) -> list[OrderEvent]:
    with sessions() as s:
        return list(
            s.scalars(
                select(OrderEvent)
                .where(OrderEvent.order_id == oid, OrderEvent.type.like("fulfilment%"))
                .order_by(OrderEvent.id)
            )
        )


def test_shopify_fulfilment_on_close_and_retries_with_backoff(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    shops: FakeShops,
    tmp_path: Path,
) -> None:
    url, _engine = service_db
    put_secret("shopify:myshop:token", "shpat-test")
    settings = {"shop_url": shops.url, "api_version": "2024-07"}
    first = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="450")
    second = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="451")
    (n1,) = pack(sessions, first, [1300])
    pack(sessions, second, [1300])

    # The CLI close publishes right after shipping.
    assert (
        main(["dispatch", "close", "--carrier", "house", "--out", str(tmp_path), "--db", url]) == 0
    )
    assert shops.fulfilled["450"]["tracking_info"] == {"company": "house", "number": n1}
    assert shops.fulfilled["450"]["line_items_by_fulfillment_order"] == [
        {"fulfillment_order_id": 4501}
    ]
    (event,) = _events(sessions, first)
    assert event.type == "fulfilment_published" and event.payload["attempts"] == 1
    assert publish_fulfilment(sessions, first) is None  # already told: nothing twice

    # Transient answers are retried with growing delays, then it works.
    third = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="452")
    pack(sessions, third, [1300])
    with sessions() as s, s.begin():
        close_day(s, "house", actor="test")
    shops.fail_next[:] = [503, 429]
    delays: list[float] = []
    assert publish_fulfilment(sessions, third, sleep=delays.append) is True
    assert delays == [0.5, 1.0]
    assert _events(sessions, third)[-1].payload["attempts"] == 3


def test_woocommerce_note_and_completed_and_a_refusal_is_an_exception(
    sessions: sessionmaker[Session], make_order: Callable[..., int], shops: FakeShops
) -> None:
    put_secret("woocommerce:woo:consumer_key", "ck")
    put_secret("woocommerce:woo:consumer_secret", "cs")
    settings = {"base_url": shops.url}
    ok = make_order(channel="woo", kind="woocommerce", settings=settings, channel_order_id="727")
    refused = make_order(
        channel="woo", kind="woocommerce", settings=settings, channel_order_id="728"
    )
    (number,) = pack(sessions, ok, [1300])
    pack(sessions, refused, [1300])
    with sessions() as s, s.begin():
        close_day(s, "house", actor="test")

    assert publish_fulfilment(sessions, ok, sleep=lambda _s: None) is True
    woo = shops.woo_orders["727"]
    assert woo["status"] == "completed"
    assert woo["notes"][0]["customer_note"] is True and number in woo["notes"][0]["note"]

    shops.fail_next[:] = [400]
    delays: list[float] = []
    assert publish_fulfilment(sessions, refused, sleep=delays.append) is False
    assert delays == []  # a 4xx is not retried
    (event,) = _events(sessions, refused)
    assert event.type == "fulfilment_publish_failed" and "400" in event.payload["error"]
    with sessions() as s:
        exc = s.scalars(select(OrderException).where(OrderException.order_id == refused)).one()
        assert exc.kind == "publish" and "woo" in exc.message
        assert s.get_one(Order, refused).status == "shipped"  # the parcel did leave
