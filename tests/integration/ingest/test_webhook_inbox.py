"""The webhook inbox: a busy service stores checked deliveries and applies them later, in
order, once each, and keeps what it cannot apply (both databases)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.errors import ServiceError
from service.ingest import inbox as inbox_module
from service.ingest import store
from service.ingest.inbox import BATCH, Inbox, apply_due, claim, requeue_failed
from service.ingest.webhooks import receive, sign
from service.models import Order, OrderEvent, WebhookReceipt
from tests.integration.ingest.conftest import SHOP_SECRET, WOO_SECRET, count, shopify_post
from tests.support.shop_payloads import shopify_order, woo_order


class HeldInbox(Inbox):
    """An inbox whose thread is not started: the test applies what it queued, step by step."""

    @property
    def running(self) -> bool:
        return True


def _shopify(
    sessions: sessionmaker[Session],
    inbox: Inbox | None,
    payload: dict[str, Any],
    delivery: str,
    topic: str = "orders/create",
    secret: str = SHOP_SECRET,
) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    headers = {
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": sign(secret, body),
        "x-shopify-webhook-id": delivery,
    }
    return receive(sessions, "shopify", "shop", headers, body, inbox=inbox)


def _receipts(sessions: sessionmaker[Session]) -> list[WebhookReceipt]:
    with sessions() as s:
        return list(s.scalars(select(WebhookReceipt).order_by(WebhookReceipt.id)))


def _drain(sessions: sessionmaker[Session], batch: int = BATCH) -> int:
    applied = 0
    while done := apply_due(sessions, batch):
        applied += done
    return applied


def test_a_busy_service_queues_the_checked_delivery_and_applies_it_once(
    seeded: sessionmaker[Session],
) -> None:
    busy = HeldInbox(seeded, inline=0)
    assert _shopify(seeded, busy, shopify_order(501), "d-501") == {"status": "queued"}
    assert count(seeded, Order) == 0
    [queued] = _receipts(seeded)
    assert (queued.outcome, queued.channel_order_id, queued.order_id) == ("queued", "501", None)
    assert queued.body is not None and json.loads(queued.body)["id"] == 501

    # The same delivery again, while queued and once applied: answered, never applied twice.
    again = _shopify(seeded, busy, shopify_order(501), "d-501")
    assert again == {"status": "duplicate", "outcome": "queued"}
    assert _drain(seeded) == 1
    assert _shopify(seeded, busy, shopify_order(501), "d-501")["outcome"] == "created"
    assert _shopify(seeded, None, shopify_order(501), "d-501")["outcome"] == "created"

    [applied] = _receipts(seeded)
    assert (applied.outcome, applied.body, applied.error) == ("created", None, None)
    with seeded() as s:
        order = s.scalars(select(Order)).one()
        assert (order.channel_order_id, order.status, order.id) == (
            "501",
            "confirmed",
            applied.order_id,
        )
        # Checked without its phone numbers when queued, read whole when applied.
        assert order.phone == "+4930901820"
        created = s.scalars(select(OrderEvent).where(OrderEvent.type == "created")).all()
        assert [e.actor for e in created] == ["webhook:shop"]
    assert count(seeded, Order) == 1
    assert apply_due(seeded) == 0


def test_bad_deliveries_are_refused_at_once_and_nothing_is_queued(
    seeded: sessionmaker[Session],
) -> None:
    busy = HeldInbox(seeded, inline=0)
    no_lines = shopify_order(502, line_items=[])
    with pytest.raises(ServiceError) as refused:
        _shopify(seeded, busy, no_lines, "d-502")
    assert refused.value.http_status == 422 and "line" in refused.value.message
    with pytest.raises(ServiceError) as forged:
        _shopify(seeded, busy, shopify_order(503), "d-503", secret="not the secret")
    assert forged.value.http_status == 401
    assert _receipts(seeded) == []
    # Topics that are not an order's are never queued.
    ignored = _shopify(seeded, busy, shopify_order(504), "d-504", topic="customers/create")
    assert ignored["status"] == "ignored"
    assert [r.outcome for r in _receipts(seeded)] == ["ignored_topic"]


def test_one_orders_deliveries_are_applied_in_the_order_they_came(
    seeded: sessionmaker[Session],
) -> None:
    busy = HeldInbox(seeded, inline=0)
    created = shopify_order(505, updated_at="2026-12-05T10:00:00+01:00")
    moved = shopify_order(
        505,
        updated_at="2026-12-05T10:05:00+01:00",
        shipping_address={**created["shipping_address"], "city": "Potsdam"},
    )
    cancelled = shopify_order(
        505, updated_at="2026-12-05T10:09:00+01:00", cancelled_at="2026-12-05T10:09:00+01:00"
    )
    assert _shopify(seeded, busy, created, "d-a")["status"] == "queued"
    # A free inline slot does not let a later delivery of the same order overtake it.
    idle = HeldInbox(seeded, inline=1)
    assert _shopify(seeded, idle, moved, "d-b", "orders/updated")["status"] == "queued"
    assert _shopify(seeded, idle, cancelled, "d-c", "orders/cancelled")["status"] == "queued"
    # Nor does another order's: while any delivery waits, new ones queue behind it.
    assert _shopify(seeded, idle, shopify_order(506), "d-d")["status"] == "queued"
    assert idle.backlogged

    assert _drain(seeded) == 4
    outcomes = {r.webhook_id: r.outcome for r in _receipts(seeded)}
    assert outcomes == {"d-a": "created", "d-b": "updated", "d-c": "cancelled", "d-d": "created"}
    with seeded() as s:
        order = s.scalars(select(Order).where(Order.channel_order_id == "505")).one()
        assert (order.status, order.ship_city) == ("cancelled", "Potsdam")


def test_a_woocommerce_delete_waits_behind_the_create_it_cancels(
    seeded: sessionmaker[Session],
) -> None:
    busy = HeldInbox(seeded, inline=0)

    def woo(payload: dict[str, Any], topic: str, delivery: str) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        headers = {
            "x-wc-webhook-topic": topic,
            "x-wc-webhook-signature": sign(WOO_SECRET, body),
            "x-wc-webhook-delivery-id": delivery,
        }
        return receive(seeded, "woocommerce", "woo", headers, body, inbox=busy)

    assert woo(woo_order(731), "order.created", "w-1")["status"] == "queued"
    assert woo({"id": 731}, "order.deleted", "w-2")["status"] == "queued"
    assert _drain(seeded) == 2
    assert [r.outcome for r in _receipts(seeded)] == ["created", "cancelled"]


def test_a_delivery_that_cannot_be_applied_is_kept_failed_and_can_be_retried(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = HeldInbox(seeded, inline=0)
    for n in (507, 508):
        assert _shopify(seeded, busy, shopify_order(n), f"d-{n}")["status"] == "queued"
    real = store.upsert_order

    def broken_for_507(session: Session, channel: Any, incoming: Any, **kw: Any) -> Any:
        if incoming.channel_order_id == "507":
            raise RuntimeError("disk on fire")
        return real(session, channel, incoming, **kw)

    monkeypatch.setattr("service.ingest.webhooks.upsert_order", broken_for_507)
    assert _drain(seeded) == 2
    first, second = _receipts(seeded)
    assert (first.outcome, first.error) == ("failed", "RuntimeError: disk on fire")
    assert first.body is not None  # kept for the retry
    assert second.outcome == "created"  # not held up by the failed one
    assert count(seeded, Order) == 1

    monkeypatch.setattr("service.ingest.webhooks.upsert_order", real)
    with seeded() as s, s.begin():
        assert requeue_failed(s) == 1
    assert _drain(seeded) == 1
    assert [r.outcome for r in _receipts(seeded)] == ["created", "created"]
    assert count(seeded, Order) == 2


def test_a_database_error_mid_apply_leaves_the_delivery_queued(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = HeldInbox(seeded, inline=0)
    assert _shopify(seeded, busy, shopify_order(509), "d-509")["status"] == "queued"
    real = inbox_module.mark_applied

    def connection_lost(*args: Any) -> None:
        raise OperationalError("UPDATE webhook_receipts", {}, Exception("server closed"))

    monkeypatch.setattr("service.ingest.webhooks.mark_applied", connection_lost)
    with pytest.raises(OperationalError):
        apply_due(seeded)
    # The order written before the error went with the rolled-back transaction.
    assert count(seeded, Order) == 0
    assert [r.outcome for r in _receipts(seeded)] == ["queued"]
    monkeypatch.setattr("service.ingest.webhooks.mark_applied", real)
    assert _drain(seeded) == 1
    assert count(seeded, Order) == 1


def test_two_appliers_apply_each_delivery_once_and_each_order_in_order(
    seeded: sessionmaker[Session],
) -> None:
    busy = HeldInbox(seeded, inline=0)
    orders, versions = 8, 4
    address = shopify_order()["shipping_address"]
    for v in range(versions):
        for n in range(orders):
            payload = shopify_order(
                600 + n,
                updated_at=f"2026-12-05T10:0{v}:00+00:00",
                shipping_address={**address, "city": f"City {v}"},
            )
            topic = "orders/create" if v == 0 else "orders/updated"
            assert _shopify(seeded, busy, payload, f"d-{n}-{v}", topic)["status"] == "queued"
    errors: list[BaseException] = []

    def applier() -> None:
        try:
            _drain(seeded, batch=3)
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=applier) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    receipts = _receipts(seeded)
    assert len(receipts) == orders * versions
    by_delivery = {r.webhook_id: r.outcome for r in receipts}
    # In order: each create first, then every update applied (an update applied before a
    # newer one would be "updated" then the older "stale"; a create after an update, two).
    for n in range(orders):
        assert by_delivery[f"d-{n}-0"] == "created"
        assert [by_delivery[f"d-{n}-{v}"] for v in range(1, versions)] == ["updated"] * 3
    with seeded() as s:
        assert set(s.scalars(select(Order.ship_city))) == {f"City {versions - 1}"}
    assert count(seeded, Order) == orders


@pytest.mark.pg
def test_a_later_delivery_waits_while_another_process_holds_its_orders_first(
    service_engine: Engine, seeded: sessionmaker[Session]
) -> None:
    if service_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: no second applier can hold a delivery")
    busy = HeldInbox(seeded, inline=0)
    for delivery, n, topic in (("k-1", 540, "orders/create"), ("k-2", 540, "orders/updated")):
        assert _shopify(seeded, busy, shopify_order(n), delivery, topic)["status"] == "queued"
    assert _shopify(seeded, busy, shopify_order(541), "other")["status"] == "queued"
    with seeded() as holder, holder.begin():
        [held] = claim(holder, batch=1)  # another process, mid-way through the first
        assert held.webhook_id == "k-1"
        # This one gets neither of order 540's deliveries, only the other order's.
        assert apply_due(seeded) == 1
        outcomes = {r.webhook_id: r.outcome for r in _receipts(seeded)}
        assert outcomes == {"k-1": "queued", "k-2": "queued", "other": "created"}
    # The holder gave up (rolled back): both are applied, in order.
    assert _drain(seeded) == 2
    outcomes = {r.webhook_id: r.outcome for r in _receipts(seeded)}
    assert outcomes == {"k-1": "created", "k-2": "unchanged", "other": "created"}


@pytest.mark.parametrize("warm", [False, True], ids=["channel-not-cached", "channel-cached"])
def test_a_busy_process_answers_alike_whether_its_channel_is_cached_or_not(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, warm: bool
) -> None:
    # Once its channel is cached, a delivery to be queued is checked and stored on a plain
    # connection, without an ORM session (the busy service's cheap answer); anything that
    # is not a fresh, valid order delivery takes the full path. The answers must not differ.
    from service.ingest.webhooks import forget_cached_channels

    forget_cached_channels()
    busy = HeldInbox(seeded, inline=0)
    if warm:
        assert _shopify(seeded, busy, shopify_order(520), "d-520") == {"status": "queued"}
    opened: list[Session] = []

    class Counted(seeded.class_):  # type: ignore[name-defined,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(seeded, "class_", Counted)

    assert _shopify(seeded, busy, shopify_order(521), "d-521") == {"status": "queued"}
    assert len(opened) == (0 if warm else 1)
    # The same delivery id again answers what it was, whatever the body now carries.
    again = {"status": "duplicate", "outcome": "queued"}
    assert _shopify(seeded, busy, shopify_order(521), "d-521") == again
    assert _shopify(seeded, busy, shopify_order(521, line_items=[]), "d-521") == again
    # A new delivery that makes no order, or is forged, is refused and stores nothing.
    with pytest.raises(ServiceError) as refused:
        _shopify(seeded, busy, shopify_order(522, line_items=[]), "d-522")
    assert refused.value.http_status == 422
    with pytest.raises(ServiceError) as refused:
        _shopify(seeded, busy, shopify_order(523), "d-523", secret="not the secret")
    assert refused.value.http_status == 401
    monkeypatch.undo()
    queued = [(r.webhook_id, r.outcome) for r in _receipts(seeded)]
    assert queued == [*([("d-520", "queued")] if warm else []), ("d-521", "queued")]
    assert _drain(seeded) == len(queued)
    assert count(seeded, Order) == len(queued)


def test_the_served_app_answers_a_queued_delivery_202(
    service_engine: Engine, seeded: sessionmaker[Session]
) -> None:
    app = create_app(service_engine)
    app.state.inbox = HeldInbox(seeded, inline=0)
    with TestClient(app) as client:
        r = shopify_post(client, shopify_order(510), webhook_id="d-510")
        assert (r.status_code, r.json()) == (202, {"status": "queued"})
        again = shopify_post(client, shopify_order(510), webhook_id="d-510")
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert _drain(seeded) == 1 and count(seeded, Order) == 1


def test_the_inbox_thread_applies_what_is_queued_and_stops_cleanly(
    seeded: sessionmaker[Session],
) -> None:
    box = Inbox(seeded, inline=0, poll_seconds=0.05)
    box.start()
    try:
        assert box.running
        for n in range(5):
            assert _shopify(seeded, box, shopify_order(520 + n), f"t-{n}")["status"] == "queued"
        deadline = threading.Event()
        for _ in range(200):
            if all(r.outcome == "created" for r in _receipts(seeded)):
                break
            deadline.wait(0.05)
        assert [r.outcome for r in _receipts(seeded)] == ["created"] * 5
    finally:
        box.stop()
    assert not box.running
    # A stopped inbox queues nothing: deliveries are applied while the shop waits.
    assert _shopify(seeded, box, shopify_order(530), "t-9")["status"] == "created"


def test_after_a_busy_queue_new_deliveries_queue_behind_until_the_burst_is_over(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "QUIET_SECONDS", 60.0)  # the process stays busy
    box = HeldInbox(seeded, inline=1)
    assert not box.backlogged
    assert box.take_slot()  # another delivery is being applied while its shop waits
    assert _shopify(seeded, box, shopify_order(540), "b-0")["status"] == "queued"
    box.give_slot()
    assert box.backlogged
    # A free slot does not let a later delivery, of another order, overtake the queued one.
    assert _shopify(seeded, box, shopify_order(541), "b-1")["status"] == "queued"
    # Busy with deliveries: the queue is applied (its interval is due), and still the next
    # ones queue, as the burst may go on.
    monkeypatch.setattr(inbox_module, "BUSY_EVERY_SECONDS", 0.0)
    assert box.drain() == 2
    assert box.backlogged
    # None in hand for QUIET_SECONDS: the burst is over, and deliveries are applied inline.
    monkeypatch.setattr(inbox_module, "QUIET_SECONDS", 0.0)
    assert box.drain() == 0
    assert not box.backlogged
    assert _shopify(seeded, box, shopify_order(542), "b-2")["status"] == "created"
    assert [r.outcome for r in _receipts(seeded)] == ["created"] * 3


def _seven_queued(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, first: int, quiet: float
) -> HeldInbox:
    """Seven queued deliveries; while its process is busy the applier takes 3 a minute."""
    monkeypatch.setattr(inbox_module, "BUSY_BATCH", 3)
    monkeypatch.setattr(inbox_module, "BUSY_EVERY_SECONDS", 60.0)
    monkeypatch.setattr(inbox_module, "QUIET_SECONDS", quiet)
    busy = HeldInbox(seeded, inline=0)
    for n in range(first, first + 7):
        assert _shopify(seeded, busy, shopify_order(n), f"q-{n}")["status"] == "queued"
    return busy


def _one_small_batch_then_it_waits(seeded: sessionmaker[Session]) -> None:
    waited = threading.Event()
    for _ in range(200):
        if count(seeded, Order) >= 3:
            break
        waited.wait(0.05)
    waited.wait(0.3)
    assert count(seeded, Order) == 3


def test_while_its_process_is_busy_the_applier_gives_way_with_a_few_an_interval(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = _seven_queued(seeded, monkeypatch, 550, quiet=60.0)  # answered just now: busy
    applier = threading.Thread(target=busy.drain)
    applier.start()
    try:
        _one_small_batch_then_it_waits(seeded)  # the next is an interval (a minute) away
        assert applier.is_alive()
    finally:
        busy.stop()
        applier.join(10)
    assert not applier.is_alive()
    # A process that has answered none is quiet: the rest in full batches.
    assert HeldInbox(seeded).drain() == 4
    assert [r.outcome for r in _receipts(seeded)] == ["created"] * 7


def test_a_delivery_in_hand_keeps_the_applier_waiting_until_it_is_answered(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = _seven_queued(seeded, monkeypatch, 560, quiet=0.0)
    busy.taken()  # a delivery being answered, however long it takes
    applier = threading.Thread(target=busy.drain)
    applier.start()
    try:
        _one_small_batch_then_it_waits(seeded)
    finally:
        busy.answered()  # answered: the process is quiet, the rest is applied at once
        applier.join(10)
    assert not applier.is_alive()
    assert count(seeded, Order) == 7
    assert not busy.backlogged


def test_inline_limit_reads_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(inbox_module.INLINE_ENV, "0")
    assert inbox_module.inline_limit() == 0
    monkeypatch.setenv(inbox_module.INLINE_ENV, "lots")
    assert inbox_module.inline_limit() == inbox_module.DEFAULT_INLINE
    monkeypatch.delenv(inbox_module.INLINE_ENV)
    assert inbox_module.inline_limit() == inbox_module.DEFAULT_INLINE
