"""A closed return of a WooCommerce order is refunded through the shop by a durable `refund`
job (the real `packbench-service jobs run-due`): the right amount and lines, once, even after
a crash between the shop's answer and our commit; a refusal leaves a visible exception. And a
packed order cancelled before dispatch puts its units back when the parcel is unpacked at the
returns bench. SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.ingest.model import NormalisedLine
from service.ingest.rows import IngestResult
from service.ingest.store import run_in_transaction, upsert_order
from service.jobs.queue import RetryPolicy, claim
from service.lifecycle import OrderStatus, transition
from service.models import (
    Channel,
    Order,
    OrderEvent,
    OrderException,
    OutboundJob,
    Product,
)
from service.returns.refunds import attempt_refund, prepare_refund
from service.secrets_store import put_secret
from service.stock.allocation import consume_order
from service.stock.ledger import check, level
from tests.integration.returns.conftest import ship
from tests.integration.stock.conftest import ingest, normalised, stocked
from tests.support import factories
from tests.support.fake_shops import FakeShops, running_fake_shops
from tests.support.keyrings import FileKeyring
from tests.support.service_process import child_env, run_cli

__all__ = ["ingest", "stocked"]

_shop_ids = itertools.count(7301)


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


@pytest.fixture
def env(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyring_file))
    FileKeyring().set_password("packbench-service", "woocommerce:woo:consumer_key", "ck")
    FileKeyring().set_password("packbench-service", "woocommerce:woo:consumer_secret", "cs")
    put_secret("woocommerce:woo:consumer_key", "ck")  # for the calls made in this process
    put_secret("woocommerce:woo:consumer_secret", "cs")
    with stocked() as s, s.begin():
        factories.channel(s, "woo", "woocommerce", {"base_url": shops.url})
    url = str(stocked.kw["bind"].url.render_as_string(hide_password=False))
    return child_env(keyring_file, url)


def _woo_order(stocked: sessionmaker[Session], shops: FakeShops) -> tuple[int, str, str]:
    """A shipped WooCommerce order: 3 MUG at 12.00 (7.20 tax on the line), 1 PLATE at 20.00;
    (order id, order number, the shop's order id)."""
    shop_id = str(next(_shop_ids))
    shops.woo_orders[shop_id] = {"status": "completed", "notes": [], "total": "64.00"}
    lines = (
        NormalisedLine(
            sku="MUG",
            quantity=3,
            unit_price=Decimal("12.00"),
            tax=Decimal("7.20"),
            channel_line_id="501",
        ),
        NormalisedLine(sku="PLATE", quantity=1, unit_price=Decimal("20.00"), channel_line_id="502"),
    )
    incoming = normalised({"MUG": 3}, ref=shop_id).model_copy(update={"lines": lines})
    with stocked() as s:
        channel = s.scalars(select(Channel).where(Channel.name == "woo")).one()
        s.rollback()
        result = run_in_transaction(s, lambda tx: upsert_order(tx, channel, incoming, actor="test"))
    assert result.order_id is not None
    ship(stocked, result.order_id)
    with stocked() as s:
        number = s.get_one(Order, result.order_id).number
    return result.order_id, number, shop_id


def _return_closed(client: TestClient, number: str) -> str:
    """Restock one MUG, one MUG to B-grade (damaged), the PLATE written off as not ours."""
    r = client.post(
        "/v1/returns",
        json={
            "order": number,
            "lines": [{"sku": "MUG", "quantity": 2}, {"sku": "PLATE", "quantity": 1}],
            "reason": "too big",
        },
    )
    assert r.status_code == 201, r.text
    code = str(r.json()["code"])
    for sku, disposition, reason in (
        ("MUG", "restock", None),
        ("MUG", "b_grade", "damaged"),
        ("PLATE", "write_off", "not_ours"),
    ):
        r = client.post(
            f"/v1/returns/{code}/units",
            json={"sku": sku, "disposition": disposition, "reason": reason},
        )
        assert r.status_code == 200, r.text
    assert client.post(f"/v1/returns/{code}/close").json()["status"] == "closed"
    return code


def _refund_job(stocked: sessionmaker[Session]) -> OutboundJob:
    with stocked() as s:
        return s.scalars(select(OutboundJob).where(OutboundJob.kind == "refund")).one()


def _run_due(env: dict[str, str]) -> str:
    done = run_cli("jobs", "run-due", env=env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


def _posts(shops: FakeShops) -> list[dict[str, object]]:
    return [b for m, p, b in shops.requests if m == "POST" and p.endswith("/refunds")]


def test_a_closed_return_is_refunded_once_with_its_units(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    env: dict[str, str],
    operator_client: TestClient,
) -> None:
    order_id, number, shop_id = _woo_order(stocked, shops)
    code = _return_closed(operator_client, number)
    assert _refund_job(stocked).status == "pending"
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    (body,) = _posts(shops)
    assert body == {
        "amount": "28.80",  # 2 x 12.00 and 2/3 of the line's 7.20 tax; PLATE is not ours
        "reason": f"Return {code} received at the warehouse",
        "line_items": [{"id": 501, "quantity": 2, "refund_total": "24.00"}],
        "meta_data": [{"key": "_packbench_return", "value": code}],
        "api_refund": True,
        "api_restock": False,
    }
    (refund,) = shops.woo_orders[shop_id]["refunds"]
    with stocked() as s:
        (event,) = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "return_refunded"
            )
        )
        assert event.payload["refund_id"] == refund["id"] and event.payload["amount"] == "28.80"
        assert event.actor == "jobs"
    assert _run_due(env) == "Ran 0 job(s): 0 done, 0 to retry, 0 dead.\n"
    assert len(_posts(shops)) == 1


def test_a_crash_after_the_shop_refunded_does_not_refund_twice(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    env: dict[str, str],
    operator_client: TestClient,
) -> None:
    order_id, number, shop_id = _woo_order(stocked, shops)
    _return_closed(operator_client, number)
    job = _refund_job(stocked)
    with stocked() as s, s.begin():
        held = claim(s, now=utcnow(), worker="crashed:1", policy=RetryPolicy(lease_seconds=1))
    assert [j.id for j in held] == [job.id]
    refund = prepare_refund(stocked, int(job.payload["return_id"]))
    assert refund is not None
    with httpx.Client(timeout=5) as client:
        attempt_refund(refund, client)  # the shop refunded; then the worker process died
    time.sleep(1.2)  # its lease runs out
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert len(_posts(shops)) == 1 and len(shops.woo_orders[shop_id]["refunds"]) == 1
    with stocked() as s:
        (event,) = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "return_refunded"
            )
        )
    assert event.payload["already_refunded"] is True


def test_a_refused_refund_leaves_a_visible_exception_until_a_retry_works(
    stocked: sessionmaker[Session],
    shops: FakeShops,
    env: dict[str, str],
    operator_client: TestClient,
) -> None:
    order_id, number, shop_id = _woo_order(stocked, shops)
    shops.woo_orders[shop_id]["total"] = "10.00"  # refunded elsewhere: less is left than asked
    code = _return_closed(operator_client, number)
    env = {**env, "PACKBENCH_JOBS_MAX_ATTEMPTS": "1"}
    assert _run_due(env) == "Ran 1 job(s): 0 done, 0 to retry, 1 dead.\n"
    job = _refund_job(stocked)
    assert job.status == "dead" and job.last_error == "shop answered 500"
    r = operator_client.get("/v1/exceptions", params={"kind": "refund"})
    assert r.status_code == 200, r.text
    (exc,) = r.json()
    assert exc["code"] == "refund_failed" and code in exc["message"]
    assert "Refund it in the shop" in exc["message"]
    assert shops.woo_orders[shop_id]["refunds"] == []

    shops.woo_orders[shop_id]["total"] = "64.00"
    assert run_cli("jobs", "retry", str(job.id), env=env).returncode == 0
    assert _run_due(env) == "Ran 1 job(s): 1 done, 0 to retry, 0 dead.\n"
    assert len(shops.woo_orders[shop_id]["refunds"]) == 1
    with stocked() as s:
        resolved = s.scalars(
            select(OrderException).where(OrderException.order_id == order_id)
        ).one()
        assert resolved.resolved_at is not None and resolved.resolved_by == "jobs"


def test_a_packed_order_cancelled_gets_its_units_back_when_unpacked_at_the_bench(
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    operator_client: TestClient,
) -> None:
    result = ingest(normalised({"MUG": 2, "PLATE": 1}))
    order_id = result.order_id
    with stocked() as s, s.begin():
        order = s.get_one(Order, order_id)
        for step in (OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED):
            transition(s, order, step, actor="test")
        consume_order(s, order, actor="test")
        number = order.number

    def on_hand(sku: str) -> int:
        with stocked() as s:
            pid = s.scalars(select(Product.id).where(Product.sku == sku)).one()
            return level(s, pid).on_hand

    assert (on_hand("MUG"), on_hand("PLATE")) == (8, 2)
    r = operator_client.post(
        f"/v1/orders/{order_id}/transition", json={"to": "cancelled", "reason": "customer called"}
    )
    assert r.status_code == 200, r.text
    # The units are in the parcel, not on the shelf: a person is told to unpack it.
    assert (on_hand("MUG"), on_hand("PLATE")) == (8, 2)
    (notice,) = operator_client.get("/v1/exceptions", params={"kind": "stock"}).json()
    assert notice["code"] == "unpack_cancelled" and number in notice["message"]
    assert "returns bench" in notice["message"]
    r = operator_client.post(
        f"/v1/orders/{order_id}/transition", json={"to": "cancelled", "reason": "again"}
    )
    assert r.status_code == 409  # already cancelled; no second notice either

    r = operator_client.post(
        "/v1/returns",
        json={
            "order": number,
            "lines": [{"sku": "MUG", "quantity": 2}, {"sku": "PLATE", "quantity": 1}],
            "reason": "cancelled after packing",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    for sku in ("MUG", "MUG", "PLATE"):
        r = operator_client.post(
            f"/v1/returns/{code}/units", json={"sku": sku, "disposition": "restock"}
        )
        assert r.status_code == 200, r.text
    assert operator_client.post(f"/v1/returns/{code}/close").status_code == 200
    assert (on_hand("MUG"), on_hand("PLATE")) == (10, 3)
    assert operator_client.get("/v1/exceptions", params={"kind": "stock"}).json() == []
    with stocked() as s:
        assert check(s) == []
        assert s.get_one(Order, order_id).status == "cancelled"

    # A cancelled order that was never packed has nothing to unpack.
    never = ingest(normalised({"MUG": 1}))
    r = operator_client.post(
        f"/v1/orders/{never.order_id}/transition", json={"to": "cancelled", "reason": "x"}
    )
    assert r.status_code == 200
    with stocked() as s:
        never_number = s.get_one(Order, never.order_id).number
    r = operator_client.post(
        "/v1/returns",
        json={"order": never_number, "lines": [{"sku": "MUG", "quantity": 1}], "reason": "x"},
    )
    assert r.status_code == 409 and "never shipped" in r.json()["message"]
