"""A Shopify return webhook creates an RMA; a station looks the parcel up by any code on it
and pushes units and the close through the outbox path, exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.model import NormalisedOrder
from service.ingest.rows import IngestResult
from service.models import Order, Return, ReturnUnit, WebhookReceipt
from service.stock.ledger import check
from tests.integration.ingest.conftest import seeded, shopify_post
from tests.integration.returns.conftest import ship
from tests.integration.stock.conftest import normalised
from tests.integration.sync_server.conftest import enroll_station, mutation, push
from tests.support.shop_payloads import shopify_order, shopify_return

__all__ = ["seeded"]


@pytest.fixture
def client(service_engine: Engine) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(service_engine)) as c:
        yield c


def test_a_shopify_return_request_becomes_an_rma_once(
    client: TestClient, seeded: sessionmaker[Session]
) -> None:
    r = shopify_post(client, shopify_order(), webhook_id="order-1")
    assert r.status_code == 200, r.text
    with seeded() as s:
        order_id = s.scalar(select(Order.id).where(Order.number == r.json()["order"]))
    assert order_id is not None
    # Not shipped yet: the shop hears why, and nothing is recorded.
    r = shopify_post(client, shopify_return(), topic="returns/request", webhook_id="ret-0")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "return_refused"
    assert "was never shipped" in r.json()["message"]

    ship(seeded, order_id)
    r = shopify_post(client, shopify_return(), topic="returns/request", webhook_id="ret-1")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "return_created"
    code = r.json()["return"]
    # The same delivery again, and the approval of the same return: no second RMA.
    again = shopify_post(client, shopify_return(), topic="returns/request", webhook_id="ret-1")
    assert again.json()["status"] == "duplicate"
    approve = shopify_post(client, shopify_return(), topic="returns/approve", webhook_id="ret-2")
    assert approve.json() == {"status": "return_known", "return": code}
    malformed = shopify_post(client, {"id": 5}, topic="returns/request", webhook_id="ret-9")
    assert malformed.status_code == 422 and "order" in malformed.json()["message"]
    unknown = shopify_post(
        client, shopify_return(order_id=1), topic="returns/request", webhook_id="ret-3"
    )
    assert unknown.json() == {"status": "unknown_order"}
    with seeded() as s:
        rma = s.scalar(select(Return))
        assert rma is not None and rma.code == code and rma.source == "shopify"
        assert [(li.sku, li.quantity) for li in rma.lines] == [("MUG-350-BLU", 2)]
        assert "defective Handle came off" in rma.reason
        outcomes = s.scalars(select(WebhookReceipt.outcome).order_by(WebhookReceipt.id)).all()
        assert outcomes[1:] == ["return_refused", "return_created", "return_known", "unknown_order"]


def test_the_bench_finds_the_parcel_by_any_code_and_books_units_in_exactly_once(
    client: TestClient,
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"MUG": 2, "PLATE": 1}, tracking="JJD0099887766")
    never = ingest(normalised_order())
    station = enroll_station(client, stocked, "returns-bench")
    lookups = {
        code: client.get("/v1/returns/lookup", params={"code": code}, headers=station.headers)
        for code in (order.number, "JJD0099887766", "RMA-999999", str(never.number))
    }
    assert lookups[order.number].status_code == 200
    assert lookups[order.number].json() == lookups["JJD0099887766"].json()
    info = lookups[order.number].json()
    assert info["return_code"] is None
    assert [(li["sku"], li["shipped"], li["returned"]) for li in info["lines"]] == [
        ("MUG", 2, 0),
        ("PLATE", 1, 0),
    ]
    assert lookups["RMA-999999"].status_code == 409
    assert lookups["RMA-999999"].json()["message"] == "There is no return RMA-999999."
    assert "was never shipped" in lookups[str(never.number)].json()["message"]

    mug, plate = (li["line_id"] for li in info["lines"])
    oid = order.order_id
    unit = mutation(1, "return_unit_received", oid, None, line_id=mug, disposition="restock")
    r = push(client, station, unit)
    assert r.json()["results"][0]["status"] == "applied", r.text
    code = r.json()["results"][0]["result"]["return_code"]
    assert push(client, station, unit).json()["results"][0]["status"] == "applied"  # a retry
    bad = [
        mutation(2, "return_unit_received", oid, None, line_id=999999, disposition="restock"),
        mutation(3, "return_unit_received", oid, None, line_id=plate, disposition="missing"),
    ]
    for result in push(client, station, *bad).json()["results"]:
        assert result["status"] == "rejected" and result["reason"] == "return_refused"
    r = push(
        client,
        station,
        mutation(
            4,
            "return_unit_received",
            oid,
            None,
            line_id=mug,
            disposition="write_off",
            reason="damaged",
        ),
        mutation(5, "return_unit_received", oid, None, line_id=mug, disposition="restock"),
        mutation(6, "return_closed", oid, None, return_code=code),
    )
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied", "rejected", "applied"], results
    assert "all of them are already back" in results[1]["message"]
    assert results[2]["result"]["return_status"] == "closed"
    with stocked() as s:
        units = s.scalars(select(ReturnUnit.disposition).order_by(ReturnUnit.id)).all()
        assert units == ["restock", "write_off"]  # unannounced: nothing expected, none missing
        assert check(s) == []
        shipped_order = s.get(Order, oid)
        assert shipped_order is not None and shipped_order.status == "shipped"  # PLATE not back
        assert s.scalar(select(func.count()).select_from(Return)) == 1


def normalised_order() -> NormalisedOrder:
    """An order that is taken in but never shipped."""
    return normalised({"MUG": 1})


def test_a_unit_restocked_at_the_bench_serves_a_backorder(
    client: TestClient,
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"PLATE": 3})
    waiting = ingest(normalised({"PLATE": 1}))
    assert waiting.status == "backorder"
    station = enroll_station(client, stocked, "returns-bench")
    info = client.get("/v1/returns/lookup", params={"code": order.number}, headers=station.headers)
    line_id = info.json()["lines"][0]["line_id"]
    unit = mutation(
        1, "return_unit_received", order.order_id, None, line_id=line_id, disposition="restock"
    )
    assert push(client, station, unit).json()["results"][0]["status"] == "applied"
    with stocked() as s:
        again = s.get(Order, waiting.order_id)
        assert again is not None and again.status == "confirmed"
        assert check(s) == []
