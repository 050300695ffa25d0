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

from service.models import Order, OrderException, Product, Return, ReturnUnit, StockBalance
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


class ReturnsFigures(BaseModel):
    """What a supervisor watches of returns and stock."""

    as_of: datetime
    expected: int  # announced, not at a bench yet
    waiting_for_inspection: int  # received, not closed
    dispositions: list[DispositionDay]
    below: int  # the threshold used
    low_stock: list[LowStock]
    oversold: list[Oversold]


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
    )


__all__ = ["Disposition", "ReturnsFigures", "figures"]
