"""The overview's SQL statements, built once (per dialect where they differ) with bound
parameters, selecting columns only: a request neither rebuilds a statement nor loads ORM
objects. service.supervisor.figures runs them and turns the rows into figures; the
per-slot activity statements live with their cache in service.supervisor.slots.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from service.db import UTCDateTime
from service.lifecycle import OrderStatus
from service.models import (
    Batch,
    Label,
    Order,
    OrderEvent,
    OrderException,
    Station,
    StationMutation,
    User,
)

EXCEPTION_LIMIT = 200

PACKED_OR_LATER = (
    OrderStatus.PACKED.value,
    OrderStatus.SHIPPED.value,
    OrderStatus.DELIVERED.value,
    OrderStatus.COMPLETED.value,
    OrderStatus.RETURNED.value,
)

STATIONS = select(
    Station.id, Station.name, Station.last_seen_at, Station.last_sync_at, Station.heartbeat
).order_by(Station.name)
StationRow = tuple[int, str, datetime | None, datetime | None, dict[str, Any] | None]


def _batch_statement() -> Select[Any]:
    """Open batches, earliest cut-off first, with their station's name and last hour's packs."""
    shift_start = bindparam("shift_start", type_=UTCDateTime)
    now = bindparam("now", type_=UTCDateTime)
    q15 = bindparam("q15", type_=UTCDateTime)
    q60 = bindparam("q60", type_=UTCDateTime)
    # The last hour's packs (few) look their batch up by primary key, one by one: cheaper
    # than hashing every order of every open batch.
    batch_of = select(Order.batch_id).where(Order.id == OrderEvent.order_id).scalar_subquery()
    recent = (
        select(batch_of.label("batch_id"), OrderEvent.at.label("at"))
        .where(OrderEvent.type == "order_packed", OrderEvent.at >= q60, OrderEvent.at <= now)
        .subquery("recent")
    )
    rates = (
        select(
            recent.c.batch_id,
            func.sum(case((recent.c.at >= q15, 1), else_=0)).label("n15"),
            func.count().label("n60"),
        )
        .group_by(recent.c.batch_id)
        .subquery("rates")
    )
    return (
        select(
            Batch.id,
            Batch.code,
            Batch.name,
            Batch.status,
            Batch.station_id,
            Station.name,
            Batch.cutoff_at,
            rates.c.n15,
            rates.c.n60,
        )
        .outerjoin(Station, Station.id == Batch.station_id)
        .outerjoin(rates, rates.c.batch_id == Batch.id)
        .where(or_(Batch.status != "done", Batch.created_at >= shift_start))
        .order_by(Batch.cutoff_at.is_(None), Batch.cutoff_at, Batch.id)
        .limit(200)
    )


BATCHES = _batch_statement()


@functools.cache
def counts_statement(dialect: str) -> Select[Any]:
    """Orders per batch: not cancelled, packed or later, on hold; for the bound batch ids.

    The ids are sent, not joined from the batch query: a join makes PostgreSQL estimate
    the open batches' share of all orders and scan the whole table (every batch ever packed).
    """
    return (
        select(
            Order.batch_id,
            func.sum(case((Order.status != OrderStatus.CANCELLED.value, 1), else_=0)),
            func.sum(case((Order.status.in_(PACKED_OR_LATER), 1), else_=0)),
            func.sum(case((Order.status == OrderStatus.ON_HOLD.value, 1), else_=0)),
        )
        .where(among(Order.batch_id, dialect))
        .group_by(Order.batch_id)
    )


@functools.cache
def names_statement(model: type[User] | type[Station], dialect: str) -> Select[tuple[int, str]]:
    """Ids and names of the users or stations whose ids are bound as "ids"."""
    return select(model.id, model.name).where(among(model.id, dialect))


def among(column: InstrumentedAttribute[int | None], dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ids bound as "ids", sent as one array (PostgreSQL) or JSON
    (SQLite) parameter: a hundred packers are not a hundred placeholders to render per call."""
    if dialect == "postgresql":
        return column == func.any(bindparam("ids", type_=ARRAY(Integer)))
    listed: Select[tuple[int]] = select(literal_column("value", Integer)).select_from(
        func.json_each(bindparam("ids", type_=JSON))
    )
    return column.in_(listed)


def rejection_code(station_id: Any, mutation_id: Any) -> ColumnElement[str]:
    """The OrderException code that marks a rejected mutation as resolved (SQL expression)."""
    return (
        literal("mutation:") + cast(station_id, String) + literal(":") + cast(mutation_id, String)
    )


def _exception_statements() -> tuple[Select[Any], Select[Any]]:
    """Open exceptions and weight overrides; unresolved rejected mutations (columns only)."""
    shift_start = bindparam("shift_start", type_=UTCDateTime)
    exceptions = (
        select(
            OrderException.id,
            OrderException.order_id,
            OrderException.kind,
            OrderException.code,
            OrderException.message,
            OrderException.details,
            OrderException.created_at,
            OrderException.resolved_at,
            Order.number,
            Order.status,
            Order.version,
            # A held order may already carry a printed label that must be voided (issue 17).
            select(func.count(Label.id))
            .where(Label.order_id == Order.id, Label.status == "printed")
            .scalar_subquery(),
        )
        .join(Order, Order.id == OrderException.order_id)
        .where(
            or_(
                OrderException.resolved_at.is_(None),
                and_(
                    OrderException.kind == "weight",
                    OrderException.created_at >= shift_start,
                ),
            )
        )
        .order_by(OrderException.created_at, OrderException.id)
        .limit(EXCEPTION_LIMIT)
    )
    resolved = exists().where(
        OrderException.kind == "rejected",
        OrderException.code
        == rejection_code(StationMutation.station_id, StationMutation.mutation_id),
    )
    rejections = (
        select(
            StationMutation.station_id,
            StationMutation.mutation_id,
            StationMutation.order_id,
            StationMutation.reason,
            StationMutation.message,
            StationMutation.applied_at,
            Order.number,
            Order.status,
            Order.version,
        )
        .outerjoin(Order, Order.id == StationMutation.order_id)
        .where(
            StationMutation.status == "rejected",
            StationMutation.applied_at >= shift_start,
            ~resolved,
        )
        .order_by(StationMutation.applied_at)
        .limit(EXCEPTION_LIMIT)
    )
    return exceptions, rejections


EXCEPTIONS, REJECTIONS = _exception_statements()
