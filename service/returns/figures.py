"""Returns and stock figures for supervisors: returns waiting, dispositions per day, stock
below a threshold, orders packed oversold. Days are UTC calendar days ending today (by the
service clock)."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import (
    Order,
    OrderException,
    Product,
    Return,
    ReturnUnit,
    StockBalance,
    StockMovement,
    User,
)
from service.models import Station as StationRow
from service.returns.states import Disposition, ReturnStatus
from service.stock.ledger import MAIN

LOW_STOCK_ENV = "PACKBENCH_STOCK_LOW"
DEFAULT_LOW = 5
MAX_ROWS = 200


class DispositionDay(BaseModel):
    day: str  # YYYY-MM-DD (UTC)
    restock: int = 0
    b_grade: int = 0
    write_off: int = 0
    missing: int = 0


class LowStock(BaseModel):
    sku: str
    on_hand: int
    allocated: int
    available: int


class Oversold(BaseModel):
    order_number: str
    sku: str
    at: datetime


class CountDifference(BaseModel):
    """A count that found a different number than the ledger had: one `counted` movement."""

    at: datetime
    sku: str
    location: str
    difference: int
    actor: str  # "user:12@station:3" for a bench count, the operator for `stock count`
    counted_by: str  # the actor in words: "Rita at bench-7"


class ReturnsFigures(BaseModel):
    """What a supervisor watches of returns and stock."""

    as_of: datetime
    expected: int  # announced, not at a bench yet
    waiting_for_inspection: int  # received, not closed
    dispositions: list[DispositionDay]
    below: int  # the threshold used
    low_stock: list[LowStock]
    oversold: list[Oversold]
    count_differences: list[CountDifference] = []  # the last `days` days, newest first


def low_threshold() -> int:
    """Available stock under this is low (PACKBENCH_STOCK_LOW, default 5)."""
    raw = os.environ.get(LOW_STOCK_ENV, "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_LOW


def figures(
    session: Session, now: datetime, *, days: int = 7, below: int | None = None
) -> ReturnsFigures:
    """The figures as of `now`, dispositions over the last `days` UTC days."""
    below = low_threshold() if below is None else below
    by_status = dict(
        session.execute(select(Return.status, func.count()).group_by(Return.status)).tuples().all()
    )
    first_day = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=now.tzinfo)
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for at, disposition in session.execute(
        select(ReturnUnit.at, ReturnUnit.disposition).where(
            ReturnUnit.at >= since, ReturnUnit.at <= now
        )
    ):
        day = per_day[at.date().isoformat()]
        day[disposition] = day.get(disposition, 0) + 1
    dispositions = [
        DispositionDay(day=d.isoformat(), **per_day.get(d.isoformat(), {}))
        for d in (first_day + timedelta(days=n) for n in range(days))
    ]
    available = StockBalance.on_hand - StockBalance.allocated
    low = session.execute(
        select(Product.sku, StockBalance.on_hand, StockBalance.allocated)
        .join(Product, Product.id == StockBalance.product_id)
        .where(StockBalance.location == MAIN, available < below)
        .order_by(available, Product.sku)
        .limit(MAX_ROWS)
    ).all()
    oversold = session.execute(
        select(Order.number, OrderException.details, OrderException.created_at)
        .join(Order, Order.id == OrderException.order_id)
        .where(OrderException.code == "oversold", OrderException.resolved_at.is_(None))
        .order_by(OrderException.created_at)
        .limit(MAX_ROWS)
    ).all()
    counted = session.execute(
        select(
            StockMovement.at,
            Product.sku,
            StockMovement.location,
            StockMovement.on_hand_delta,
            StockMovement.actor,
        )
        .join(Product, Product.id == StockMovement.product_id)
        .where(StockMovement.kind == "counted", StockMovement.at >= since, StockMovement.at <= now)
        .order_by(StockMovement.at.desc(), StockMovement.id.desc())
        .limit(MAX_ROWS)
    ).all()
    return ReturnsFigures(
        as_of=now,
        expected=by_status.get(ReturnStatus.EXPECTED.value, 0),
        waiting_for_inspection=by_status.get(ReturnStatus.RECEIVED.value, 0),
        dispositions=dispositions,
        below=below,
        low_stock=[LowStock(sku=s, on_hand=o, allocated=a, available=o - a) for s, o, a in low],
        oversold=[
            Oversold(order_number=n, sku=str((d or {}).get("sku", "")), at=at)
            for n, d, at in oversold
        ],
        count_differences=[
            CountDifference(
                at=at,
                sku=sku,
                location=loc,
                difference=delta,
                actor=actor,
                counted_by=_who(session, actor),
            )
            for at, sku, loc, delta, actor in counted
        ],
    )


def _who(session: Session, actor: str) -> str:
    """ "user:12@station:3" as "Rita at bench-7"; any other actor as it is."""
    user_part, _at, station_part = actor.partition("@")
    kind, _colon, number = user_part.partition(":")
    if kind != "user" or not number.isdigit():
        return actor
    user = session.get(User, int(number))
    words = user.name if user is not None else user_part
    _station, _colon, station_id = station_part.partition(":")
    if station_id.isdigit():
        station = session.get(StationRow, int(station_id))
        words += f" at {station.name if station is not None else station_part}"
    return words


__all__ = ["Disposition", "ReturnsFigures", "figures"]
