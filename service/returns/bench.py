"""The returns bench's side of the service: look a parcel up by any code, and apply the
station's return mutations (pushed through the outbox like pack events)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Order, Product, Station
from service.returns.store import (
    Who,
    check_returnable,
    close_return,
    expected_units,
    find_by_code,
    lock_order,
    open_return,
    receive_unit,
    received_units,
)
from sync.protocol import ReturnClosed, ReturnLineInfo, ReturnLookup, ReturnUnitReceived


def lookup(session: Session, code: str, station_id: int | None = None) -> ReturnLookup:
    """What the bench needs to receive the parcel a scanned code names (ReturnRefused if
    the code names nothing, or an order never shipped).

    The order is locked first, so no push of a unit of it lands between reading the
    station's `last_mutation_id` (`applied_through`) and counting the units back."""
    order, rma = find_by_code(session, code)
    check_returnable(order)
    lock_order(session, order.id)
    applied_through = (
        session.scalar(select(Station.last_mutation_id).where(Station.id == station_id))
        if station_id is not None
        else None
    )
    back = received_units(session, order.id)
    expected = expected_units(session, order.id)
    products = {
        p.id: p
        for p in (session.get(Product, li.product_id) for li in order.lines if li.product_id)
        if p is not None
    }
    lines = []
    for li in order.lines:
        product = products.get(li.product_id) if li.product_id else None
        lines.append(
            ReturnLineInfo(
                line_id=li.id,
                sku=li.sku,
                name=li.name,
                shipped=li.quantity,
                returned=back[li.id],
                expected=expected[li.id],
                gtins=[g.gtin14 for g in product.gtins] if product else [],
                aliases=[a.code for a in product.aliases] if product else [],
            )
        )
    return ReturnLookup(
        order_id=order.id,
        order_number=order.number,
        return_code=rma.code if rma else None,
        return_status=rma.status if rma else None,
        lines=lines,
        applied_through=applied_through,
    )


def apply_unit(
    session: Session, order: Order, p: ReturnUnitReceived, *, station_id: int, mutation_id: int
) -> dict[str, str]:
    """A unit booked in at a bench; keyed by the station's mutation, so it applies once."""
    who = Who(f"station:{station_id}", station_id)
    rma = open_return(session, order, p.return_code, who)
    receive_unit(
        session,
        order,
        rma,
        p.line_id,
        p.disposition,
        reason=p.reason.value if p.reason else None,
        unit_key=f"station:{station_id}:{mutation_id}",
        who=who,
    )
    return {"return_code": rma.code, "return_status": rma.status}


def apply_close(
    session: Session, order: Order, p: ReturnClosed, *, station_id: int
) -> dict[str, str]:
    """The bench closed the parcel."""
    who = Who(f"station:{station_id}", station_id)
    rma = open_return(session, order, p.return_code, who, create=False)
    close_return(session, order, rma, who)
    return {"return_code": rma.code, "return_status": rma.status}
