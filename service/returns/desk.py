"""Returns as operators handle them (CLI and API): create by order number, book a unit in,
close, list and read. Each function works in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import Order, Return
from service.returns.states import Disposition, ReturnStatus
from service.returns.store import (
    ReturnRefused,
    Who,
    close_return,
    create_return,
    lines_by_sku,
    lock_order,
    receive_unit,
)

MAX_LISTED = 500


@dataclass(frozen=True)
class ReturnView:
    """A return as an operator reads it."""

    code: str
    order_number: str
    status: str
    source: str
    reason: str
    expected: list[dict[str, int | str]] = field(default_factory=list)
    units: list[dict[str, str]] = field(default_factory=list)


def view(session: Session, rma: Return) -> ReturnView:
    """The operator's view of a return."""
    number = session.scalar(select(Order.number).where(Order.id == rma.order_id)) or ""
    session.refresh(rma)
    return ReturnView(
        rma.code,
        number,
        rma.status,
        rma.source,
        rma.reason,
        [{"sku": li.sku, "quantity": li.quantity} for li in rma.lines],
        [
            {"sku": u.sku, "disposition": u.disposition, "reason": u.reason_code, "by": u.actor}
            for u in rma.units
        ],
    )


def _locked_order_by_number(session: Session, number: str) -> Order:
    order_id = session.scalar(select(Order.id).where(Order.number == number.strip().upper()))
    order = lock_order(session, order_id) if order_id is not None else None
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def _return(session: Session, code: str) -> tuple[Order, Return]:
    rma = session.scalar(select(Return).where(Return.code == code.strip().upper()))
    if rma is None:
        raise NotFound(f"There is no return {code}.")
    order = lock_order(session, rma.order_id)
    assert order is not None
    return order, rma


def create(
    session: Session, number: str, skus: Mapping[str, int], *, reason: str, actor: str
) -> ReturnView:
    """Announce a return of `skus` ({SKU: units}) of order `number`."""
    if not reason.strip():
        raise ReturnRefused("Say why the parcel comes back (--reason).")
    order = _locked_order_by_number(session, number)
    rma = create_return(
        session, order, lines_by_sku(order, skus), reason=reason, source="operator", who=Who(actor)
    )
    return view(session, rma)


def receive(
    session: Session,
    code: str,
    sku: str,
    disposition: Disposition,
    *,
    reason: str | None,
    actor: str,
    key: str | None = None,
) -> ReturnView:
    """Book one unit of `sku` in at the returns desk; `key` makes a retried call harmless."""
    order, rma = _return(session, code)
    line_id = next(iter(lines_by_sku(order, {sku: 1})))
    receive_unit(
        session,
        order,
        rma,
        line_id,
        disposition,
        reason=reason,
        unit_key=f"desk:{key or uuid.uuid4().hex}",
        who=Who(actor),
    )
    return view(session, rma)


def close(session: Session, code: str, *, actor: str) -> ReturnView:
    """Close a return (expected units not booked in become missing)."""
    order, rma = _return(session, code)
    close_return(session, order, rma, Who(actor))
    return view(session, rma)


def show(session: Session, code: str) -> ReturnView:
    """One return."""
    rma = session.scalar(select(Return).where(Return.code == code.strip().upper()))
    if rma is None:
        raise NotFound(f"There is no return {code}.")
    return view(session, rma)


def listing(session: Session, status: ReturnStatus | None, limit: int = 100) -> list[ReturnView]:
    """Returns, oldest first, optionally in one status."""
    query = select(Return).order_by(Return.created_at, Return.id).limit(min(limit, MAX_LISTED))
    if status is not None:
        query = query.where(Return.status == status.value)
    return [view(session, r) for r in session.scalars(query).all()]
