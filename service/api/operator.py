"""Operator API: browse and steer orders, exceptions and batches (bearer token auth).

Every change goes through service.lifecycle / service.batching, so it writes the audit
event and publishes the change to stations in the same transaction. Handlers commit
explicitly: the auth lookup has already opened the request's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, raiseload

from service.api.deps import DbSession, Operator
from service.api.order_view import (
    AddressOut,
    LabelOut,
    OpenExceptionOut,
    ParcelOut,
    order_extras,
)
from service.batching import BatchRule, ItemMix, assign_batch, create_batches
from service.db import utcnow
from service.errors import Conflict, NotFound, ValidationFailed
from service.lifecycle import OrderStatus, hold, release, transition
from service.models import ApiToken, Batch, Channel, Order, OrderEvent, OrderException
from service.stations import station_id_by_name
from service.stock.allocation import allocate_order
from service.stock.allocation import release_order as release_stock

router = APIRouter(prefix="/v1", tags=["operator"])


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrderLineOut(_Out):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


class EventOut(_Out):
    id: int
    type: str
    from_status: str | None
    to_status: str | None
    payload: dict[str, Any]
    actor: str
    station_id: int | None
    at: datetime


class OrderSummary(_Out):
    id: int
    number: str
    channel: str
    channel_order_id: str
    status: str
    payment_state: str
    ship_country: str
    priority: int
    carrier: str
    service: str
    cutoff_at: datetime | None
    batch_id: int | None
    tote: str | None
    hold_reasons: list[dict[str, Any]]
    created_at: datetime
    status_changed_at: datetime


class OrderDetail(OrderSummary):
    currency: str
    total_amount: Decimal
    payment_method: str
    cod_amount: Decimal | None = Field(description="what the courier collects (COD orders)")
    email: str
    phone: str = Field(description="E.164")
    ship_name: str
    ship_company: str
    ship_street1: str
    ship_street2: str
    ship_postcode: str
    ship_city: str
    shipping_address: AddressOut
    billing_address: AddressOut | None
    lines: list[OrderLineOut]
    parcels: list[ParcelOut]
    labels: list[LabelOut]
    open_exceptions: list[OpenExceptionOut]
    events: list[EventOut]


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


class TransitionIn(BaseModel):
    to: str = Field(description="the target status")
    reason: str = Field(min_length=1, max_length=500, description="why, for the audit log")


class HoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    code: str = Field(default="operator_hold", min_length=1, max_length=60)


class ReleaseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ExceptionOut(_Out):
    id: int
    order_id: int
    order_number: str
    kind: str
    code: str
    message: str
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=2000)


class BatchRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: str | None = None
    service: str | None = None
    cutoff_before: datetime | None = None
    min_priority: int | None = None
    items: ItemMix = ItemMix.ANY
    max_orders: int = Field(default=25, ge=1, le=500)
    limit: int | None = Field(default=None, ge=1)


class BatchOut(_Out):
    id: int
    code: str
    name: str
    status: str
    carrier: str
    service: str
    cutoff_at: datetime | None
    priority: int
    station_id: int | None
    order_count: int
    created_by: str
    created_at: datetime


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: int | None = Field(default=None, description="the station's id, or")
    station: str | None = Field(default=None, max_length=64, description="its name")


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


def _summary(order: Order) -> dict[str, Any]:
    data = {k: getattr(order, k) for k in OrderSummary.model_fields if k != "channel"}
    data["channel"] = order.channel.name
    return data


def _locked_order(session: Session, order_id: int) -> Order:
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(of=Order))
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


@router.get("/orders", response_model=OrderPage)
def list_orders(
    session: DbSession,
    _token: Operator,
    status: str | None = None,
    channel: str | None = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    batch: Annotated[str | None, Query(description="batch code or id")] = None,
    min_age_hours: Annotated[float | None, Query(ge=0)] = None,
    max_age_hours: Annotated[float | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrderPage:
    """Orders, newest first, filtered by status, channel name, country, batch and age."""
    where: list[ColumnElement[bool]] = []
    if status is not None:
        if status not in OrderStatus.__members__.values():
            raise ValidationFailed(f"Unknown status {status!r}.", field="status")
        where.append(Order.status == status)
    if channel is not None:
        where.append(Order.channel_id.in_(select(Channel.id).where(Channel.name == channel)))
    if country is not None:
        where.append(Order.ship_country == country.upper())
    if batch is not None:
        by_code = select(Batch.id).where(Batch.code == batch)
        where.append(
            Order.batch_id == int(batch) if batch.isdigit() else Order.batch_id.in_(by_code)
        )
    now = utcnow()
    if min_age_hours is not None:
        where.append(Order.created_at <= now - timedelta(hours=min_age_hours))
    if max_age_hours is not None:
        where.append(Order.created_at >= now - timedelta(hours=max_age_hours))
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(
        select(Order)
        # A summary carries no lines: never load them (an order may have hundreds).
        .options(raiseload(Order.lines))
        .where(*where)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [OrderSummary.model_validate(_summary(o)) for o in rows]
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


def _detail(session: Session, order: Order) -> OrderDetail:
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    ).all()
    data = _summary(order)
    data["lines"] = [OrderLineOut.model_validate(line) for line in order.lines]
    data["events"] = [EventOut.model_validate(e) for e in events]
    data.update(order_extras(session, order))
    data.update({k: getattr(order, k) for k in OrderDetail.model_fields if k not in data})
    return OrderDetail.model_validate(data)


@router.get("/orders/{order_id}", response_model=OrderDetail)
def get_order(order_id: int, session: DbSession, _token: Operator) -> OrderDetail:
    """One order with its lines and full event history, oldest event first."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return _detail(session, order)


@router.post("/orders/{order_id}/transition", response_model=OrderDetail)
def transition_order(
    order_id: int, body: TransitionIn, session: DbSession, token: Operator
) -> OrderDetail:
    """Move an order to another status; an illegal move is a 409 and changes nothing."""
    try:
        target = OrderStatus(body.to)
    except ValueError:
        raise ValidationFailed(f"Unknown status {body.to!r}.", field="to") from None
    order = _locked_order(session, order_id)
    actor = _actor(token)
    if target is OrderStatus.ON_HOLD:
        hold(session, order, [{"code": "operator_hold", "message": body.reason}], actor=actor)
    else:
        was = order.status
        transition(session, order, target, actor=actor, reason=body.reason)
        if was == OrderStatus.ALLOCATED and target is OrderStatus.CONFIRMED:
            order.batch_id = None  # back in the pool: the next batching run may take it
        if target is OrderStatus.CANCELLED:
            release_stock(session, order, actor=actor)
    session.commit()
    return _detail(session, order)


@router.post("/orders/{order_id}/hold", response_model=OrderDetail)
def hold_order(order_id: int, body: HoldIn, session: DbSession, token: Operator) -> OrderDetail:
    """Put an order on hold; the reason also appears under GET /v1/exceptions (kind hold)."""
    order = _locked_order(session, order_id)
    hold(session, order, [{"code": body.code, "message": body.reason}], actor=_actor(token))
    session.add(
        OrderException(
            order_id=order.id, kind="hold", code=body.code, message=body.reason, details={}
        )
    )
    session.commit()
    return _detail(session, order)


@router.post("/orders/{order_id}/release", response_model=OrderDetail)
def release_order(
    order_id: int, body: ReleaseIn, session: DbSession, token: Operator
) -> OrderDetail:
    """Release a hold to the status the order was held from; its hold exceptions close."""
    order = _locked_order(session, order_id)
    if order.status != OrderStatus.ON_HOLD:
        raise Conflict(f"Order {order.number} is {order.status}, not on hold.")
    actor = _actor(token)
    release(session, order, actor=actor, reason=body.reason)
    allocate_order(session, order, actor=actor)  # back in the pool: short means backorder
    now = utcnow()
    for exc in session.scalars(
        select(OrderException).where(
            OrderException.order_id == order.id,
            OrderException.kind.in_(("hold", "validation")),
            OrderException.resolved_at.is_(None),
        )
    ):
        exc.resolved_at, exc.resolved_by, exc.resolution = now, actor, body.reason
    session.commit()
    return _detail(session, order)


@router.get("/exceptions", response_model=list[ExceptionOut])
def list_exceptions(
    session: DbSession,
    _token: Operator,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ExceptionOut]:
    """Open exceptions, oldest first, optionally of one kind (stuck, hold, validation...)."""
    query = (
        select(OrderException, Order.number)
        .join(Order, Order.id == OrderException.order_id)
        .where(OrderException.resolved_at.is_(None))
        .order_by(OrderException.created_at, OrderException.id)
        .limit(limit)
        .offset(offset)
    )
    if kind is not None:
        query = query.where(OrderException.kind == kind)
    return [_exception_out(exc, number) for exc, number in session.execute(query).tuples()]


def _exception_out(exc: OrderException, number: str) -> ExceptionOut:
    data = {k: getattr(exc, k) for k in ExceptionOut.model_fields if k != "order_number"}
    return ExceptionOut.model_validate({**data, "order_number": number})


@router.post("/exceptions/{exception_id}/resolve", response_model=ExceptionOut)
def resolve_exception(
    exception_id: int, body: ResolveIn, session: DbSession, token: Operator
) -> ExceptionOut:
    """Mark an exception dealt with; resolving it twice is a 409."""
    exc = session.get(OrderException, exception_id, with_for_update=True)
    if exc is None:
        raise NotFound(f"No exception {exception_id}.")
    if exc.resolved_at is not None:
        raise Conflict(f"Exception {exception_id} was already resolved by {exc.resolved_by}.")
    exc.resolved_at, exc.resolved_by, exc.resolution = utcnow(), _actor(token), body.resolution
    number = session.scalar(select(Order.number).where(Order.id == exc.order_id)) or ""
    session.commit()
    return _exception_out(exc, number)


def _batches_out(session: Session, batches: list[Batch]) -> list[BatchOut]:
    ids = [b.id for b in batches]
    rows = session.execute(
        select(Order.batch_id, func.count()).where(Order.batch_id.in_(ids)).group_by(Order.batch_id)
    ).tuples()
    # Not dict(rows): a Result has .keys(), so dict() would treat it as a mapping.
    counts = {batch_id: n for batch_id, n in rows}
    return [
        BatchOut.model_validate(
            {
                **{k: getattr(b, k) for k in BatchOut.model_fields if k != "order_count"},
                "order_count": counts.get(b.id, 0),
            }
        )
        for b in batches
    ]


@router.post("/batches", response_model=list[BatchOut], status_code=201)
def post_batches(body: BatchRuleIn, session: DbSession, token: Operator) -> list[BatchOut]:
    """Batch the confirmed, unbatched orders matching the rule ([] when none match)."""
    rule = BatchRule(**body.model_dump())
    batches = create_batches(session, rule, actor=_actor(token))
    session.commit()
    return _batches_out(session, batches)


@router.get("/batches", response_model=list[BatchOut])
def list_batches(
    session: DbSession,
    _token: Operator,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[BatchOut]:
    """Batches, newest first, optionally of one status (open, assigned, done)."""
    query = select(Batch).order_by(Batch.created_at.desc(), Batch.id.desc())
    if status is not None:
        query = query.where(Batch.status == status)
    return _batches_out(session, list(session.scalars(query.limit(limit).offset(offset))))


@router.post("/batches/{batch_id}/assign", response_model=BatchOut)
def post_assign(batch_id: int, body: AssignIn, session: DbSession, token: Operator) -> BatchOut:
    """Give a batch to a station; the station pulls the batch and its orders next sync."""
    if (body.station_id is None) == (body.station is None):
        raise ValidationFailed("Give either station_id or station (its name).", field="station")
    station_id = body.station_id or station_id_by_name(session, body.station or "")
    batch = assign_batch(session, batch_id, station_id, actor=_actor(token))
    session.commit()
    return _batches_out(session, [batch])[0]
