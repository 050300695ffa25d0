"""The order lifecycle: explicit states, allowed transitions written once as data.

Only `transition()` changes `orders.status`, and it writes the `order_events` row in the same
transaction (the caller's session). An illegal transition raises and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import IllegalTransition
from service.models import Order, OrderEvent


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    BACKORDER = "backorder"
    CANCELLED = "cancelled"
    RETURNED = "returned"


S = OrderStatus

# The whole lifecycle. Anything not listed here is illegal.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.ON_HOLD, S.BACKORDER, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ALLOCATED, S.ON_HOLD, S.BACKORDER, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PICKING, S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.ALLOCATED, S.ON_HOLD, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.PICKING, S.ON_HOLD, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.RETURNED}),
    S.COMPLETED: frozenset({S.RETURNED}),
    S.ON_HOLD: frozenset({S.PENDING, S.CONFIRMED, S.ALLOCATED, S.PICKING, S.CANCELLED}),
    S.BACKORDER: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}

# States in which the warehouse still works on the order (a station may claim and pack it).
PACKABLE = frozenset({S.CONFIRMED, S.ALLOCATED, S.PICKING})
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def can_transition(current: str, target: str) -> bool:
    """Whether the lifecycle allows `current -> target`."""
    try:
        return OrderStatus(target) in TRANSITIONS[OrderStatus(current)]
    except ValueError:
        return False


def transition(
    session: Session,
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    station_id: int | None = None,
) -> OrderEvent:
    """Move `order` to `target` and append the audit event, or raise IllegalTransition."""
    current = OrderStatus(order.status)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final state)"
        raise IllegalTransition(
            f"Order {order.number} is {current}; it cannot become {target}. "
            f"From {current} it can become: {allowed}."
        )
    if target is S.ON_HOLD:
        order.held_from = current.value
    elif current is S.ON_HOLD:
        order.held_from = None
        order.hold_reasons = []
    order.status = target.value
    now = utcnow()
    order.status_changed_at = now
    order.version = (order.version or 1) + 1
    body = dict(payload or {})
    if reason:
        body["reason"] = reason
    event = OrderEvent(
        order_id=order.id,
        type="status_changed",
        from_status=current.value,
        to_status=target.value,
        payload=body,
        actor=actor,
        station_id=station_id,
        at=now,
    )
    session.add(event)
    mark_changed(session, "order", order.id)
    return event


_INSERT_EVENT = insert(OrderEvent).inline()  # record_event's statement, built once


def record_event(
    session: Session,
    order: Order,
    type_: str,
    *,
    actor: str,
    payload: dict[str, Any] | None = None,
    station_id: int | None = None,
) -> None:
    """Append a fact about an order that is not a status change (scan, weight, label...).

    Written at once with a plain INSERT: as an ORM object, the unit of work's flush
    bookkeeping for the one row was ~10 % of a worker's CPU under the push load (a scan
    push writes one event). Objects added before it (a transition's event, a new order) are
    flushed first, so the order exists and the events keep the order they happened in.
    """
    if session.new:
        session.flush()
    session.connection().execute(
        _INSERT_EVENT,
        {
            "order_id": order.id,
            "type": type_,
            "from_status": None,
            "to_status": None,
            "payload": dict(payload or {}),
            "actor": actor,
            "station_id": station_id,
            "at": utcnow(),
        },
    )


def hold(
    session: Session,
    order: Order,
    reasons: list[dict[str, Any]],
    *,
    actor: str,
    station_id: int | None = None,
) -> OrderEvent:
    """Put an order on hold with machine-readable reasons ({"code", "message"} each)."""
    event = transition(
        session,
        order,
        S.ON_HOLD,
        actor=actor,
        payload={"reasons": reasons},
        station_id=station_id,
    )
    order.hold_reasons = list(reasons)
    return event


def release(session: Session, order: Order, *, actor: str, reason: str) -> OrderEvent:
    """Release a hold back to the state the order was held from (pending if unknown)."""
    target = OrderStatus(order.held_from) if order.held_from else S.PENDING
    if target not in TRANSITIONS[S.ON_HOLD]:
        target = S.CONFIRMED
    return transition(session, order, target, actor=actor, reason=reason)
