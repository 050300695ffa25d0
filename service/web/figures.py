"""Lead times for the dashboard: p50 and p95 of order-to-packed and packed-to-shipped.

Computed in SQL on PostgreSQL and SQLite alike (window functions, nearest-rank percentile):
- *order to packed*: from when the customer ordered (the shop's `ordered_at`, else when the
  order reached us) to the order's first change to `packed`, for orders packed in the window;
- *packed to shipped*: from the first change to `packed` to the first change to `shipped`,
  for orders shipped in the window.
The nearest-rank p-th percentile is the smallest duration d such that at least p % of the
durations are <= d (so p50 of 1, 2, 3, 4 is 2, and p95 of twenty values is the 19th).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from service.lifecycle import OrderStatus
from service.models import Order, OrderEvent
from service.web.i18n import N_

WINDOWS = {
    "today": None,
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


@dataclass(frozen=True)
class LeadTime:
    """Percentiles of one lead time over a window, in seconds (None: no order in it)."""

    count: int
    p50: float | None
    p95: float | None


def window_start(window: str, now: datetime) -> datetime:
    """Where a named window starts ("today": midnight UTC)."""
    span = WINDOWS.get(window)
    if span is None:
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - span


def _seconds(dialect: str, later: Any, earlier: Any) -> Any:
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)


def _first(status: OrderStatus) -> Any:
    return (
        select(OrderEvent.order_id.label("order_id"), func.min(OrderEvent.at).label("at"))
        .where(OrderEvent.type == "status_changed", OrderEvent.to_status == status.value)
        .group_by(OrderEvent.order_id)
        .subquery(f"first_{status.value}")
    )


def _percentiles(session: Session, durations: Any) -> LeadTime:
    d = durations.subquery("d")
    ranked = select(
        d.c.secs,
        func.row_number().over(order_by=d.c.secs).label("rn"),
        func.count(literal_column("*")).over().label("n"),
    ).subquery("r")

    def at(p: int) -> Any:
        return func.min(case((ranked.c.rn * 100 >= p * ranked.c.n, ranked.c.secs)))

    n, p50, p95 = session.execute(select(func.max(ranked.c.n), at(50), at(95))).one()
    return LeadTime(int(n or 0), _num(p50), _num(p95))


def _num(value: Any) -> float | None:
    return None if value is None else max(0.0, float(value))


def lead_times(session: Session, since: datetime, until: datetime) -> dict[str, LeadTime]:
    """{"order_to_packed": ..., "packed_to_shipped": ...} for the window [since, until]."""
    dialect = session.get_bind().dialect.name
    packed = _first(OrderStatus.PACKED)
    shipped = _first(OrderStatus.SHIPPED)
    ordered = func.coalesce(Order.ordered_at, Order.created_at)
    to_packed = (
        select(_seconds(dialect, packed.c.at, ordered).label("secs"))
        .select_from(Order)
        .join(packed, packed.c.order_id == Order.id)
        .where(packed.c.at >= since, packed.c.at <= until)
    )
    to_shipped = (
        select(_seconds(dialect, shipped.c.at, packed.c.at).label("secs"))
        .select_from(packed)
        .join(shipped, shipped.c.order_id == packed.c.order_id)
        .where(shipped.c.at >= since, shipped.c.at <= until)
    )
    return {
        "order_to_packed": _percentiles(session, to_packed),
        "packed_to_shipped": _percentiles(session, to_shipped),
    }


def duration_words(seconds: float | None) -> str:
    """1 h 05 min, 12 min, 40 s; "-" for none."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return N_("%(seconds)s s", seconds=s)
    minutes, _ = divmod(s, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return N_("%(days)s d %(hours)s h", days=days, hours=hours)
    if hours:
        return N_("%(hours)s h %(minutes)02d min", hours=hours, minutes=minutes)
    return N_("%(minutes)s min", minutes=minutes)
