"""Returns: create, receive units with their disposition, close. Every step is audited in
order_events and every unit that comes back moves stock through the ledger.

All functions work in the caller's transaction on a locked order; a refusal raises
ReturnRefused before anything is written.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, object_session

from service.catalogue.fields import normalise_sku
from service.db import utcnow
from service.errors import Conflict
from service.lifecycle import OrderStatus, can_transition, record_event, transition
from service.models import (
    Label,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Parcel,
    Return,
    ReturnLine,
    ReturnUnit,
)
from service.returns.dispose import enqueue_dispose
from service.returns.refunds import enqueue_refund
from service.returns.states import (
    OPEN,
    RETURNABLE_ORDER_STATES,
    TRANSITIONS,
    Disposition,
    ReturnStatus,
)
from service.stock.allocation import UNPACK_CODE, note_new_units
from service.stock.ledger import B_GRADE, MAIN, MovementKind, move, tracked

R = ReturnStatus
_MOVES: dict[Disposition, tuple[MovementKind, int, str]] = {
    Disposition.RESTOCK: (MovementKind.RETURNED_TO_STOCK, 1, MAIN),
    Disposition.B_GRADE: (MovementKind.B_GRADE, 1, B_GRADE),
    Disposition.WRITE_OFF: (MovementKind.WRITTEN_OFF, 0, MAIN),  # recorded, never stock
}


class ReturnRefused(Conflict):
    """A return step that does not fit the order or the return; nothing was recorded."""

    code = "return_refused"


@dataclass(frozen=True)
class Who:
    """Who records a return step: actor string and, at the bench, the station."""

    actor: str
    station_id: int | None = None


def lock_order(session: Session, order_id: int) -> Order | None:
    """The order, locked for update (PostgreSQL)."""
    return session.scalar(
        select(Order).options(lazyload(Order.channel)).where(Order.id == order_id).with_for_update()
    )


def _cancelled_after_packing(order: Order) -> bool:
    """A cancelled order whose parcel was packed: it never left, but its units are boxed."""
    session = object_session(order)
    if order.status != OrderStatus.CANCELLED.value or session is None:
        return False
    packed = session.scalar(
        select(OrderEvent.id)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.PACKED.value)
        .limit(1)
    )
    return packed is not None


def check_returnable(order: Order) -> None:
    """ReturnRefused unless something of the order left the shelf: shipped, or packed and
    then cancelled (its parcel is unpacked through the returns bench)."""
    if order.status not in RETURNABLE_ORDER_STATES and not _cancelled_after_packing(order):
        raise ReturnRefused(
            f"Order {order.number} was never shipped (it is {order.status}); "
            "there is nothing to return."
        )


def received_units(session: Session, order_id: int) -> Counter[int]:
    """Units per order line already booked in (missing ones not counted), in any return."""
    rows = session.execute(
        select(ReturnUnit.order_line_id, func.count())
        .join(Return, Return.id == ReturnUnit.return_id)
        .where(Return.order_id == order_id, ReturnUnit.disposition != Disposition.MISSING.value)
        .group_by(ReturnUnit.order_line_id)
    )
    return Counter({line_id: int(n) for line_id, n in rows})


def expected_units(session: Session, order_id: int, *, skip: int | None = None) -> Counter[int]:
    """Units per order line announced by the order's open returns (all but `skip`)."""
    query = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id == order_id, Return.status.in_([s.value for s in OPEN]))
        .group_by(ReturnLine.order_line_id)
    )
    if skip is not None:
        query = query.where(Return.id != skip)
    return Counter({line_id: int(n or 0) for line_id, n in session.execute(query)})


def lines_by_sku(order: Order, wanted: Mapping[str, int]) -> dict[int, int]:
    """Order line id -> units, for {SKU: units}; ReturnRefused for a SKU not in the order."""
    found: dict[int, int] = {}
    for sku, quantity in wanted.items():
        line = next((li for li in order.lines if li.sku == normalise_sku(sku)), None)
        if line is None:
            raise ReturnRefused(f"{sku} is not in order {order.number}; nothing was recorded.")
        if quantity < 1:
            raise ReturnRefused(f"Return at least one unit of {sku}.")
        found[line.id] = found.get(line.id, 0) + quantity
    return found


def create_return(
    session: Session,
    order: Order,
    lines: Mapping[int, int],
    *,
    reason: str,
    source: str,
    who: Who,
    channel_return_id: str | None = None,
) -> Return:
    """Announce a return of `lines` (order line id -> units) of a shipped order."""
    check_returnable(order)
    by_id = {line.id: line for line in order.lines}
    already = received_units(session, order.id) + expected_units(session, order.id)
    for line_id, quantity in lines.items():
        line = by_id.get(line_id)
        if line is None:
            raise ReturnRefused(f"Line {line_id} is not in order {order.number}.")
        if quantity + already[line_id] > line.quantity:
            raise ReturnRefused(
                f"Order {order.number} shipped {line.quantity} of {line.sku}; "
                f"{already[line_id]} already returned or expected, so {quantity} more "
                "cannot come back."
            )
    now = utcnow()
    rma = Return(
        code=f"TMP-{uuid.uuid4().hex[:20]}",
        order_id=order.id,
        status=R.EXPECTED.value,
        reason=reason.strip()[:2000],
        source=source,
        channel_return_id=channel_return_id,
        created_at=now,
        updated_at=now,
    )
    rma.lines = [
        ReturnLine(order_line_id=i, sku=by_id[i].sku, quantity=q) for i, q in sorted(lines.items())
    ]
    session.add(rma)
    session.flush()
    rma.code = f"RMA-{rma.id:06d}"
    record_event(
        session,
        order,
        "return_created",
        actor=who.actor,
        station_id=who.station_id,
        payload={
            "return": rma.code,
            "source": source,
            "reason": rma.reason,
            "lines": [{"sku": li.sku, "quantity": li.quantity} for li in rma.lines],
        },
    )
    return rma


def set_status(session: Session, order: Order, rma: Return, target: ReturnStatus, who: Who) -> None:
    """Move a return to `target` (an explicit, audited transition)."""
    current = R(rma.status)
    if target not in TRANSITIONS[current]:
        raise ReturnRefused(f"Return {rma.code} is {current}; it cannot become {target}.")
    rma.status = target.value
    rma.updated_at = utcnow()
    record_event(
        session,
        order,
        "return_status_changed",
        actor=who.actor,
        station_id=who.station_id,
        payload={"return": rma.code, "from": current.value, "to": target.value},
    )


def open_return(
    session: Session, order: Order, code: str | None, who: Who, *, create: bool = True
) -> Return:
    """The return a bench is receiving: the RMA named by `code`, else the order's open bench
    return, else (if `create`) a new one for an unannounced parcel."""
    if code is not None:
        rma = session.scalar(select(Return).where(Return.code == code.strip().upper()))
        if rma is None or rma.order_id != order.id:
            raise ReturnRefused(f"There is no return {code} for order {order.number}.")
        return rma
    rma = session.scalar(
        select(Return)
        .where(
            Return.order_id == order.id,
            Return.source == "bench",
            Return.status.in_([s.value for s in OPEN]),
        )
        .order_by(Return.id.desc())
        .limit(1)
    )
    if rma is None and not create:
        raise ReturnRefused(f"Nothing of order {order.number} was booked in at this bench.")
    if rma is None:
        rma = create_return(
            session, order, {}, reason="unannounced parcel", source="bench", who=who
        )
    return rma


def receive_unit(
    session: Session,
    order: Order,
    rma: Return,
    line_id: int,
    disposition: Disposition,
    *,
    reason: str | None,
    unit_key: str,
    who: Who,
) -> ReturnUnit:
    """Book one unit in with its disposition and its ledger movement; the same `unit_key`
    again changes nothing."""
    done = session.scalar(
        select(ReturnUnit).where(ReturnUnit.return_id == rma.id, ReturnUnit.unit_key == unit_key)
    )
    if done is not None:
        return done
    check_returnable(order)
    if R(rma.status) not in OPEN:
        raise ReturnRefused(f"Return {rma.code} is already {rma.status}; nothing was recorded.")
    line: OrderLine | None = next((li for li in order.lines if li.id == line_id), None)
    if line is None:
        raise ReturnRefused(f"That unit is not in order {order.number}; nothing was recorded.")
    if disposition is Disposition.MISSING:
        raise ReturnRefused("A unit on the bench cannot be missing; close the return instead.")
    if received_units(session, order.id)[line.id] + 1 > line.quantity:
        raise ReturnRefused(
            f"Order {order.number} shipped {line.quantity} of {line.sku}, and all of them are "
            "already back; nothing was recorded."
        )
    if rma.status == R.EXPECTED:
        set_status(session, order, rma, R.RECEIVED, who)
    unit = ReturnUnit(
        return_id=rma.id,
        unit_key=unit_key[:80],
        order_line_id=line.id,
        sku=line.sku,
        disposition=disposition.value,
        reason_code=(reason or "")[:40],
        station_id=who.station_id,
        actor=who.actor,
        at=utcnow(),
    )
    session.add(unit)
    session.flush()
    if line.product_id is not None and tracked(session, [line.product_id]):
        kind, units, location = _MOVES[disposition]
        move(
            session,
            line.product_id,
            kind,
            on_hand=units,
            actor=who.actor,
            location=location,
            reason=f"return {rma.code}" + (f" ({reason})" if reason else ""),
            order_id=order.id,
            event_key=f"return:{unit.id}",
        )
        if disposition is Disposition.RESTOCK:
            note_new_units(session, line.product_id)
    enqueue_dispose(session, order, rma, now=utcnow())
    record_event(
        session,
        order,
        "return_unit_received",
        actor=who.actor,
        station_id=who.station_id,
        payload={
            "return": rma.code,
            "sku": line.sku,
            "disposition": disposition.value,
            "reason": reason,
        },
    )
    return unit


def close_return(session: Session, order: Order, rma: Return, who: Who) -> Return:
    """Close the return: units announced but not booked in become `missing`; inspected, then
    closed; the order becomes `returned` once every shipped unit is back."""
    if rma.status == R.CLOSED:
        return rma
    if rma.status == R.INSPECTED:
        set_status(session, order, rma, R.CLOSED, who)
        enqueue_refund(session, order, rma, now=utcnow())
        return rma
    booked = Counter(
        session.scalars(
            select(ReturnUnit.order_line_id).where(ReturnUnit.return_id == rma.id)
        ).all()
    )
    missing = 0
    for expected in rma.lines:
        for n in range(max(expected.quantity - booked[expected.order_line_id], 0)):
            missing += 1
            session.add(
                ReturnUnit(
                    return_id=rma.id,
                    unit_key=f"missing:{expected.order_line_id}:{n}",
                    order_line_id=expected.order_line_id,
                    sku=expected.sku,
                    disposition=Disposition.MISSING.value,
                    reason_code="",
                    station_id=who.station_id,
                    actor=who.actor,
                    at=utcnow(),
                )
            )
    if rma.status == R.EXPECTED:
        set_status(session, order, rma, R.RECEIVED, who)
    set_status(session, order, rma, R.INSPECTED, who)
    set_status(session, order, rma, R.CLOSED, who)
    session.flush()
    if missing:  # Shopify hears of them too
        enqueue_dispose(session, order, rma, now=utcnow())
    enqueue_refund(session, order, rma, now=utcnow())
    back = received_units(session, order.id)
    if all(back[li.id] >= li.quantity for li in order.lines):
        _parcel_unpacked(session, order, rma, who)
    if all(back[li.id] >= li.quantity for li in order.lines) and can_transition(
        order.status, OrderStatus.RETURNED
    ):
        transition(
            session,
            order,
            OrderStatus.RETURNED,
            actor=who.actor,
            station_id=who.station_id,
            reason=f"every unit came back ({rma.code})",
        )
    return rma


def _parcel_unpacked(session: Session, order: Order, rma: Return, who: Who) -> None:
    """Every unit of a parcel cancelled after packing is back: its notice is resolved."""
    for notice in session.scalars(
        select(OrderException).where(
            OrderException.order_id == order.id,
            OrderException.code == UNPACK_CODE,
            OrderException.resolved_at.is_(None),
        )
    ):
        notice.resolved_at = utcnow()
        notice.resolved_by = who.actor[:100]
        notice.resolution = f"The parcel was unpacked at the returns bench ({rma.code})."


def find_by_code(session: Session, code: str) -> tuple[Order, Return | None]:
    """The order (and its open return) a scanned code names: an RMA code, an order number,
    or a parcel's tracking number. ReturnRefused if none."""
    text = code.strip()
    rma = session.scalar(select(Return).where(Return.code == text.upper()))
    if rma is None:
        # A house return label's tracking number names its return (carrier_ref return:CODE).
        ref = session.scalar(
            select(Label.carrier_ref)
            .where(Label.tracking_number == text, Label.carrier_ref.startswith("return:"))
            .limit(1)
        )
        if ref:
            named = session.scalar(select(Return).where(Return.code == ref.removeprefix("return:")))
            rma = named if named is not None and R(named.status) in OPEN else None
    if rma is not None:
        order = session.get(Order, rma.order_id)
        assert order is not None
        return order, rma
    order = session.scalar(select(Order).where(Order.number == text.upper()))
    if order is None:
        order_id = session.scalar(
            select(Parcel.order_id).where(Parcel.tracking_number == text).limit(1)
        ) or session.scalar(select(Label.order_id).where(Label.tracking_number == text).limit(1))
        order = session.get(Order, order_id) if order_id is not None else None
    if order is None:
        if text.upper().startswith("RMA-"):
            raise ReturnRefused(f"There is no return {text}.")
        raise ReturnRefused(f"No order, return or parcel is known by {text}.")
    open_rma = session.scalar(
        select(Return)
        .where(Return.order_id == order.id, Return.status.in_([s.value for s in OPEN]))
        .order_by(Return.id)
        .limit(1)
    )
    return order, open_rma
