"""End to end, issue 21's test: a signed Shopify `returns/request` webhook to the real
`packbench-service` process creates an RMA; the real `packbench` station (scanner on a pty)
receives it in returns mode, one unit restocked and one written off; the service's own
scheduler then disposes the return in the fake Shopify (RESTOCKED 1 at the channel's
location, NOT_RESTOCKED 1) and publishes the stock, so the ledger's available stock and the
shop's quantity agree."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.channels import add_channel, set_shipping
from service.db import make_engine, make_sessionmaker
from service.lifecycle import OrderStatus, can_transition, transition
from service.models import Channel, Order, OutboundJob, Product, ProductListing, Return
from service.stock.allocation import consume_order
from service.stock.ledger import MAIN, check, level
from tests.e2e.test_station_e2e import Bench, _bench
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.shop_payloads import shopify_headers, shopify_order, shopify_return

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

SECRET = "shpss_e2e_returns_0123456789"
SHOP_ORDER, SHOP_RETURN = 5940139499001, 7293819899
LOCATION = "gid://shopify/Location/655441491"


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"never happened: {what}")


def test_a_shopify_return_received_at_a_real_station_is_disposed_in_the_shop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring_file = tmp_path / "keyring.json"  # the file _bench gives the service process
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "shopify:shop:token", "shpat-test")
    with running_fake_shops() as shops:

        def prepare(session: Session) -> object:
            shop = add_channel(
                session,
                "shopify",
                "shop",
                secret=SECRET,
                settings={"shop_url": shops.url, "location_id": "655441491"},
            )
            assert shop.secret_ref is not None
            FileKeyring().set_password("packbench-service", shop.secret_ref, SECRET)
            set_shipping(
                session, "shop", "DHL Paket", carrier="house", service="standard", actor="e2e"
            )
            return shop.id

        service_env = {
            "PACKBENCH_SCHEDULER": "on",
            "PACKBENCH_JOBS_EVERY": "0.5",
            "PACKBENCH_RECONCILE_EVERY": "0",
            "PACKBENCH_TRACKING_EVERY": "0",
        }
        with _bench(tmp_path, prepare=prepare, service_env=service_env) as bench:
            _shopify_return_at_the_bench(bench, shops, tmp_path)


def _post_webhook(bench: Bench, body: dict[str, Any], topic: str, delivery: str) -> Any:
    raw = json.dumps(body).encode()
    headers = shopify_headers(SECRET, raw, topic=topic, delivery=delivery)
    answer = bench.api.post("/v1/channels/shopify/shop/webhooks", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _shopify_return_at_the_bench(bench: Bench, shops: FakeShops, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    sessions = make_sessionmaker(engine)
    # Two demo products the station knows (its catalogue), each scanned by its code.
    demo = next(o for o in bench.orders if len({i.code for i in o.items}) >= 2)
    with sessions() as s:
        first_line, second_line = s.get_one(Order, demo.id).lines[:2]
        skus = [first_line.sku, second_line.sku]
    codes = {}
    for item in demo.items:
        codes.setdefault(item.code, None)
    unit_codes = list(codes)[:2]
    items = {sku: f"gid://shopify/InventoryItem/{5001 + n}" for n, sku in enumerate(skus)}
    shops.shopify_products["7001"] = [
        {"sku": sku, "inventory_item": item} for sku, item in items.items()
    ]
    with sessions() as s, s.begin():
        channel = s.scalars(select(Channel).where(Channel.name == "shop")).one()
        for sku in skus:
            pid = s.scalars(select(Product.id).where(Product.sku == sku)).one()
            s.add(ProductListing(channel_id=channel.id, shop_product_id="7001", product_id=pid))
    for sku in skus:  # tracked from here on; each count is published to the shop
        answer = bench.api.post(
            "/v1/stock/adjustments", json={"sku": sku, "count": 10, "reason": "e2e opening"}
        )
        assert answer.status_code == 200, answer.text

    # The shop's order of one unit of each, taken in by webhook, then packed and shipped.
    order_body = shopify_order(SHOP_ORDER)
    template = order_body["line_items"][0]
    order_body["line_items"] = [
        {**template, "id": 880001 + n, "sku": sku, "quantity": 1, "variant_id": 990001 + n}
        for n, sku in enumerate(skus)
    ]
    created = _post_webhook(bench, order_body, "orders/create", "e2e-order")
    number = created["order"]
    with sessions() as s, s.begin():
        order = s.scalars(select(Order).where(Order.number == number)).one()
        for step in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED):
            if can_transition(order.status, step):
                transition(s, order, step, actor="e2e")
        assert order.status == OrderStatus.PACKED.value, order.status
        consume_order(s, order, actor="e2e")
        transition(s, order, OrderStatus.SHIPPED, actor="e2e")

    # Shopify announces the return of both units.
    shops.add_return(str(SHOP_RETURN), [("880001", skus[0], 1), ("880002", skus[1], 1)])
    return_body = shopify_return(SHOP_RETURN, SHOP_ORDER)
    line_template = return_body["return_line_items"][0]
    return_body["return_line_items"] = [
        {
            **line_template,
            "fulfillment_line_item": {"id": 770001 + n, "line_item": {"id": 880001 + n}},
            "quantity": 1,
        }
        for n in range(2)
    ]
    made = _post_webhook(bench, return_body, "returns/request", "e2e-return")
    assert made["status"] == "return_created", made
    code = made["return"]

    bench.scan("BADGE-P001", "screen batches green")
    bench.scan("PB:RETURNS", "Returns mode")
    bench.scan(code, f"green: Return of order {number} ({code})")
    bench.scan(unit_codes[0], "PB:RESTOCK, PB:BGRADE or PB:WRITEOFF")
    bench.scan("PB:RESTOCK", "restocked. Scan the next unit")
    bench.scan(unit_codes[1], "PB:RESTOCK, PB:BGRADE or PB:WRITEOFF")
    bench.scan("PB:WRITEOFF", "written off")
    bench.scan("PB:CLOSE", f"Return of order {number} closed: 1 restocked, 1 written off")

    def closed() -> bool:
        with sessions() as s:
            rma = s.scalar(select(Return).where(Return.code == code))
            return rma is not None and rma.status == "closed"

    _wait(closed, "the return closed on the service")

    def settled() -> bool:
        with sessions() as s:
            busy = s.scalar(
                select(func.count())
                .select_from(OutboundJob)
                .where(OutboundJob.status.in_(("pending", "running")))
            )
        return bool(shops.disposals) and not busy

    _wait(settled, "the dispose call and the stock publications")
    sent = sorted(
        (d["reverseFulfillmentOrderLineItemId"], d["dispositionType"], d["quantity"],
         d.get("locationId"))
        for call in shops.disposals for d in call
    )  # fmt: skip
    restocked, written_off = shops.shopify_returns[str(SHOP_RETURN)]
    assert sent == sorted(
        [
            (restocked["id"], "RESTOCKED", 1, LOCATION),
            (written_off["id"], "NOT_RESTOCKED", 1, None),
        ]
    )
    with sessions() as s:
        jobs = s.scalars(select(OutboundJob)).all()
        assert all(j.status == "done" for j in jobs), [
            (j.kind, j.status, j.last_error) for j in jobs
        ]
        assert {j.kind for j in jobs} >= {"return_dispose", "stock_publish"}
        assert check(s) == []
        for n, sku in enumerate(skus):
            pid = s.scalars(select(Product.id).where(Product.sku == sku)).one()
            available = level(s, pid, MAIN).available
            # 10 counted, one shipped, the first one restocked; the shop holds the same.
            assert available == (10 if n == 0 else 9), (sku, available)
            assert shops.inventory[(items[sku], LOCATION)] == available, sku
    engine.dispose()
