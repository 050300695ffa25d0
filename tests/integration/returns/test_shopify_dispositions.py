"""A Shopify return's dispositions go back to Shopify as a durable `return_dispose` job (the
real `packbench-service jobs run-due`): restock -> RESTOCKED at the channel's location,
B-grade and write-off -> NOT_RESTOCKED, missing -> MISSING, with the right quantities; once,
even after a crash between Shopify's answer and our commit; a shop that is down is retried,
then parked as dead with a reason and a `dispose_failed` exception. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.jobs.queue import RetryPolicy, claim
from service.models import (
    Channel,
    Order,
    OrderEvent,
    OrderException,
    OutboundJob,
    Product,
    ProductListing,
)
from service.returns.dispose import attempt_dispose, prepare_disposal
from service.secrets_store import put_secret
from service.stock.ledger import level
from service.stock.operations import adjust
from service.users import create_token
from tests.integration.ingest.conftest import seeded, shopify_post
from tests.integration.returns.conftest import ship
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.service_process import child_env, run_cli
from tests.support.shop_payloads import shopify_order, shopify_return

__all__ = ["seeded"]

MUG_LINE = "13954720612514"  # the fixture order's MUG-350-BLU line item (2 units)
LOCATION = "gid://shopify/Location/655441491"


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


@pytest.fixture
def env(
    seeded: sessionmaker[Session], shops: FakeShops, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "shopify:shop:token", "shpat-test")
    put_secret("shopify:shop:token", "shpat-test")  # for the calls made in this process
    with seeded() as s, s.begin():
        channel = s.scalars(select(Channel).where(Channel.name == "shop")).one()
        channel.settings = {
            **(channel.settings or {}),
            "shop_url": shops.url,
            "location_id": "655441491",
        }
    url = str(seeded.kw["bind"].url.render_as_string(hide_password=False))
    return child_env(keyring_file, url)


@pytest.fixture
def client(service_engine: Engine, seeded: sessionmaker[Session]) -> Iterator[TestClient]:
    from service.api.app import create_app

    with seeded() as s, s.begin():
        _row, token = create_token(s, role="operator", name="desk")
    with TestClient(create_app(service_engine)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def _shopify_return(
    client: TestClient, seeded: sessionmaker[Session], shops: FakeShops, n: int
) -> tuple[int, str]:
    """A shipped Shopify order and its Shopify return of 2 MUG-350-BLU; (order id, RMA code)."""
    order_id, return_id = 5940139491234 + n, 7293819834 + n
    r = shopify_post(client, shopify_order(order_id), webhook_id=f"order-{n}")
    assert r.status_code == 200, r.text
    with seeded() as s:
        ours = s.scalars(select(Order.id).where(Order.number == r.json()["order"])).one()
    ship(seeded, ours)
    shops.add_return(str(return_id), [(MUG_LINE, "MUG-350-BLU", 2)])
    r = shopify_post(
        client,
        shopify_return(return_id, order_id),
        topic="returns/request",
        webhook_id=f"ret-{n}",
    )
    assert r.json()["status"] == "return_created", r.text
    return ours, str(r.json()["return"])


def _book(client: TestClient, code: str, *dispositions: str, close: bool = True) -> None:
    for disposition in dispositions:
        r = client.post(
            f"/v1/returns/{code}/units",
            json={"sku": "MUG-350-BLU", "disposition": disposition},
        )
        assert r.status_code == 200, r.text
    if close:
        assert client.post(f"/v1/returns/{code}/close").status_code == 200


def _run_due(env: dict[str, str]) -> str:
    done = run_cli("jobs", "run-due", env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


def _jobs(seeded: sessionmaker[Session]) -> list[OutboundJob]:
    with seeded() as s:
        # In the order they were queued: without ORDER BY, PostgreSQL returns rows in heap order,
        # and an updated row may move (in a reused test schema it often does).
        query = select(OutboundJob).where(OutboundJob.kind == "return_dispose")
        return list(s.scalars(query.order_by(OutboundJob.id)))


def _events(seeded: sessionmaker[Session], order_id: int, kind: str) -> list[dict[str, Any]]:
    with seeded() as s:
        return [
            e.payload
            for e in s.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order_id, OrderEvent.type == kind)
            )
        ]


def _sent(shops: FakeShops) -> list[tuple[str, int, str | None]]:
    return sorted(
        (d["dispositionType"], d["quantity"], d.get("locationId"))
        for call in shops.disposals
        for d in call
    )


@pytest.mark.parametrize(
    ("booked", "expected"),
    [
        (("restock", "write_off"), [("NOT_RESTOCKED", 1, None), ("RESTOCKED", 1, LOCATION)]),
        (("restock", "restock"), [("RESTOCKED", 2, LOCATION)]),
        (("b_grade",), [("MISSING", 1, None), ("NOT_RESTOCKED", 1, None)]),  # one never came
    ],
)
def test_each_disposition_reaches_shopify_once(
    seeded: sessionmaker[Session],
    shops: FakeShops,
    env: dict[str, str],
    client: TestClient,
    booked: tuple[str, ...],
    expected: list[tuple[str, int, str | None]],
) -> None:
    order_id, code = _shopify_return(client, seeded, shops, 0)
    _book(client, code, *booked)
    (job,) = _jobs(seeded)  # one pending job per return, however many units were booked
    assert job.status == "pending" and job.payload == {"return_id": job.payload["return_id"]}
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert len(shops.disposals) == 1 and _sent(shops) == expected
    (item,) = shops.shopify_returns["7293819834"]
    assert sum(d["quantity"] for d in item["dispositions"]) == 2
    (event,) = _events(seeded, order_id, "return_disposed")
    assert event["return"] == code and len(event["disposed"]) == len(expected)
    assert event["unplaced"] == {}
    assert _run_due(env) == "Ran 0 job(s): 0 done, 0 to retry, 0 dead.\n"
    assert len(shops.disposals) == 1


def test_a_unit_booked_after_the_first_dispose_is_sent_alone(
    seeded: sessionmaker[Session], shops: FakeShops, env: dict[str, str], client: TestClient
) -> None:
    _order_id, code = _shopify_return(client, seeded, shops, 1)
    _book(client, code, "restock", close=False)
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    _book(client, code, "write_off")  # a new job: the first one is done
    assert [j.status for j in _jobs(seeded)] == ["done", "pending"]
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert [[(d["dispositionType"], d["quantity"]) for d in call] for call in shops.disposals] == [
        [("RESTOCKED", 1)],
        [("NOT_RESTOCKED", 1)],
    ]


def test_a_crash_after_shopify_disposed_does_not_dispose_twice(
    seeded: sessionmaker[Session], shops: FakeShops, env: dict[str, str], client: TestClient
) -> None:
    order_id, code = _shopify_return(client, seeded, shops, 2)
    _book(client, code, "restock", "b_grade")
    (job,) = _jobs(seeded)
    with seeded() as s, s.begin():
        held = claim(s, now=utcnow(), worker="crashed:1", policy=RetryPolicy(lease_seconds=1))
    assert [j.id for j in held] == [job.id]
    disposal = prepare_disposal(seeded, int(job.payload["return_id"]))
    assert disposal is not None
    with httpx.Client(timeout=5) as http:
        attempt_dispose(disposal, http)  # Shopify disposed; then the worker process died
    time.sleep(1.2)  # its lease runs out
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert len(shops.disposals) == 1
    assert _sent(shops) == [("NOT_RESTOCKED", 1, None), ("RESTOCKED", 1, LOCATION)]
    (event,) = _events(seeded, order_id, "return_disposed")
    assert event["already_disposed"] is True and event["disposed"] == []


def test_a_shop_that_is_down_is_retried_then_dead_with_a_reason(
    seeded: sessionmaker[Session], shops: FakeShops, env: dict[str, str], client: TestClient
) -> None:
    order_id, code = _shopify_return(client, seeded, shops, 3)
    _book(client, code, "restock", "write_off")
    env = {**env, "PACKBENCH_JOBS_MAX_ATTEMPTS": "2"}
    shops.fail_next = [503, 503]
    assert _run_due(env) == "Ran 1 job(s): 0 done, 1 to retry, 0 dead.\n"
    with seeded() as s, s.begin():  # the backoff has passed
        s.execute(update(OutboundJob).values(next_at=utcnow() - timedelta(seconds=1)))
    assert _run_due(env) == "Ran 1 job(s): 0 done, 0 to retry, 1 dead.\n"
    (job,) = _jobs(seeded)
    assert job.status == "dead" and job.attempts == 2
    assert job.last_error == f"dispositions of {code} to shop: shop answered 503"
    dead = run_cli("jobs", "list", "--dead", env=env)
    assert f"dispositions of {code} to shop: shop answered 503" in dead.stdout, dead.stdout
    r = client.get("/v1/exceptions", params={"kind": "returns"})
    (exc,) = r.json()
    assert exc["code"] == "dispose_failed" and code in exc["message"]
    assert "Dispose the return in Shopify" in exc["message"]
    assert shops.disposals == []
    (failed,) = _events(seeded, order_id, "return_dispose_failed")
    assert failed["attempts"] == 2

    assert run_cli("jobs", "retry", str(job.id), env=env).returncode == 0
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert _sent(shops) == [("NOT_RESTOCKED", 1, None), ("RESTOCKED", 1, LOCATION)]
    with seeded() as s:
        resolved = s.scalars(
            select(OrderException).where(OrderException.code == "dispose_failed")
        ).one()
        assert resolved.resolved_at is not None and resolved.resolved_by == "jobs"


def test_a_return_shopify_does_not_know_is_dead_at_once(
    seeded: sessionmaker[Session], shops: FakeShops, env: dict[str, str], client: TestClient
) -> None:
    _order_id, code = _shopify_return(client, seeded, shops, 4)
    del shops.shopify_returns["7293819838"]  # deleted in Shopify meanwhile
    _book(client, code, "restock", "restock")
    assert _run_due(env) == "Ran 1 job(s): 0 done, 0 to retry, 1 dead.\n"
    (job,) = _jobs(seeded)
    assert job.last_error == f"dispositions of {code} to shop: the shop has no return 7293819838"


def test_the_fake_refuses_what_shopify_refuses(shops: FakeShops) -> None:
    shops.add_return("1", [(MUG_LINE, "MUG-350-BLU", 2)])
    (item,) = shops.shopify_returns["1"]

    def dispose(*inputs: dict[str, Any]) -> list[dict[str, Any]]:
        r = httpx.post(
            f"{shops.url}/admin/api/2026-10/graphql.json",
            headers={"X-Shopify-Access-Token": "shpat-test"},
            json={
                "query": "mutation D($i: [ReverseFulfillmentOrderDisposeInput!]!) "
                "{ reverseFulfillmentOrderDispose(dispositionInputs: $i) { userErrors "
                "{ field message } } }",
                "variables": {"dispositionInputs": list(inputs)},
            },
        )
        errors: list[dict[str, Any]] = r.json()["data"]["reverseFulfillmentOrderDispose"][
            "userErrors"
        ]
        return errors

    one = {"reverseFulfillmentOrderLineItemId": item["id"], "dispositionType": "MISSING"}
    assert dispose({**one, "quantity": 3})[0]["field"][-1] == "quantity"
    unknown = {**one, "quantity": 1, "reverseFulfillmentOrderLineItemId": "gid://x/1"}
    assert "not found" in dispose(unknown)[0]["message"]
    assert dispose({**one, "quantity": 1, "dispositionType": "RESTOCKED"})[0]["field"][-1] == (
        "locationId"
    )
    # Checked as a whole: one bad input applies none of them.
    assert dispose({**one, "quantity": 1}, {**one, "quantity": 2})
    assert item["dispositions"] == [] and shops.disposals == []
    assert dispose({**one, "quantity": 2}) == []
    assert dispose({**one, "quantity": 1})[0]["field"][-1] == "quantity"  # nothing left


def test_a_restock_disposed_after_the_stock_was_sent_leaves_the_shop_on_the_ledger(
    seeded: sessionmaker[Session], shops: FakeShops, env: dict[str, str], client: TestClient
) -> None:
    """Shopify adds a RESTOCKED unit to its own count; the stock is then sent again."""
    item = "gid://shopify/InventoryItem/4242"
    shops.shopify_products["7001"] = [{"sku": "MUG-350-BLU", "inventory_item": item}]
    with seeded() as s, s.begin():
        shop = s.scalars(select(Channel).where(Channel.name == "shop")).one()
        mug = s.scalars(select(Product).where(Product.sku == "MUG-350-BLU")).one()
        s.add(ProductListing(channel_id=shop.id, shop_product_id="7001", product_id=mug.id))
        adjust(s, "MUG-350-BLU", quantity=10, reason="opening stock", actor="test")
        mug_id = mug.id
    _order_id, code = _shopify_return(client, seeded, shops, 5)
    _book(client, code, "restock", "write_off")
    with seeded() as s, s.begin():  # the dispose waits until the stock was sent
        s.execute(
            update(OutboundJob)
            .where(OutboundJob.kind == "return_dispose")
            .values(next_at=utcnow() + timedelta(hours=1))
        )
    _run_due(env)
    with seeded() as s:
        available = level(s, mug_id).available
    assert available == 9 and shops.inventory[(item, LOCATION)] == 9  # 10 - 2 shipped + 1 back
    with seeded() as s, s.begin():
        s.execute(update(OutboundJob).values(next_at=utcnow() - timedelta(seconds=1)))
    _run_due(env)  # the dispose: Shopify counts the restocked unit again (10)
    _run_due(env)  # the stock publication it queued
    assert _sent(shops) == [("NOT_RESTOCKED", 1, None), ("RESTOCKED", 1, LOCATION)]
    with seeded() as s:
        jobs = [(j.id, j.kind, j.status, j.last_error) for j in s.scalars(select(OutboundJob))]
    assert shops.inventory[(item, LOCATION)] == available, (jobs, shops.stock_sets)
