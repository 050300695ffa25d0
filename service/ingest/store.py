"""Upsert a NormalisedOrder: insert, validate and confirm or hold; apply channel updates.

Everything happens in the caller's transaction. One statement reads what is known about the
order (service.ingest.lookup). A new order (the common case) is then inserted by
service.ingest.create with Core statements (one on PostgreSQL); an existing order is locked,
loaded and changed through the ORM, its status only through service.lifecycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from service.changes import mark_changed
from service.db import utcnow
from service.ingest.carrier_rules import apply_rules
from service.ingest.create import create_order
from service.ingest.lookup import Lookup, look_up
from service.ingest.model import NormalisedLine, NormalisedOrder
from service.ingest.rows import (
    CENT,
    IngestResult,
    line_columns,
    order_columns,
    order_number,
    validation_exception_columns,
)
from service.ingest.tables import store_receipt
from service.ingest.validate import VALIDATION_CODES, Reason, validate
from service.lifecycle import OrderStatus, hold, record_event, release, transition
from service.models import Channel, Order, OrderException, OrderLine
from service.shipping.labels import void_labels
from service.stock.allocation import allocate_order, release_order
from sync.protocol import exception_words

__all__ = [
    "IngestResult",
    "apply_validation",
    "cancel_order",
    "find_order",
    "order_number",
    "run_in_transaction",
    "upsert_order",
]

log = logging.getLogger(__name__)

S = OrderStatus

# Lines may be replaced while nobody has started picking; details (address, contact,
# shipping method) until the parcel is packed. Payment facts are always recorded.
LINES_EDITABLE = frozenset({S.PENDING, S.CONFIRMED, S.ON_HOLD, S.BACKORDER})
DETAILS_EDITABLE = LINES_EDITABLE | {S.ALLOCATED, S.PICKING}
# The channel may cancel only before packing, even where the lifecycle would allow more.
CANCELLABLE = frozenset({S.PENDING, S.CONFIRMED, S.ON_HOLD, S.BACKORDER, S.ALLOCATED, S.PICKING})
# Orders the ingest path re-validates (and may hold) after a change from the channel.
REVALIDATED = frozenset({S.PENDING, S.CONFIRMED, S.BACKORDER, S.ALLOCATED, S.PICKING})

# The slip's language is no warehouse detail: a packed order takes the shop's word on it too.
_ALWAYS_APPLIED = ("payment_state", "total_amount", "channel_order_name", "language")


def _line_key(line: NormalisedLine | OrderLine) -> tuple[Any, ...]:
    if isinstance(line, NormalisedLine):
        price, tax, disc = (line.unit_price, line.tax, line.discount)
        return (line.sku, line.quantity, *(d.quantize(CENT) for d in (price, tax, disc)))
    return (line.sku, line.quantity, line.unit_price, line.tax, line.discount)


def _new_lines(incoming: NormalisedOrder, products: dict[str, int]) -> list[OrderLine]:
    return [OrderLine(**columns) for columns in line_columns(incoming, products)]


def find_order(session: Session, channel: Channel, channel_order_id: str) -> Order | None:
    """The channel's order, locked for update (PostgreSQL) so concurrent updates queue."""
    return session.scalar(
        select(Order)
        .options(lazyload(Order.channel))
        .where(Order.channel_id == channel.id, Order.channel_order_id == channel_order_id)
        .with_for_update()
    )


def upsert_order(
    session: Session,
    channel: Channel,
    incoming: NormalisedOrder,
    *,
    actor: str,
    lookup: Lookup | None = None,
    receipt: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Insert a new order or apply an update to the existing one, in the caller's transaction.

    `lookup` is what look_up() already read for this order in this transaction, if anything.
    `receipt` is the webhook_receipts row of the delivery (without order_id and outcome): it
    is stored last, with the result, so a concurrent delivery of the same id fails on its
    unique key (or on the order's) and is retried, and the retry answers "duplicate".
    """
    if lookup is None:
        lookup = look_up(
            session,
            channel.id,
            channel_order_id=incoming.channel_order_id,
            skus=(line.sku for line in incoming.lines),
        )
    incoming, chosen = apply_rules(session, channel.settings, incoming, lookup.products)
    existing = None
    if lookup.order_id is not None:
        existing = find_order(session, channel, incoming.channel_order_id)
    if existing is None:
        return create_order(
            session,
            channel,
            incoming,
            lookup.products,
            actor=actor,
            receipt=receipt,
            chosen=chosen,
            tracked=lookup.tracked,
        )
    result = _update(
        session, channel, existing, incoming, lookup.products, actor=actor, chosen=chosen
    )
    if receipt is not None:
        store_receipt(session, receipt, result.order_id, result.outcome)
    return result


def cancel_order(
    session: Session, channel: Channel, channel_order_id: str, *, actor: str
) -> IngestResult:
    """Cancel by channel order id alone (WooCommerce order.deleted carries only the id)."""
    order = find_order(session, channel, channel_order_id)
    if order is None:
        return IngestResult("unknown_order")
    return _cancel(session, channel, order, actor=actor)


def _result(outcome: str, order: Order) -> IngestResult:
    return IngestResult(outcome, order.id, order.number, order.status, list(order.hold_reasons))


def apply_validation(
    session: Session,
    order: Order,
    reasons: list[Reason],
    actor: str,
    *,
    fixed_by: str = "an update from the channel",
) -> None:
    """Confirm, hold, re-hold with new reasons, or release an order after validation;
    `fixed_by` says in the audit log and on resolved exceptions what fixed the problems."""
    status = S(order.status)
    if status is S.ON_HOLD:
        held = {r.get("code", "") for r in order.hold_reasons}
        if not held <= VALIDATION_CODES:
            return  # held by a person or another part of the system: not ours to lift
        if not reasons:
            release(session, order, actor=actor, reason=f"validation passed after {fixed_by}")
            if order.status == S.PENDING:
                transition(session, order, S.CONFIRMED, actor=actor, reason="validated")
            allocate_order(session, order, actor=actor)  # short means backorder
            _resolve_exceptions(session, order, set(), actor, fixed_by)
        elif reasons != order.hold_reasons:
            _open_exceptions(session, order, reasons, held)
            _resolve_exceptions(session, order, {r["code"] for r in reasons}, actor, fixed_by)
            order.hold_reasons = list(reasons)
            record_event(
                session, order, "hold_reasons_changed", actor=actor, payload={"reasons": reasons}
            )
        return
    if reasons:
        hold(session, order, reasons, actor=actor)
        _open_exceptions(session, order, reasons, set())
    elif status is S.PENDING:
        transition(session, order, S.CONFIRMED, actor=actor, reason="validated")


def revalidate_hold(
    session: Session, order: Order, *, drop: set[str], actor: str, fixed_by: str
) -> None:
    """Re-judge a validation hold once the problems in `drop` were fixed elsewhere.

    For fixes that come from the warehouse side (a shipping method mapped), not from the
    channel: the other reasons stand until the channel changes the order.
    """
    if order.status != S.ON_HOLD:
        return
    remaining = [r for r in order.hold_reasons if r.get("code") not in drop]
    if remaining == order.hold_reasons:
        return
    apply_validation(session, order, remaining, actor, fixed_by=fixed_by)
    mark_changed(session, "order", order.id)


def _open_exceptions(
    session: Session, order: Order, reasons: list[Reason], already: set[str]
) -> None:
    for reason in reasons:
        if reason["code"] in already:
            continue
        session.add(
            OrderException(order_id=order.id, **validation_exception_columns(order.number, reason))
        )


def _resolve_exceptions(
    session: Session, order: Order, keep: set[str], actor: str, fixed_by: str
) -> None:
    """Close open validation exceptions whose problem has been fixed (by `fixed_by`)."""
    open_rows = session.scalars(
        select(OrderException).where(
            OrderException.order_id == order.id,
            OrderException.kind == "validation",
            OrderException.resolved_at.is_(None),
        )
    )
    now = utcnow()
    for row in open_rows:
        if row.code not in keep:
            row.resolved_at = now
            row.resolved_by = actor
            row.resolution = f"fixed by {fixed_by}"


def _older(incoming: datetime | None, applied: datetime | None) -> bool:
    """Whether the channel's version `incoming` is older than the one `applied` (unknown
    times never count as older: the delivery is applied, as before they were recorded)."""
    if incoming is None or applied is None:
        return False
    as_utc = [t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in (incoming, applied)]
    return as_utc[0] < as_utc[1]


def _update(
    session: Session,
    channel: Channel,
    order: Order,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
    chosen: dict[str, Any] | None = None,
) -> IngestResult:
    status = S(order.status)
    if status is S.CANCELLED:
        return _result("unchanged", order)
    if incoming.cancelled:
        return _cancel(session, channel, order, actor=actor)  # a cancellation always counts
    if _older(incoming.channel_updated_at, order.channel_updated_at):
        # Shops do not promise delivery order: this version predates the one applied.
        log.info(
            "stale channel update ignored",
            extra={
                "order": order.number,
                "channel_updated_at": str(incoming.channel_updated_at),
                "applied": str(order.channel_updated_at),
            },
        )
        return _result("stale", order)
    if incoming.channel_updated_at is not None:
        order.channel_updated_at = incoming.channel_updated_at
    wanted = order_columns(incoming)
    changed = {k: v for k, v in wanted.items() if getattr(order, k) != v}
    lines_changed = [_line_key(x) for x in order.lines] != [_line_key(x) for x in incoming.lines]
    refused = sorted(
        k for k in changed if k not in _ALWAYS_APPLIED and status not in DETAILS_EDITABLE
    )
    if lines_changed and status not in LINES_EDITABLE:
        refused.append("lines")
    applied = {k: v for k, v in changed.items() if k not in refused}
    for key, value in applied.items():
        setattr(order, key, value)
    if lines_changed and "lines" not in refused:
        order.lines.clear()
        session.flush()  # delete the old lines before their line numbers are reused
        order.lines.extend(_new_lines(incoming, products))
    if refused:
        _refuse_change(session, channel, order, refused, actor)
    if chosen is not None and {"carrier", "service"} & set(applied):
        record_event(session, order, "carrier_chosen", actor=actor, payload=chosen)
    # An on-hold order is re-checked even when nothing changed: a missing product may
    # have been created since, and a replayed update is the channel's way of asking again.
    if applied or (lines_changed and "lines" not in refused):
        order.version = (order.version or 1) + 1
        record_event(
            session,
            order,
            "updated_from_channel",
            actor=actor,
            payload={
                "fields": sorted(applied)
                + (["lines"] if lines_changed and "lines" not in refused else [])
            },
        )
        mark_changed(session, "order", order.id)
    if status is S.ON_HOLD or (status in REVALIDATED and (applied or lines_changed)):
        before = (order.status, list(order.hold_reasons))
        apply_validation(session, order, validate(incoming, products, channel.settings), actor)
        if (order.status, order.hold_reasons) != before:
            mark_changed(session, "order", order.id)
            applied = applied or {"status": order.status}
    allocate_order(session, order, actor=actor)  # lines or status may have changed
    if refused and not applied:
        return _result("change_refused", order)
    return _result("updated" if applied or lines_changed else "unchanged", order)


def _refuse_change(
    session: Session, channel: Channel, order: Order, fields: list[str], actor: str
) -> None:
    """The channel changed an order that is already packed: a person must look at it."""
    message, say = exception_words(
        "changed_after_packing",
        shop=channel.name,
        fields=", ".join(fields),
        order=order.number,
        status=order.status,
    )
    session.add(
        OrderException(
            order_id=order.id,
            kind="late_change",
            code="changed_after_packing",
            message=message,
            details={"fields": fields, "say": say},
        )
    )
    record_event(session, order, "channel_change_refused", actor=actor, payload={"fields": fields})
    mark_changed(session, "order", order.id)


def _cancel(session: Session, channel: Channel, order: Order, *, actor: str) -> IngestResult:
    status = S(order.status)
    if status is S.CANCELLED:
        return _result("unchanged", order)
    if status in CANCELLABLE:
        transition(session, order, S.CANCELLED, actor=actor, reason="cancelled in channel")
        release_order(session, order, actor=actor)
        void_labels(session, order, reason="order_cancelled", actor=actor)
        return _result("cancelled", order)
    already = session.scalar(
        select(OrderException.id).where(
            OrderException.order_id == order.id,
            OrderException.code == "cancel_after_packing",
            OrderException.resolved_at.is_(None),
        )
    )
    if already is None:
        message, say = exception_words(
            "cancel_after_packing", shop=channel.name, order=order.number, status=status.value
        )
        session.add(
            OrderException(
                order_id=order.id,
                kind="cancellation",
                code="cancel_after_packing",
                message=message,
                details={"status": status.value, "say": say},
            )
        )
        record_event(
            session, order, "cancel_refused", actor=actor, payload={"status": status.value}
        )
        mark_changed(session, "order", order.id)
    log.warning(
        "channel cancelled an order that is already %s",
        status.value,
        extra={"order": order.number, "channel": channel.name},
    )
    return _result("cancel_refused", order)


T = TypeVar("T")


def run_in_transaction(session: Session, work: Callable[[Session], T], attempts: int = 3) -> T:
    """Run `work` in one transaction; on a unique violation (a concurrent delivery of the
    same order or webhook won the race) roll back and run it again, which re-reads the
    winner's rows and takes the update or duplicate path instead."""
    for attempt in range(1, attempts + 1):
        try:
            with session.begin():
                return work(session)
        except IntegrityError:
            if attempt == attempts:
                raise
            log.info("concurrent insert lost a unique race; retrying (attempt %d)", attempt)
    raise AssertionError("unreachable")
