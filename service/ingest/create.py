"""Insert a new order: the common case of the ingest path, in as few statements as possible.

A webhook for a new order used to go through the ORM unit of work: an insert, a flush, an
UPDATE for the number, more inserts at the next flush. Here the outcome (confirmed, held or
cancelled) is decided first and the rows are written as they end up: the order (its number
computed from its id in the same statement), its lines and its two audit events, plus the
webhook receipt when there is one: one statement on PostgreSQL, one per table on SQLite
(service.ingest.insert).

The rows are the ones service.lifecycle would write for `pending -> target` (record_event
"created", then transition / hold); tests/integration/ingest/test_create_rows.py compares
the two. Everything runs in the caller's session transaction, so the retry in
store.run_in_transaction works as for ORM writes; the order's change-feed row is one of the
rows written with it (what mark_changed would insert at commit).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import IllegalTransition
from service.ingest.insert import Children, insert_order
from service.ingest.model import NormalisedOrder
from service.ingest.rows import (
    IngestResult,
    line_columns,
    order_columns,
    validation_exception_columns,
)
from service.ingest.tables import CHANGES, ORDER_EVENTS, ORDER_EXCEPTIONS, ORDER_LINES, RECEIPTS
from service.ingest.validate import Reason, validate
from service.lifecycle import TRANSITIONS, OrderStatus
from service.models import Channel, Order
from service.stock.allocation import allocate_order

log = logging.getLogger(__name__)

S = OrderStatus


@dataclass(frozen=True)
class NewOrderRows:
    """A new order as the rows to write: its outcome decided, nothing written yet."""

    target: OrderStatus
    reasons: list[Reason]
    order: dict[str, Any]  # orders columns but id and number
    children: Children  # its lines, events and receipt, without order_id

    @property
    def outcome(self) -> str:
        """The ingest outcome: "cancelled" for an order the channel already cancelled."""
        return "cancelled" if self.target is S.CANCELLED else "created"


def new_order_rows(
    channel: Channel,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
    receipt: Mapping[str, Any] | None = None,
    chosen: Mapping[str, Any] | None = None,
) -> NewOrderRows:
    """Validate `incoming` and lay it out as rows: confirmed, held, or (when the channel
    already cancelled it) cancelled, with the events lifecycle would record for that."""
    # Created already cancelled (the create was missed): keep it so a late create delivery
    # finds the order cancelled instead of shipping it. Otherwise validate.
    reasons: list[Reason] = (
        [] if incoming.cancelled else validate(incoming, products, channel.settings)
    )
    change: dict[str, Any]
    if incoming.cancelled:
        target, change = S.CANCELLED, {"reason": "cancelled in channel"}
    elif reasons:
        target, change = S.ON_HOLD, {"reasons": reasons}
    else:
        target, change = S.CONFIRMED, {"reason": "validated"}
    if target not in TRANSITIONS[S.PENDING]:
        raise IllegalTransition(f"A new order cannot become {target}.")
    created_at = utcnow()  # record_event("created")
    changed_at = utcnow()  # transition(): the status change, its event and updated_at
    order = {
        "channel_id": channel.id,
        "channel_order_id": incoming.channel_order_id,
        "status": target.value,
        "held_from": S.PENDING.value if target is S.ON_HOLD else None,
        "hold_reasons": list(reasons),
        "version": 2,  # 1 when inserted, +1 for the status change
        "lease_epoch": 0,
        "created_at": created_at,
        "updated_at": changed_at,
        "status_changed_at": changed_at,
        "channel_updated_at": incoming.channel_updated_at,
        **order_columns(incoming),
    }
    event = {"actor": actor, "station_id": None}
    events = [
        {
            **event,
            "type": "created",
            "from_status": None,
            "to_status": None,
            "payload": {"channel": channel.name, "channel_order_id": incoming.channel_order_id},
            "at": created_at,
        },
        *(
            [
                {
                    **event,
                    "type": "carrier_chosen",
                    "from_status": None,
                    "to_status": None,
                    "payload": dict(chosen),
                    "at": created_at,
                }
            ]
            if chosen is not None
            else []
        ),
        {
            **event,
            "type": "status_changed",
            "from_status": S.PENDING.value,
            "to_status": target.value,
            "payload": change,
            "at": changed_at,
        },
    ]
    # The change feed's row for the new order travels with it, in the same statement,
    # instead of a mark_changed() that costs an INSERT of its own at commit.
    change = {"entity": "order", "station_id": None, "at": changed_at}
    rows = NewOrderRows(
        target,
        reasons,
        order,
        [
            (ORDER_LINES, line_columns(incoming, products)),
            (ORDER_EVENTS, events),
            (CHANGES, [change]),
        ],
    )
    if receipt is not None:
        rows.children.append((RECEIPTS, [{**receipt, "outcome": rows.outcome}]))
    return rows


def create_order(
    session: Session,
    channel: Channel,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
    tracked: Set[int],
    receipt: Mapping[str, Any] | None = None,
    chosen: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Insert `incoming` as a new order of `channel` with its lines, audit events and
    validation exceptions (see new_order_rows), in the session's transaction.

    `receipt` is the webhook_receipts row of the delivery that carried it, without order_id
    and outcome; it is stored with them in the same statement. `tracked` are those of
    `products` with stock tracked, as the ingest lookup read them (ingest.lookup).
    """
    rows = new_order_rows(channel, incoming, products, actor=actor, receipt=receipt, chosen=chosen)
    connection = session.connection()
    order_id, number = insert_order(connection, rows.order, rows.children)
    if rows.reasons:
        # Apart: their details name the order number, known only now.
        connection.execute(
            insert(ORDER_EXCEPTIONS),
            [
                {
                    "order_id": order_id,
                    "created_at": rows.order["status_changed_at"],
                    **validation_exception_columns(number, r),
                }
                for r in rows.reasons
            ],
        )
    status = rows.target.value
    if rows.target is S.CONFIRMED and tracked:
        # Only orders of counted products pay for loading the row: allocate or backorder.
        order = session.get(Order, order_id)
        assert order is not None
        allocate_order(session, order, actor=actor)
        status = order.status
    if rows.target is not S.CANCELLED:
        log.info(
            "order created", extra={"order": number, "channel": channel.name, "status": status}
        )
    return IngestResult(rows.outcome, order_id, number, status, list(rows.reasons))
