"""House-carrier return labels: the customer's address to the warehouse, for a shipped order.

A return label belongs to a return (RMA): the one named, else the order's open return, else
a new one announcing every unit not yet back. It gets its own house tracking number and is
kept as two `labels` rows (PDF for the office to e-mail, ZPL for a thermal printer) with
status `return` and `carrier_ref` `return:<RMA code>`; those never count as the order's
outbound labels (which are `ready` or `printed`) and are never sent to stations. Scanning
the number at the returns bench finds the order and its return (`store.find_by_code`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.base import CarrierError, ParcelSpec, ShipmentRequest
from service.carriers.house import NAME as HOUSE
from service.carriers.house import HouseCarrier
from service.carriers.registry import carrier_config, sender_address
from service.db import utcnow
from service.errors import NotFound
from service.lifecycle import OrderStatus, record_event
from service.models import Label, Order, Return
from service.returns.desk import _locked_order_by_number
from service.returns.states import OPEN, RETURNABLE_ORDER_STATES
from service.returns.store import (
    ReturnRefused,
    Who,
    create_return,
    expected_units,
    received_units,
)
from service.shipping.labels import expected_grams, recipient

STATUS = "return"  # a live return label
VOID = "cancelled"  # replaced by `--again`
REF_PREFIX = "return:"


@dataclass(frozen=True)
class IssuedReturnLabel:
    """A return label just issued (or read back)."""

    order_number: str
    return_code: str
    tracking_number: str
    pdf: bytes
    zpl: bytes
    issued_at: datetime
    replaced: list[str]


def live_return_labels(session: Session, order_id: int) -> list[Label]:
    """The order's return labels still valid (not replaced)."""
    return list(
        session.scalars(
            select(Label)
            .where(
                Label.order_id == order_id,
                Label.status == STATUS,
                Label.carrier_ref.startswith(REF_PREFIX),
            )
            .order_by(Label.id)
        )
    )


def return_code_of_label(session: Session, tracking_number: str) -> str | None:
    """The RMA code a return label's tracking number was issued for, if it is one."""
    ref = session.scalar(
        select(Label.carrier_ref)
        .where(
            Label.tracking_number == tracking_number.strip(),
            Label.carrier_ref.startswith(REF_PREFIX),
        )
        .limit(1)
    )
    return ref.removeprefix(REF_PREFIX) if ref else None


def _check_order(order: Order) -> None:
    if order.status == OrderStatus.CANCELLED.value:
        raise ReturnRefused(
            f"Order {order.number} is cancelled; it gets no return label. "
            "A packed parcel of a cancelled order goes to the returns bench as it is."
        )
    if order.status not in RETURNABLE_ORDER_STATES:
        raise ReturnRefused(
            f"Order {order.number} was never shipped (it is {order.status}); "
            "a return label is issued only for a shipped order."
        )


def _the_return(session: Session, order: Order, code: str | None, who: Who) -> Return:
    if code is not None:
        rma = session.scalar(select(Return).where(Return.code == code.strip().upper()))
        if rma is None or rma.order_id != order.id:
            raise ReturnRefused(f"There is no return {code} for order {order.number}.")
        if rma.status not in {s.value for s in OPEN}:
            raise ReturnRefused(
                f"Return {rma.code} is already {rma.status}; issue the label without --rma "
                "to start a new return."
            )
        return rma
    rma = session.scalar(
        select(Return)
        .where(Return.order_id == order.id, Return.status.in_([s.value for s in OPEN]))
        .order_by(Return.id.desc())
        .limit(1)
    )
    if rma is not None:
        return rma
    already = received_units(session, order.id) + expected_units(session, order.id)
    lines = {li.id: li.quantity - already[li.id] for li in order.lines}
    lines = {line_id: n for line_id, n in lines.items() if n > 0}
    if not lines:
        raise ReturnRefused(
            f"Every unit of order {order.number} is already back or announced; "
            "no return label is needed."
        )
    return create_return(
        session, order, lines, reason="return label issued", source="operator", who=who
    )


def issue(
    session: Session,
    number: str,
    *,
    rma_code: str | None = None,
    again: bool = False,
    actor: str,
) -> IssuedReturnLabel:
    """Issue a house-carrier return label for order `number` (in the caller's transaction).

    ReturnRefused (nothing recorded) for an order never shipped or cancelled, an RMA not of
    the order or closed, or an order that already has a live return label (unless `again`:
    then the old one is void and the new one replaces it)."""
    order = _locked_order_by_number(session, number)
    _check_order(order)
    live = live_return_labels(session, order.id)
    if live and not again:
        raise ReturnRefused(
            f"Order {order.number} already has return label {live[0].tracking_number} "
            f"({live[0].carrier_ref.removeprefix(REF_PREFIX)}); "
            "use --again to void it and issue a new one."
        )
    who = Who(actor)
    rma = _the_return(session, order, rma_code, who)
    config = carrier_config(HOUSE, order.channel.settings if order.channel else None)
    try:
        carrier = HouseCarrier(config)
        request = ShipmentRequest(
            order_number=order.number,
            sender=recipient(order),
            recipient=sender_address(config),
            parcels=[ParcelSpec(1, expected_grams(session, order))],
            parcel_count=1,
            service="RETURN",
            label_format="pdf",
        )
        with session.begin_nested():
            (pdf,) = carrier.create_shipment(session, request)
        zpl = carrier.recount(
            session,
            replace(request, label_format="zpl"),
            pdf.tracking_number,
        )
    except CarrierError as exc:
        raise ReturnRefused(
            f"The return label for order {order.number} could not be made: {exc.message}."
        ) from exc
    assert zpl is not None
    replaced = []
    for old in live:
        old.status = VOID
        replaced.append(old.tracking_number)
    now = utcnow()
    grams = request.parcels[0].weight_grams
    for created in (pdf, zpl):
        session.add(
            Label(
                order_id=order.id,
                parcel_no=1,
                parcel_count=1,
                carrier=HOUSE,
                tracking_number=created.tracking_number,
                format=created.label_format,
                content=created.label,
                weight_min_grams=0,
                weight_max_grams=grams,
                status=STATUS,
                carrier_ref=f"{REF_PREFIX}{rma.code}",
                created_at=now,
            )
        )
    record_event(
        session,
        order,
        "return_label_issued",
        actor=actor,
        payload={
            "return": rma.code,
            "carrier": HOUSE,
            "tracking_number": pdf.tracking_number,
            "replaced": sorted(set(replaced)),
        },
    )
    session.flush()
    return IssuedReturnLabel(
        order.number,
        rma.code,
        pdf.tracking_number,
        pdf.label,
        zpl.label,
        now,
        sorted(set(replaced)),
    )


def read(session: Session, code: str) -> IssuedReturnLabel:
    """The live return label of a return (RMA code) or of an order (order number)."""
    text = code.strip().upper()
    rma = session.scalar(select(Return).where(Return.code == text))
    order = session.get(Order, rma.order_id) if rma else None
    if order is None:
        order = session.scalar(select(Order).where(Order.number == text))
    labels = live_return_labels(session, order.id) if order else []
    if rma is not None:
        labels = [lb for lb in labels if lb.carrier_ref == f"{REF_PREFIX}{rma.code}"]
    by_format = {lb.format: lb for lb in labels}
    if order is None:
        raise NotFound(f"No order or return {code}.")
    if "pdf" not in by_format or "zpl" not in by_format:
        raise ReturnRefused(f"{code} has no return label; issue one first.")
    pdf, zpl = by_format["pdf"], by_format["zpl"]
    return IssuedReturnLabel(
        order.number,
        pdf.carrier_ref.removeprefix(REF_PREFIX),
        pdf.tracking_number,
        pdf.content,
        zpl.content,
        pdf.created_at,
        [],
    )
