"""A new order written by the Core insert path has exactly the rows the ORM and
service.lifecycle write (record_event "created", then transition / hold), on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
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


def _rows(session: Session, order_id: int) -> dict[str, Any]:
    """Everything stored for one order, minus ids and clock readings (checked apart)."""

    def strip(row: Any, *drop: str) -> dict[str, Any]:
        return {k: v for k, v in row._asdict().items() if k not in {"id", "order_id", *drop}}

    order = session.execute(select(Order.__table__).where(Order.id == order_id)).one()
    number = order.number
    assert number == order_number(order_id)
    times = ("created_at", "updated_at", "status_changed_at")
    events = session.execute(
        select(OrderEvent.__table__).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()
    exceptions = session.execute(
        select(OrderException.__table__)
        .where(OrderException.order_id == order_id)
        .order_by(OrderException.id)
    ).all()
    for e in exceptions:
        assert e.details == {"order": number} and e.created_at is not None
    changes = session.scalars(select(ChangeRow.entity).where(ChangeRow.entity_id == order_id)).all()
    return {
        "order": strip(order, "number", *times),
        "lines": [
            strip(r)
            for r in session.execute(
                select(OrderLine.__table__)
                .where(OrderLine.order_id == order_id)
                .order_by(OrderLine.id)
            )
        ],
        "events": [strip(e, "at") for e in events],
        "exceptions": [strip(e, "created_at", "details") for e in exceptions],
        "changes": changes,
    }


CASES = {
    "confirmed": shopify_order(3001),
    "held": shopify_order(
        3002,
        financial_status="pending",
        payment_gateway_names=["bank_deposit"],
        line_items=[
            dict(shopify_order()["line_items"][0], sku="GHOST-1"),
            shopify_order()["line_items"][1],
        ],
    ),
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
