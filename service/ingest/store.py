"""Upsert a NormalisedOrder: insert, validate and confirm or hold; apply channel updates.

Everything happens in the caller's transaction, with a handful of statements per order
(one product lookup for all SKUs, one order lookup), so the webhook path stays fast.
Status changes go only through service.lifecycle.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from service.changes import mark_changed
from service.db import utcnow
from service.ingest.model import NormalisedLine, NormalisedOrder
from service.ingest.validate import VALIDATION_CODES, Reason, validate
from service.lifecycle import OrderStatus, hold, record_event, release, transition
from service.models import Channel, Order, OrderException, OrderLine, Product

log = logging.getLogger(__name__)

S = OrderStatus
CENT = Decimal("0.01")

# Lines may be replaced while nobody has started picking; details (address, contact,
# shipping method) until the parcel is packed. Payment facts are always recorded.
LINES_EDITABLE = frozenset({S.PENDING, S.CONFIRMED, S.ON_HOLD, S.BACKORDER})
DETAILS_EDITABLE = LINES_EDITABLE | {S.ALLOCATED, S.PICKING}
# The channel may cancel only before packing, even where the lifecycle would allow more.
CANCELLABLE = frozenset({S.PENDING, S.CONFIRMED, S.ON_HOLD, S.BACKORDER, S.ALLOCATED, S.PICKING})
# Orders the ingest path re-validates (and may hold) after a change from the channel.
REVALIDATED = frozenset({S.PENDING, S.CONFIRMED, S.BACKORDER, S.ALLOCATED, S.PICKING})

_ALWAYS_APPLIED = ("payment_state", "total_amount", "channel_order_name")


@dataclass(frozen=True)
class IngestResult:
    """What happened to one incoming order."""

    outcome: str  # created | updated | unchanged | cancelled | cancel_refused | change_refused
    order_id: int | None = None
    number: str | None = None
    status: str | None = None
    hold_reasons: list[Reason] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The result as an API response body."""
        return {
            "status": self.outcome,
            "order": self.number,
            "order_status": self.status,
            "hold_reasons": self.hold_reasons,
        }


def order_number(order_id: int) -> str:
    """The warehouse-facing number printed on barcodes: ORD- and at least six digits."""
    return f"ORD-{100000 + order_id}"


def _columns(incoming: NormalisedOrder) -> dict[str, Any]:
    ship = incoming.shipping_address
    return {
        "channel_order_name": incoming.channel_order_name,
        "currency": incoming.currency,
        "total_amount": incoming.total.quantize(CENT),
        "payment_state": incoming.payment_state.value,
        "email": incoming.email,
        "phone": incoming.phone or (ship.phone if ship else ""),
        "ship_name": ship.name if ship else "",
        "ship_company": ship.company if ship else "",
        "ship_street1": ship.street1 if ship else "",
        "ship_street2": ship.street2 if ship else "",
        "ship_postcode": ship.postcode if ship else "",
        "ship_city": ship.city if ship else "",
        "ship_region": ship.region if ship else "",
        "ship_country": ship.country if ship else "",
        "billing_address": incoming.billing_address.as_dict() if incoming.billing_address else {},
        "priority": incoming.priority,
        "cutoff_at": incoming.cutoff_at,
        "carrier": incoming.carrier,
        "service": incoming.service,
        "ordered_at": incoming.ordered_at,
    }


def _line_key(line: NormalisedLine | OrderLine) -> tuple[Any, ...]:
    if isinstance(line, NormalisedLine):
        price, tax, disc = (line.unit_price, line.tax, line.discount)
        return (line.sku, line.quantity, *(d.quantize(CENT) for d in (price, tax, disc)))
    return (line.sku, line.quantity, line.unit_price, line.tax, line.discount)


def _new_lines(incoming: NormalisedOrder, products: dict[str, int]) -> list[OrderLine]:
    return [
        OrderLine(
            line_no=i,
            sku=line.sku,
            product_id=products.get(line.sku),
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price.quantize(CENT),
            tax=line.tax.quantize(CENT),
            discount=line.discount.quantize(CENT),
            channel_line_id=line.channel_line_id,
        )
        for i, line in enumerate(incoming.lines, start=1)
    ]


def known_products(session: Session, skus: set[str]) -> dict[str, int]:
    """SKU -> product id of the active products among `skus`, in one query."""
    if not skus:
        return {}
    rows = session.execute(
        select(Product.sku, Product.id).where(Product.sku.in_(skus), Product.active.is_(True))
    )
    return {sku: pid for sku, pid in rows}


def find_order(session: Session, channel: Channel, channel_order_id: str) -> Order | None:
    """The channel's order, locked for update (PostgreSQL) so concurrent updates queue."""
    return session.scalar(
        select(Order)
        .options(lazyload(Order.channel))
        .where(Order.channel_id == channel.id, Order.channel_order_id == channel_order_id)
        .with_for_update()
    )


def upsert_order(
    session: Session, channel: Channel, incoming: NormalisedOrder, *, actor: str
) -> IngestResult:
    """Insert a new order or apply an update to the existing one, in the caller's transaction."""
    existing = find_order(session, channel, incoming.channel_order_id)
    products = known_products(session, {line.sku for line in incoming.lines if line.sku})
    if existing is None:
        return _create(session, channel, incoming, products, actor=actor)
    return _update(session, channel, existing, incoming, products, actor=actor)


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


def _create(
    session: Session,
    channel: Channel,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
) -> IngestResult:
    # The number derives from the id, which exists only after the insert: a unique
    # placeholder first, the real number in the same transaction.
    order = Order(
        number=f"TMP-{uuid.uuid4().hex[:28]}",
        channel_id=channel.id,
        channel_order_id=incoming.channel_order_id,
        status=S.PENDING.value,
        lines=_new_lines(incoming, products),
        **_columns(incoming),
    )
    session.add(order)
    session.flush()
    order.number = order_number(order.id)
    record_event(
        session,
        order,
        "created",
        actor=actor,
        payload={"channel": channel.name, "channel_order_id": incoming.channel_order_id},
    )
    mark_changed(session, "order", order.id)
    if incoming.cancelled:
        # Created already cancelled (the create was missed): keep it so a late create
        # delivery finds the order cancelled instead of shipping it.
        transition(session, order, S.CANCELLED, actor=actor, reason="cancelled in channel")
        return _result("cancelled", order)
    _apply_validation(session, order, validate(incoming, products, channel.settings), actor)
    log.info(
        "order created",
        extra={"order": order.number, "channel": channel.name, "status": order.status},
    )
    return _result("created", order)


def _apply_validation(session: Session, order: Order, reasons: list[Reason], actor: str) -> None:
    """Confirm, hold, re-hold with new reasons, or release an order after validation."""
    status = S(order.status)
    if status is S.ON_HOLD:
        held = {r.get("code", "") for r in order.hold_reasons}
        if not held <= VALIDATION_CODES:
            return  # held by a person or another part of the system: not ours to lift
        if not reasons:
            release(session, order, actor=actor, reason="validation passed after channel update")
            if order.status == S.PENDING:
                transition(session, order, S.CONFIRMED, actor=actor, reason="validated")
            _resolve_exceptions(session, order, set(), actor)
        elif reasons != order.hold_reasons:
            _open_exceptions(session, order, reasons, held)
            _resolve_exceptions(session, order, {r["code"] for r in reasons}, actor)
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


def _open_exceptions(
    session: Session, order: Order, reasons: list[Reason], already: set[str]
) -> None:
    for reason in reasons:
        if reason["code"] in already:
            continue
        session.add(
            OrderException(
                order_id=order.id,
                kind="validation",
                code=reason["code"],
                message=reason["message"],
                details={"order": order.number},
            )
        )


def _resolve_exceptions(session: Session, order: Order, keep: set[str], actor: str) -> None:
    """Close open validation exceptions whose problem the channel has fixed."""
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
            row.resolution = "fixed by an update from the channel"


def _update(
    session: Session,
    channel: Channel,
    order: Order,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
) -> IngestResult:
    status = S(order.status)
    if status is S.CANCELLED:
        return _result("unchanged", order)
    if incoming.cancelled:
        return _cancel(session, channel, order, actor=actor)
    wanted = _columns(incoming)
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
        _apply_validation(session, order, validate(incoming, products, channel.settings), actor)
        if (order.status, order.hold_reasons) != before:
            mark_changed(session, "order", order.id)
            applied = applied or {"status": order.status}
    if refused and not applied:
        return _result("change_refused", order)
    return _result("updated" if applied or lines_changed else "unchanged", order)


def _refuse_change(
    session: Session, channel: Channel, order: Order, fields: list[str], actor: str
) -> None:
    """The channel changed an order that is already packed: a person must look at it."""
    message = (
        f"{channel.name} changed {', '.join(fields)} of order {order.number}, which is "
        f"already {order.status}; the change was not applied. Check the parcel."
    )
    session.add(
        OrderException(
            order_id=order.id,
            kind="late_change",
            code="changed_after_packing",
            message=message,
            details={"fields": fields},
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
        return _result("cancelled", order)
    already = session.scalar(
        select(OrderException.id).where(
            OrderException.order_id == order.id,
            OrderException.code == "cancel_after_packing",
            OrderException.resolved_at.is_(None),
        )
    )
    if already is None:
        session.add(
            OrderException(
                order_id=order.id,
                kind="cancellation",
                code="cancel_after_packing",
                message=(
                    f"{channel.name} cancelled order {order.number}, but it is already "
                    f"{status.value}. Stop the parcel or arrange a return."
                ),
                details={"status": status.value},
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
