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
    settings = {"shop_url": shops.url}  # the default API version
    first = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="450")
    second = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="451")
    numbers = pack(sessions, first, [1300, 700])  # two boxes: two tracking numbers
    pack(sessions, second, [1300])

    # The CLI close publishes right after shipping.
    assert (
        main(["dispatch", "close", "--carrier", "house", "--out", str(tmp_path), "--db", url]) == 0
    )
    assert shops.fulfilled["450"]["trackingInfo"] == {"company": "house", "numbers": numbers}
    assert len(set(numbers)) == 2
    assert shops.fulfilled["450"]["lineItemsByFulfillmentOrder"] == [
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/4501"}
    ]
    assert shops.fulfilled["450"]["notifyCustomer"] is True
    paths = {path for _m, path, _b in shops.requests}
    assert paths == {"/admin/api/2026-10/graphql.json"}
    (event,) = _events(sessions, first)
    assert event.type == "fulfilment_published" and event.payload["attempts"] == 1
    assert event.payload["fulfillment_id"].startswith("gid://shopify/Fulfillment/")
    assert publish_fulfilment(sessions, first) is None  # already told: nothing twice

    # Transient answers (HTTP 503/429, GraphQL THROTTLED) are retried with growing delays.
    third = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="452")
    pack(sessions, third, [1300])
    with sessions() as s, s.begin():
        close_day(s, "house", actor="test")
    shops.fail_next[:] = [503, 429]
    shops.graphql_fail_next[:] = ["throttled"]
    delays: list[float] = []
    assert publish_fulfilment(sessions, third, sleep=delays.append) is True
    assert delays == [0.5, 1.0, 2.0]
    assert _events(sessions, third)[-1].payload["attempts"] == 4


def test_shopify_refusals_are_exceptions_not_retried(
    sessions: sessionmaker[Session], make_order: Callable[..., int], shops: FakeShops
) -> None:
    put_secret("shopify:myshop:token", "shpat-test")
    settings = {"shop_url": shops.url, "api_version": "2026-07"}
    gone = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="460")
    done = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="461")
    odd = make_order(channel="myshop", kind="shopify", settings=settings, channel_order_id="462")
    for oid in (gone, done, odd):
        pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        close_day(s, "house", actor="test")
    shops.unknown_orders.add("460")
    delays: list[float] = []
    assert publish_fulfilment(sessions, gone, sleep=delays.append) is False
    # Fulfilled in Shopify's admin meanwhile: nothing open is nothing to do, and no error.
    shops.fulfilled["461"] = {"by": "a person in the Shopify admin"}
    assert publish_fulfilment(sessions, done, sleep=delays.append) is True
    shops.refuse_create = "Company is too long"
    assert publish_fulfilment(sessions, odd, sleep=delays.append) is False
    assert delays == []
    (refused,) = _events(sessions, odd)
    assert refused.payload["error"] == (
        "shop refused the fulfilment: fulfillment.trackingInfo.company: Company is too long"
    )
    (failed,) = _events(sessions, gone)
    assert failed.type == "fulfilment_publish_failed"
    assert failed.payload["error"] == "the shop has no order 460"
    (published,) = _events(sessions, done)
    assert published.payload["already_fulfilled"] is True
    with sessions() as s:
        exc = s.scalars(select(OrderException).where(OrderException.order_id == gone)).one()
        assert exc.code == "fulfilment_not_published" and "no order 460" in exc.message
    assert {p for _m, p, _b in shops.requests} == {"/admin/api/2026-07/graphql.json"}


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
