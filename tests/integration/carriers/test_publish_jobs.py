"""Publishing to shops as durable jobs: backoff on a clock the test sets, dead letters that
operators see, retry and dismiss, and nothing fulfilled twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.jobs.queue import RetryPolicy, claim, enqueue
from service.jobs.worker import run_due
from service.models import ApiToken, OrderEvent, OrderException, OutboundJob
from service.secrets_store import put_secret
from service.security import token_hash
from service.shipping.dispatch import close_day
from service.shipping.publish import (
    attempt_publication,
    enqueue_publications,
    prepare_publication,
)
from tests.integration.carriers.conftest import pack
from tests.support.fake_shops import FakeShops, running_fake_shops

T0 = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)  # the test's clock; never today's date
POLICY = RetryPolicy(base_seconds=60, max_delay_seconds=3600, max_attempts=3, lease_seconds=60)
TOKEN = "op-jobs-token"


@pytest.fixture
def shops() -> Iterator[FakeShops]:
    with running_fake_shops() as f:
        yield f


def _ship(
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    shops: FakeShops,
    *shop_ids: str,
    kind: str = "shopify",
) -> tuple[list[int], list[int]]:
    """Orders of a shop channel, packed, shipped and queued for publishing at T0."""
    if kind == "shopify":
        put_secret("shopify:myshop:token", "shpat-test")
        settings, channel = {"shop_url": shops.url}, "myshop"
    else:
        put_secret("woocommerce:woo:consumer_key", "ck")
        put_secret("woocommerce:woo:consumer_secret", "cs")
        settings, channel = {"base_url": shops.url}, "woo"
    orders = [
        make_order(channel=channel, kind=kind, settings=settings, channel_order_id=sid)
        for sid in shop_ids
    ]
    for oid in orders:
        pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        shipped = close_day(s, "house", actor="test").shipped_order_ids
        jobs = enqueue_publications(s, shipped, now=T0)
    return orders, jobs


def _pass(sessions: sessionmaker[Session], at: datetime, seed: int = 7) -> tuple[list[int], ...]:
    report = run_due(sessions, clock=lambda: at, policy=POLICY, rng=random.Random(seed))
    return report.done, report.retrying, report.dead


def _job(sessions: sessionmaker[Session], job_id: int) -> OutboundJob:
    with sessions() as s:
        return s.get_one(OutboundJob, job_id)


def _creates(shops: FakeShops) -> int:
    return sum(1 for _m, _p, body in shops.requests if "fulfillmentCreate(" in str(body))


def test_a_shop_that_is_down_is_retried_with_backoff_and_told_once(
    sessions: sessionmaker[Session], make_order: Callable[..., int], shops: FakeShops
) -> None:
    (oid,), (jid,) = _ship(sessions, make_order, shops, "900")
    shops.fail_next[:] = [503]
    assert _pass(sessions, T0) == ([], [jid], [])
    job = _job(sessions, jid)
    assert job.status == "pending" and job.attempts == 1
    assert job.last_error == "shop answered 503"
    assert T0 + timedelta(seconds=30) <= job.next_at <= T0 + timedelta(seconds=60)

    asked = len(shops.requests)
    assert _pass(sessions, T0 + timedelta(seconds=29)) == ([], [], [])  # not due yet
    assert len(shops.requests) == asked

    t1 = T0 + timedelta(seconds=61)
    shops.fail_next[:] = [429]
    assert _pass(sessions, t1) == ([], [jid], [])
    job = _job(sessions, jid)  # the second failure waits twice as long
    assert t1 + timedelta(seconds=60) <= job.next_at <= t1 + timedelta(seconds=120)

    assert _pass(sessions, t1 + timedelta(seconds=121)) == ([jid], [], [])
    job = _job(sessions, jid)
    assert job.status == "done" and job.attempts == 3 and job.last_error is None
    assert "900" in shops.fulfilled and _creates(shops) == 1
    with sessions() as s:
        (event,) = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == oid, OrderEvent.type == "fulfilment_published"
            )
        )
    assert event.payload["attempts"] == 3

    # Queued again (a second close, a retry by hand): the same job, and nothing is sent twice.
    with sessions() as s, s.begin():
        assert enqueue_publications(s, [oid], now=T0 + timedelta(days=1)) == [jid]
    assert _pass(sessions, T0 + timedelta(days=1)) == ([], [], [])
    assert _creates(shops) == 1


def test_a_job_that_keeps_failing_is_dead_visible_and_retried_by_an_operator(
    service_engine: Engine,
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    shops: FakeShops,
) -> None:
    (down, gone), (jid, gone_jid) = _ship(sessions, make_order, shops, "910", "911")
    shops.unknown_orders.add("911")  # a refusal: dead at once, never retried
    shops.fail_next[:] = [503]
    done, retrying, dead = _pass(sessions, T0)
    assert (done, retrying, dead) == ([], [jid], [gone_jid])
    now = T0
    for _ in range(2):
        now = _job(sessions, jid).next_at
        shops.fail_next[:] = [502]
        _pass(sessions, now)
    job = _job(sessions, jid)
    assert job.status == "dead" and job.attempts == 3 and job.last_error == "shop answered 502"
    with sessions() as s:
        codes = {
            (e.order_id, e.code, e.resolved_at is None)
            for e in s.scalars(select(OrderException).where(OrderException.kind == "publish"))
        }
    assert codes == {
        (down, "fulfilment_not_published", True),
        (gone, "fulfilment_not_published", True),
    }

    with sessions() as s, s.begin():
        s.add(ApiToken(token_hash=token_hash(TOKEN), role="operator", name="desk"))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(service_engine)) as api:
        assert api.get("/v1/jobs?status=dead").status_code == 401
        listed = api.get("/v1/jobs", params={"status": "dead"}, headers=auth).json()
        errors = {j["id"]: j["last_error"] for j in listed}
        assert set(errors) == {jid, gone_jid}
        assert errors[jid] == "shop answered 502"
        assert errors[gone_jid] == "the shop has no order 911"
        again = api.post(f"/v1/jobs/{jid}/retry", headers=auth)
        assert again.status_code == 200 and again.json()["status"] == "pending"
        assert api.post(f"/v1/jobs/{jid}/retry", headers=auth).status_code == 409
        assert api.post("/v1/jobs/99999/retry", headers=auth).status_code == 404
        refused = api.post(f"/v1/jobs/{gone_jid}/dismiss", json={"reason": ""}, headers=auth)
        assert refused.status_code == 422
        dismissed = api.post(
            f"/v1/jobs/{gone_jid}/dismiss",
            json={"reason": "order was deleted in the shop"},
            headers=auth,
        ).json()
        assert dismissed["status"] == "dismissed" and dismissed["dismissed_by"] == "operator:desk"

    later = _job(sessions, jid).next_at
    assert _pass(sessions, later) == ([jid], [], [])
    assert "910" in shops.fulfilled and "911" not in shops.fulfilled
    with sessions() as s:
        exc = s.scalars(select(OrderException).where(OrderException.order_id == down)).one()
        assert exc.resolved_at is not None and exc.resolved_by == "jobs"


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_a_worker_that_died_after_the_shop_accepted_does_not_fulfil_twice(
    sessions: sessionmaker[Session], make_order: Callable[..., int], shops: FakeShops, kind: str
) -> None:
    (oid,), (jid,) = _ship(sessions, make_order, shops, "920", kind=kind)
    with sessions() as s, s.begin():
        (held,) = claim(s, now=T0, worker="crashed:1", policy=POLICY)
    assert held.id == jid
    pub = prepare_publication(sessions, oid)
    assert pub is not None
    with httpx.Client(timeout=5) as client:
        attempt_publication(pub, client)  # the shop took it; then the worker process died
    assert _pass(sessions, T0 + timedelta(seconds=59)) == ([], [], [])  # its lease still holds
    assert _pass(sessions, T0 + timedelta(seconds=61)) == ([jid], [], [])
    job = _job(sessions, jid)
    assert job.status == "done" and job.attempts == 2
    if kind == "shopify":
        assert _creates(shops) == 1
    else:
        woo = shops.woo_orders["920"]
        assert woo["status"] == "completed" and len(woo["notes"]) == 1
    with sessions() as s:
        (event,) = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == oid, OrderEvent.type == "fulfilment_published"
            )
        )
    assert event.payload["already_fulfilled"] is True


def test_two_workers_never_hold_the_same_job(
    service_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        ids = {enqueue(s, "publish", now=T0, dedupe_key=f"k{i}").id for i in range(4)}
    first = sessions()
    first.begin()
    mine = {j.id for j in claim(first, now=T0, worker="a", policy=POLICY, limit=2)}
    if service_engine.dialect.name == "postgresql":
        # The first worker has not committed: its rows are locked and skipped, not waited for.
        with sessions() as s, s.begin():
            theirs = {j.id for j in claim(s, now=T0, worker="b", policy=POLICY)}
        first.commit()
    else:
        first.commit()  # SQLite has one writer at a time: the second claims after the first
        with sessions() as s, s.begin():
            theirs = {j.id for j in claim(s, now=T0, worker="b", policy=POLICY)}
    first.close()
    assert len(mine) == 2 and len(theirs) == 2
    assert mine | theirs == ids and not mine & theirs
