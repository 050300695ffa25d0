"""A new order written by the Core insert path has exactly the rows the ORM and
service.lifecycle write (record_event "created", then transition / hold), on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import JSON, String, cast, select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed
from service.db import transaction
from service.ingest import shopify
from service.ingest.model import NormalisedOrder
from service.ingest.rows import (
    line_columns,
    order_columns,
    order_number,
    validation_exception_columns,
)
from service.ingest.store import upsert_order
from service.ingest.validate import validate
from service.lifecycle import OrderStatus, hold, record_event, transition
from service.models import (
    ChangeRow,
    Channel,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Product,
)
from tests.support.shop_payloads import shopify_order

ACTOR = "webhook:shop"


def _lifecycle_create(session: Session, channel: Channel, incoming: NormalisedOrder) -> int:
    """The ORM create path this module replaced: insert pending, then the lifecycle."""
    skus = {line.sku for line in incoming.lines}
    active = select(Product.sku, Product.id).where(Product.sku.in_(skus), Product.active.is_(True))
    products = {sku: pid for sku, pid in session.execute(active)}
    order = Order(
        number="TMP-reference",
        channel_id=channel.id,
        channel_order_id=incoming.channel_order_id,
        status=OrderStatus.PENDING.value,
        lines=[OrderLine(**c) for c in line_columns(incoming, products)],
        channel_updated_at=incoming.channel_updated_at,
        **order_columns(incoming),
    )
    session.add(order)
    session.flush()
    order.number = order_number(order.id)
    record_event(
        session,
        order,
        "created",
        actor=ACTOR,
        payload={"channel": channel.name, "channel_order_id": incoming.channel_order_id},
    )
    mark_changed(session, "order", order.id)
    reasons = validate(incoming, products, channel.settings)
    if incoming.cancelled:
        transition(
            session, order, OrderStatus.CANCELLED, actor=ACTOR, reason="cancelled in channel"
        )
    elif reasons:
        hold(session, order, reasons, actor=ACTOR)
        for reason in reasons:
            session.add(
                OrderException(
                    order_id=order.id, **validation_exception_columns(order.number, reason)
                )
            )
    else:
        transition(session, order, OrderStatus.CONFIRMED, actor=ACTOR, reason="validated")
    session.flush()
    return order.id


def _table(session: Session, model: Any, order_id: int, *drop: str) -> list[dict[str, Any]]:
    """The rows of `model` that belong to the order, by id, without ids and `drop`; JSON
    columns also as their stored text (the same value must be the same bytes)."""
    table = model.__table__
    key = table.c.id if model is Order else table.c.order_id
    json_text = [
        cast(c, String).label(f"{c.name}_text") for c in table.c if isinstance(c.type, JSON)
    ]
    rows = session.execute(select(*table.c, *json_text).where(key == order_id).order_by(table.c.id))
    return [
        {k: v for k, v in row._asdict().items() if k not in {"id", "order_id", *drop}}
        for row in rows
    ]


def _rows(session: Session, order_id: int) -> dict[str, Any]:
    """Everything stored for one order, minus ids and clock readings (checked apart)."""
    number = order_number(order_id)
    exceptions = _table(session, OrderException, order_id, "created_at")
    for e in exceptions:
        details = e.pop("details")
        assert details["order"] == number and set(details) <= {"order", "say"}
        assert e.pop("details_text") == json.dumps(details)
        e["say"] = details.get("say")  # the sentence's code and parameters, compared below
    (order,) = _table(session, Order, order_id, "created_at", "updated_at", "status_changed_at")
    assert order.pop("number") == number
    return {
        "order": order,
        "lines": _table(session, OrderLine, order_id),
        "events": _table(session, OrderEvent, order_id, "at"),
        "exceptions": exceptions,
        "changes": session.scalars(
            select(ChangeRow.entity).where(ChangeRow.entity_id == order_id)
        ).all(),
    }


def _held() -> dict[str, Any]:
    # Unknown SKU and unpaid: two reasons; non-ASCII text in JSON columns (escaped there).
    order = shopify_order(3002, financial_status="pending", payment_gateway_names=["manual"])
    order["line_items"][0]["sku"] = "GHÖST-1"
    order["billing_address"]["name"] = "Jana Müller"
    return order


CASES = {
    "confirmed": shopify_order(3001),
    "held": _held(),
    "cancelled": shopify_order(3003, cancelled_at="2024-11-10T12:00:00+01:00"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_insert_path_writes_the_lifecycle_rows(seeded: sessionmaker[Session], case: str) -> None:
    with seeded() as s:
        channel = s.scalars(select(Channel).where(Channel.name == "shop")).one()
        s.expunge(channel)
    incoming = shopify.parse(CASES[case], channel.settings)

    # The reference is rolled back: change rows are written at commit, so the reference's
    # mark_changed("order") is the expected change.
    with seeded() as s:
        reference = _rows(s, _lifecycle_create(s, channel, incoming))
        s.rollback()
    reference["changes"] = ["order"]

    with transaction(seeded) as s:
        result = upsert_order(s, channel, incoming, actor=ACTOR)
    assert result.order_id is not None
    assert result.outcome == ("cancelled" if case == "cancelled" else "created")
    with seeded() as s:
        written = _rows(s, result.order_id)
        order = s.get(Order, result.order_id)
        assert order is not None
        events = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
    assert written == reference
    assert (result.number, result.status, result.hold_reasons) == (
        order.number,
        order.status,
        order.hold_reasons,
    )
    # Clock readings: created, then the status change, as the lifecycle stamps them.
    created, changed = events
    assert order.created_at == created.at <= changed.at
    assert order.status_changed_at == order.updated_at == changed.at
