"""Console pages for orders: search, the single order view, its actions and label downloads.

Every action goes through the functions the supervisor API uses (service.supervisor.actions,
service.supervisor.address), with the version the person saw: an order that changed since
is not touched, and the page shows what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.api.order_view import order_extras
from service.batching import open_batch_codes
from service.errors import NotFound, ServiceError
from service.lifecycle import OrderStatus
from service.models import Channel, Label, Order, OrderEvent
from service.office.sessions import SignedIn, audit
from service.supervisor import actions
from service.supervisor.address import ADDRESS_CODES, FIELDS, edit_address
from service.web.auth import PREFIX, OperatorAction, Viewer
from service.web.i18n import N_
from service.web.render import page
from service.web.search import OrderFilters, search_orders

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Reason = Annotated[str, Form(min_length=1, max_length=500)]
Version = Annotated[int, Form()]
SeenEvent = Annotated[int, Form()]

DONE = {
    "hold": N_("The order is on hold."),
    "release": N_("The hold was released."),
    "cancel": N_("The order was cancelled; its labels were voided."),
    "address": N_("The address was saved and re-validated."),
    "relabel": N_("A new label was made and the old one voided at the carrier."),
    "batch": N_("The order is in the batch; the batch's station pulls it."),
}
MEDIA = {"zpl": "application/zpl", "pdf": "application/pdf", "png": "image/png"}


@router.get("/orders")
def orders_page(
    request: Request,
    session: DbSession,
    who: Viewer,
    q: str = "",
    status: str = "",
    channel: str = "",
    country: str = "",
    carrier: str = "",
    batch: str = "",
    exception: str = "",
    before: int | None = None,
) -> Response:
    """Orders newest first, found by a search term and filters."""
    filters = OrderFilters(
        q=q[:200],
        status=status if status in OrderStatus.__members__.values() else "",
        channel=channel[:64],
        country=country[:2],
        carrier=carrier[:40],
        batch=batch[:32],
        exception=exception == "1",
    )
    orders, next_before = search_orders(session, filters, before)
    channels = list(session.scalars(select(Channel.name).order_by(Channel.name)))
    return page(
        request,
        "orders.html",
        who,
        orders=orders,
        filters=filters,
        next_before=next_before,
        statuses=[s.value for s in OrderStatus],
        channels=channels,
    )


def _order_page(
    request: Request,
    session: Session,
    who: SignedIn,
    order_id: int,
    *,
    error: str = "",
    seen_event: int | None = None,
    status_code: int = 200,
    address_form: dict[str, str] | None = None,
) -> Response:
    session.rollback()  # read what is committed now, not what a failed action left behind
    order = session.get(Order, order_id)
    if order is None:
        return page(
            request, "error.html", who, status_code=404, message=N_("No order %(id)s.", id=order_id)
        )
    events = list(
        session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        )
    )
    changed = [e for e in events if seen_event is not None and e.id > seen_event]
    extras: dict[str, Any] = order_extras(session, order)
    address = address_form or {k: getattr(order, f"ship_{k}") for k in FIELDS}
    return page(
        request,
        "order.html",
        who,
        status_code=status_code,
        order=order,
        events=events,
        changed=changed,
        x=extras,
        error=error,
        done=DONE.get(request.query_params.get("done", ""), ""),
        address=address,
        address_held=any(r.get("code") in ADDRESS_CODES for r in order.hold_reasons),
        fields=FIELDS,
        open_batches=open_batch_codes(session) if order.batch_id is None else [],
    )


@router.get("/orders/{order_id}")
def order_page(request: Request, session: DbSession, who: Viewer, order_id: int) -> Response:
    """One order: customer, addresses, lines, payment, parcels, labels, exceptions, history."""
    return _order_page(request, session, who, order_id)


def _act(
    request: Request,
    session: Session,
    who: SignedIn,
    order_id: int,
    seen_event: int,
    action: str,
    work: Callable[[], object],
    address_form: dict[str, str] | None = None,
) -> Response:
    try:
        work()
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _order_page(
            request,
            session,
            who,
            order_id,
            error=exc.message,
            seen_event=seen_event,
            status_code=exc.http_status,
            address_form=address_form,
        )
    return RedirectResponse(f"{PREFIX}/orders/{order_id}?done={action}", status_code=303)


@router.post("/orders/{order_id}/hold")
def hold(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
) -> Response:
    """Put the order on hold with a reason."""
    return _act(
        request,
        session,
        who,
        order_id,
        seen_event,
        "hold",
        lambda: actions.hold_order(session, order_id, who, reason, version),
    )


@router.post("/orders/{order_id}/release")
def release(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
) -> Response:
    """Release a hold to the status the order was held from."""
    return _act(
        request,
        session,
        who,
        order_id,
        seen_event,
        "release",
        lambda: actions.release_order(session, order_id, who, reason, version),
    )


@router.post("/orders/{order_id}/batch")
def batch(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
    batch: Annotated[str, Form(min_length=1, max_length=32)],
) -> Response:
    """Put a confirmed order that missed its batch into an open one."""
    return _act(
        request,
        session,
        who,
        order_id,
        seen_event,
        "batch",
        lambda: actions.batch_order(session, order_id, who, reason, version, batch),
    )


@router.post("/orders/{order_id}/cancel")
def cancel(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
) -> Response:
    """Cancel an order not yet packed; its labels are voided at the carrier."""
    return _act(
        request,
        session,
        who,
        order_id,
        seen_event,
        "cancel",
        lambda: actions.cancel_order(session, order_id, who, reason, version),
    )


@router.post("/orders/{order_id}/labels/{label_id}/relabel")
def relabel(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    label_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
) -> Response:
    """Void a label at its carrier and make a new one for the same box."""

    def work() -> object:
        done = actions.relabel_order(session, order_id, label_id, who, reason, version)
        audit(
            session,
            who,
            "relabel",
            target=done.order_number,
            reason=reason,
            details={"label_id": label_id, "message": done.message},
        )
        return done

    return _act(request, session, who, order_id, seen_event, "relabel", work)


Line = Annotated[str, Form(max_length=200)]


@router.post("/orders/{order_id}/address")
def address(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    order_id: int,
    reason: Reason,
    version: Version,
    seen_event: SeenEvent,
    name: Line = "",
    company: Line = "",
    street1: Line = "",
    street2: Line = "",
    postcode: Line = "",
    city: Line = "",
    region: Line = "",
    country: Line = "",
) -> Response:
    """Correct the shipping address; it is re-validated and a fixed hold is released."""
    typed = dict(
        zip(FIELDS, (name, company, street1, street2, postcode, city, region, country), strict=True)
    )
    return _act(
        request,
        session,
        who,
        order_id,
        seen_event,
        "address",
        lambda: edit_address(session, order_id, typed, who, reason, version),
        address_form=typed,
    )


@router.get("/labels/{label_id}")
def label_file(session: DbSession, who: Viewer, label_id: int) -> Response:
    """The label's bytes as the carrier made them (ZPL, PDF or PNG), as a download."""
    label = session.get(Label, label_id)
    if label is None:
        raise NotFound(N_("No label %(id)s.", id=label_id))
    name = f"label-{label.tracking_number}-{label.parcel_no}.{label.format}"
    return Response(
        label.content,
        media_type=MEDIA.get(label.format, "application/octet-stream"),
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
