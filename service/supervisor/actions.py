"""Supervisor actions on exceptions and orders: hold, release, reassign, cancel, resolve.

Each action locks the order, refuses with a Conflict (409) that says why when the order
changed since the supervisor looked (another station packed it, the shop cancelled it) or is
in a state the action cannot apply to, and otherwise changes the order only through
service.lifecycle and records a `supervisor_action` event naming who acted, where and why.
The caller commits; a refusal raises before anything was written.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import Conflict, NotFound
from service.lifecycle import (
    OrderStatus,
    can_transition,
    hold,
    record_event,
    release,
    transition,
)
from service.models import (
    Batch,
    Label,
    Lease,
    Order,
    OrderException,
    Station,
    StationMutation,
    User,
)
from service.shipping.labels import LIVE, LabelKept, NoNewLabel, replace_label, void_labels
from service.stock.allocation import allocate_order
from service.stock.allocation import release_order as release_stock
from service.supervisor.queries import PACKED_OR_LATER
from service.supervisor.schemas import ACTION_MESSAGES, ActionOut
from service.sync_server.leases import release_lease

S = OrderStatus
_REASSIGNABLE = frozenset({S.CONFIRMED, S.ALLOCATED, S.PICKING, S.ON_HOLD})


class Acting(Protocol):
    """Whoever acts: a supervisor at a bench, or an office user in the console."""

    @property
    def actor(self) -> str:
        """The audit log's name for them ("user:3", "office:ann@example.com")."""
        ...

    @property
    def station_id(self) -> int | None:
        """The bench they act from (None: not at a bench)."""
        ...

    def facts(self, action: str, reason: str, **extra: Any) -> dict[str, Any]:
        """The payload of the event that records the action."""
        ...


class Supervisor:
    """Who is acting and from which station (both already verified by the API)."""

    def __init__(self, user: User, station: Station) -> None:
        self.user = user
        self.station = station

    @property
    def actor(self) -> str:
        return f"user:{self.user.id}"

    @property
    def station_id(self) -> int | None:
        return self.station.id

    def facts(self, action: str, reason: str, **extra: Any) -> dict[str, Any]:
        return {
            "action": action,
            "reason": reason,
            "supervisor_id": self.user.id,
            "supervisor_name": self.user.name,
            "station_id": self.station.id,
            **extra,
        }


def lock_order(session: Session, order_id: int) -> Order:
    """The order, row-locked for the rest of the transaction, or NotFound."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(of=Order))
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def _why_changed(session: Session, order: Order) -> str:
    status = S(order.status)
    if status in PACKED_OR_LATER:
        where = session.scalar(
            select(Station.name)
            .join(Lease, Lease.station_id == Station.id)
            .where(Lease.order_id == order.id)
        )
        return f"it was packed{f' at station {where}' if where else ''} meanwhile"
    if status is S.CANCELLED:
        return "it was cancelled meanwhile (at the shop or by someone else)"
    return f"it changed meanwhile and is now {status.value}"


def check_unchanged(session: Session, order: Order, expected_version: int | None) -> None:
    """Refuse (409, saying why) when the order changed since the caller saw `expected_version`."""
    if expected_version is not None and order.version != expected_version:
        raise Conflict(
            f"Order {order.number} was not changed: {_why_changed(session, order)}. "
            "Refresh and look again."
        )


def _out(order: Order, action: str, who: Acting, code: str, **params: object) -> ActionOut:
    said = {"order": order.number} | {k: str(v) for k, v in params.items()}
    words = said | ({"status": said["status"].replace("_", " ")} if "status" in said else {})
    return ActionOut(
        order_id=order.id,
        order_number=order.number,
        order_status=order.status,
        order_version=order.version,
        action=action,
        actor=who.actor,
        message=ACTION_MESSAGES[code].format(**words),
        code=code,
        params=said,
    )


def _record(session: Session, order: Order, who: Acting, facts: dict[str, Any]) -> None:
    record_event(
        session,
        order,
        "supervisor_action",
        actor=who.actor,
        payload=facts,
        station_id=who.station_id,
    )


def _close_exceptions(
    session: Session, order_id: int, who: Acting, why: str, kinds: tuple[str, ...] | None
) -> list[int]:
    query = select(OrderException).where(
        OrderException.order_id == order_id, OrderException.resolved_at.is_(None)
    )
    if kinds is not None:
        query = query.where(OrderException.kind.in_(kinds))
    closed: list[int] = []
    now = utcnow()
    for exc in session.scalars(query):
        exc.resolved_at, exc.resolved_by, exc.resolution = now, who.actor, why
        closed.append(exc.id)
    return closed


def release_order(
    session: Session, order_id: int, who: Acting, reason: str, expected_version: int | None
) -> ActionOut:
    """Release a hold to the status it was held from; its hold exceptions close."""
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    if order.status != S.ON_HOLD:
        raise Conflict(f"Order {order.number} is {order.status}, not on hold; nothing released.")
    release(session, order, actor=who.actor, reason=reason)
    allocate_order(session, order, actor=who.actor)  # back in the pool: short means backorder
    closed = _close_exceptions(session, order.id, who, reason, ("hold", "validation"))
    _record(session, order, who, who.facts("release", reason, closed_exceptions=closed))
    return _out(order, "release", who, "released", status=order.status)


def hold_order(
    session: Session,
    order_id: int,
    who: Acting,
    reason: str,
    expected_version: int | None,
    code: str = "operator_hold",
) -> ActionOut:
    """Put an order on hold with a reason; it shows as an open `hold` exception."""
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    if not can_transition(order.status, S.ON_HOLD):
        raise Conflict(f"Order {order.number} is {order.status}; it cannot be put on hold.")
    hold(session, order, [{"code": code, "message": reason}], actor=who.actor)
    session.add(
        OrderException(order_id=order.id, kind="hold", code=code, message=reason, details={})
    )
    _record(session, order, who, who.facts("hold", reason))
    return _out(order, "hold", who, "held")


def batch_order(
    session: Session,
    order_id: int,
    who: Acting,
    reason: str,
    expected_version: int | None,
    batch_code: str,
) -> ActionOut:
    """Put a confirmed order that is in no batch into an open batch (triage)."""
    from service.batching import add_to_batch

    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    batch = add_to_batch(session, order, batch_code, actor=who.actor)
    _record(session, order, who, who.facts("batch", reason, batch=batch.code))
    return _out(order, "batch", who, "batched", batch=batch.code)


def cancel_order(
    session: Session, order_id: int, who: Acting, reason: str, expected_version: int | None
) -> ActionOut:
    """Cancel an order that is not packed yet; its open exceptions close with the reason."""
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    if order.status in PACKED_OR_LATER:
        raise Conflict(
            f"Order {order.number} is {order.status}: {_why_changed(session, order)}. "
            "Unpack it first; nothing was cancelled."
        )
    if order.status == S.CANCELLED:
        raise Conflict(f"Order {order.number} is already cancelled; nothing was changed.")
    transition(
        session, order, S.CANCELLED, actor=who.actor, reason=reason, station_id=who.station_id
    )
    void_labels(session, order, reason="order_cancelled", actor=who.actor)
    release_stock(session, order, actor=who.actor)
    closed = _close_exceptions(session, order.id, who, f"cancelled: {reason}", None)
    _record(session, order, who, who.facts("cancel", reason, closed_exceptions=closed))
    return _out(order, "cancel", who, "cancelled")


_NOT_RELABELLED = frozenset({S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.RETURNED})


def relabel_order(
    session: Session,
    order_id: int,
    label_id: int,
    who: Acting,
    reason: str,
    expected_version: int | None,
) -> ActionOut:
    """Void one live label at its carrier and make a new one for the same box.

    Refused (409, nothing changed) when the order changed since the caller looked, has left
    the warehouse, the label is no longer live, the carrier makes no new label, or the
    carrier will not void the old one (it scanned the parcel already).
    """
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    label = session.get(Label, label_id)
    if label is None or label.order_id != order.id:
        raise NotFound(f"Order {order.number} has no label {label_id}.")
    if S(order.status) in _NOT_RELABELLED:
        raise Conflict(f"Order {order.number} is {order.status}; its labels are not replaced.")
    if label.status not in LIVE:
        raise Conflict(
            f"Label {label.tracking_number} is {label.status} already; nothing was changed."
        )
    try:
        new, outcome = replace_label(session, order, label, actor=who.actor)
    except NoNewLabel as exc:
        raise Conflict(
            f"{label.carrier} made no new label: {exc.message} "
            f"Nothing was changed; label {label.tracking_number} is still valid."
        ) from exc
    except LabelKept as exc:
        why = (
            "it has the parcel already (scanned)"
            if exc.error.reason == "already_scanned"
            else f"it said: {exc.error.message}"
        )
        raise Conflict(
            f"{label.carrier} refused to void label {label.tracking_number}: {why}. "
            "Nothing was changed; the old label stays valid. Ship the parcel as it is, or "
            "deal with it at the carrier."
        ) from exc
    order.version = (order.version or 1) + 1
    mark_changed(session, "order", order.id)
    _record(
        session,
        order,
        who,
        who.facts(
            "relabel",
            reason,
            old_tracking_number=label.tracking_number,
            new_tracking_number=new.tracking_number,
            box_no=label.parcel_no,
            carrier_cancel_queued=outcome == "queued",
        ),
    )
    return _out(
        order,
        "relabel",
        who,
        "relabelled_void_queued" if outcome == "queued" else "relabelled",
        box=label.parcel_no,
        new=new.tracking_number,
        old=label.tracking_number,
    )


def reassign_order(
    session: Session,
    order_id: int,
    batch_id: int,
    who: Acting,
    reason: str,
    expected_version: int | None,
) -> ActionOut:
    """Move an unpacked order into another batch (another station's); its lease ends."""
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"No batch {batch_id}.", field="batch_id")
    if S(order.status) not in _REASSIGNABLE:
        raise Conflict(
            f"Order {order.number} is {order.status}: {_why_changed(session, order)}. "
            "It was not reassigned."
        )
    if batch.status == "done":
        raise Conflict(f"Batch {batch.code} is done; choose an open or assigned batch.")
    if order.batch_id == batch.id:
        raise Conflict(f"Order {order.number} is already in batch {batch.code}.")
    previous = order.batch_id
    if order.status == S.CONFIRMED:
        transition(
            session,
            order,
            S.ALLOCATED,
            actor=who.actor,
            reason=reason,
            payload={"batch": batch.code},
            station_id=who.station_id,
        )
    lease = session.get(Lease, order.id)
    if lease is not None and lease.released_at is None:
        # The old station must stop: its next event carries the old epoch and is rejected.
        release_lease(
            session,
            order,
            lease,
            actor=who.actor,
            station_id=lease.station_id,
            why="reassigned_by_supervisor",
        )
    order.batch_id = batch.id
    order.version = (order.version or 1) + 1
    mark_changed(session, "order", order.id)
    mark_changed(session, "batch", batch.id)
    _record(
        session,
        order,
        who,
        who.facts(
            "reassign",
            reason,
            batch=batch.code,
            batch_id=batch.id,
            previous_batch_id=previous,
            to_station_id=batch.station_id,
        ),
    )
    return _out(order, "reassign", who, "reassigned", batch=batch.code)


def resolve_exception(session: Session, exception_id: int, who: Acting, reason: str) -> ActionOut:
    """Mark an open exception dealt with; resolving it twice is a 409."""
    exc = session.get(OrderException, exception_id, with_for_update=True)
    if exc is None:
        raise NotFound(f"No exception {exception_id}.")
    if exc.resolved_at is not None:
        raise Conflict(f"Exception {exception_id} was already resolved by {exc.resolved_by}.")
    order = lock_order(session, exc.order_id)
    exc.resolved_at, exc.resolved_by, exc.resolution = utcnow(), who.actor, reason
    _record(
        session,
        order,
        who,
        who.facts("resolve", reason, exception_id=exc.id, kind=exc.kind, code=exc.code),
    )
    return _out(order, "resolve", who, "exception_resolved")


def resolve_rejection(
    session: Session, station_id: int, mutation_id: int, who: Acting, reason: str
) -> ActionOut:
    """Mark a rejected station mutation looked at (kept as a resolved 'rejected' exception)."""
    mut = session.get(StationMutation, (station_id, mutation_id))
    if mut is None or mut.status != "rejected":
        raise NotFound(f"No rejected mutation {mutation_id} of station {station_id}.")
    code = f"mutation:{station_id}:{mutation_id}"
    done = session.scalar(
        select(OrderException).where(OrderException.kind == "rejected", OrderException.code == code)
    )
    if done is not None:
        raise Conflict(f"That rejection was already resolved by {done.resolved_by}.")
    order = session.get(Order, mut.order_id) if mut.order_id is not None else None
    if order is None:
        raise Conflict("The rejected event names no known order; nothing to resolve against.")
    now = utcnow()
    session.add(
        OrderException(
            order_id=order.id,
            kind="rejected",
            code=code,
            message=mut.message or "",
            details={"station_id": station_id, "mutation_id": mutation_id, "reason": mut.reason},
            created_at=mut.applied_at,
            resolved_at=now,
            resolved_by=who.actor,
            resolution=reason,
        )
    )
    _record(
        session,
        order,
        who,
        who.facts("resolve", reason, station_mutation=[station_id, mutation_id]),
    )
    return _out(order, "resolve", who, "rejection_resolved")
