"""Shopify `returns/request` and `returns/approve` webhooks, after service.ingest.webhooks
has checked the channel and signature: the return becomes an RMA expected at the bench.

The body (Admin API webhook payload for a Return) names the order by its Shopify id and each
returned unit by its fulfillment line item's `line_item.id`, which is the order line's
`channel_line_id`. A delivery is deduplicated by its id; a return already known (same
Shopify return id) is not created twice; a return the warehouse cannot accept (order never
shipped, unknown line) is answered 200 with the reason so the shop stops retrying, and
logged for a person.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.ingest.errors import PayloadInvalid
from service.ingest.lookup import look_up
from service.ingest.tables import store_receipt
from service.models import Channel, Order, Return
from service.returns.store import ReturnRefused, Who, create_return, lock_order

log = logging.getLogger(__name__)

TOPICS = frozenset({"returns/request", "returns/approve"})


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int | str


class _FulfillmentLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line_item: _Ref


class _ReturnLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    fulfillment_line_item: _FulfillmentLine
    quantity: int = Field(ge=1, le=100_000)
    return_reason: str | None = None
    return_reason_note: str | None = None


class ShopifyReturn(BaseModel):
    """The fields of a Shopify Return webhook body that Packbench uses."""

    model_config = ConfigDict(extra="ignore")
    id: int | str
    order: _Ref
    name: str = ""
    return_line_items: list[_ReturnLine] = Field(default_factory=list, max_length=500)


def is_return_topic(kind: str, topic: str) -> bool:
    """Whether the delivery is a Shopify return topic."""
    return kind == "shopify" and topic in TOPICS


def parse(payload: Any) -> ShopifyReturn:
    """The return in the body, or PayloadInvalid naming the first problem."""
    try:
        return ShopifyReturn.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise PayloadInvalid(f"{where}: {first.get('msg', 'invalid')}", field=where) from None


def _reason(body: ShopifyReturn) -> str:
    parts = [
        " ".join(x for x in (li.return_reason, li.return_reason_note) if x)
        for li in body.return_line_items
    ]
    text = "; ".join(p for p in parts if p)
    return f"Shopify return {body.name or body.id}" + (f": {text}" if text else "")


def receive_return(
    session: Session,
    channel: Channel,
    topic: str,
    delivery_id: str,
    payload: Any,
    *,
    actor: str,
) -> dict[str, Any]:
    """Apply one verified return delivery in the caller's transaction; the 200 body."""
    seen = look_up(session, channel.id, webhook_id=delivery_id).receipt_outcome
    if seen is not None:
        return {"status": "duplicate", "outcome": seen}
    body = parse(payload)
    receipt = {
        "channel_id": channel.id,
        "webhook_id": delivery_id,
        "topic": topic[:60],
        "received_at": utcnow(),
        "ignored": False,
    }
    order_id = session.scalar(
        select(Order.id).where(
            Order.channel_id == channel.id, Order.channel_order_id == str(body.order.id)
        )
    )
    order = lock_order(session, order_id) if order_id is not None else None
    if order is None:
        log.warning("return %s on %s names an unknown order", body.id, channel.name)
        store_receipt(session, receipt, None, "unknown_order")
        return {"status": "unknown_order"}
    shop_id = str(body.id)[:100]
    known = session.scalar(
        select(Return).where(Return.order_id == order.id, Return.channel_return_id == shop_id)
    )
    if known is not None:
        store_receipt(session, receipt, order.id, "return_known")
        return {"status": "return_known", "return": known.code}
    by_shop_line = {li.channel_line_id: li.id for li in order.lines if li.channel_line_id}
    lines: dict[int, int] = {}
    try:
        for item in body.return_line_items:
            line_id = by_shop_line.get(str(item.fulfillment_line_item.line_item.id))
            if line_id is None:
                raise ReturnRefused(
                    f"Shopify return {body.id} names line item "
                    f"{item.fulfillment_line_item.line_item.id}, which is not in order "
                    f"{order.number}."
                )
            lines[line_id] = lines.get(line_id, 0) + item.quantity
        rma = create_return(
            session,
            order,
            lines,
            reason=_reason(body),
            source="shopify",
            who=Who(actor),
            channel_return_id=shop_id,
        )
    except ReturnRefused as exc:
        log.warning("return %s on %s refused: %s", body.id, channel.name, exc.message)
        store_receipt(session, receipt, order.id, "return_refused")
        return {"status": "return_refused", "message": exc.message}
    store_receipt(session, receipt, order.id, "return_created")
    log.info("webhook %s %s on %s: %s", delivery_id, topic, channel.name, rma.code)
    return {"status": "return_created", "return": rma.code, "order": order.number}
