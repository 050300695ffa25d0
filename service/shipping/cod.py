"""Cash on delivery per carrier and day, for the finance team.

What a day's manifests listed is what is reported: when a carrier's day is closed, each
shipped order's COD amount and currency go into its `shipped` event (`cod_amount`,
`currency`), and the day's totals are summed from those events. The day is the UTC date of
the close. Amounts are Decimal throughout; each currency is its own total, never added to
another.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.lifecycle import OrderStatus
from service.models import Order, OrderEvent
from service.shipping.manifest import spreadsheet_safe


@dataclass(frozen=True)
class CodTotal:
    """The cash one carrier collects in one currency."""

    carrier: str
    currency: str
    amount: Decimal
    orders: int


@dataclass(frozen=True)
class CodOrder:
    """One shipped COD order of the day."""

    carrier: str
    manifest: str
    order_number: str
    shipped_at: datetime
    amount: Decimal
    currency: str


def order_cod(order: Order) -> tuple[Decimal | None, str]:
    """The cash the courier collects for `order` and its currency; (None, "") when prepaid."""
    if order.payment_state != "cod" or order.total_amount is None:
        return None, ""
    return Decimal(order.total_amount).quantize(Decimal("0.01")), (order.currency or "").upper()


def totals(pairs: list[tuple[str, Decimal, str]]) -> list[CodTotal]:
    """(carrier, amount, currency) summed per carrier and currency, in that order."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for carrier, amount, currency in pairs:
        sums[carrier, currency] += amount
        counts[carrier, currency] += 1
    return [CodTotal(c, cur, sums[c, cur], counts[c, cur]) for c, cur in sorted(sums)]


def cod_orders(session: Session, day: date, carrier: str | None = None) -> list[CodOrder]:
    """The COD orders shipped on `day` (UTC), for one carrier or all, as their manifests listed
    them."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    query = (
        select(OrderEvent, Order.number, Order.carrier)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(
            OrderEvent.to_status == OrderStatus.SHIPPED.value,
            OrderEvent.at >= start,
            OrderEvent.at < start + timedelta(days=1),
        )
        .order_by(OrderEvent.at, OrderEvent.id)
    )
    if carrier is not None:
        query = query.where(Order.carrier == carrier)
    out: list[CodOrder] = []
    for event, number, order_carrier in session.execute(query).tuples():
        body = event.payload or {}
        raw = body.get("cod_amount")
        if raw in (None, ""):
            continue
        try:
            amount = Decimal(str(raw))
        except InvalidOperation:
            continue  # never written by close_day; an edited event is not guessed at
        out.append(
            CodOrder(
                carrier=str(body.get("carrier") or order_carrier or ""),
                manifest=str(body.get("manifest") or ""),
                order_number=number,
                shipped_at=event.at,
                amount=amount,
                currency=str(body.get("currency") or ""),
            )
        )
    return out


def day_totals(session: Session, day: date, carrier: str | None = None) -> list[CodTotal]:
    """The day's COD per carrier and currency."""
    return totals([(o.carrier, o.amount, o.currency) for o in cod_orders(session, day, carrier)])


COD_CSV_COLUMNS = ["carrier", "manifest", "order_number", "shipped_at", "cod_amount", "currency"]


def cod_csv(orders: list[CodOrder]) -> bytes:
    """The day's COD orders as CSV, ending with one `COD total` row per carrier and currency."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COD_CSV_COLUMNS)
    for o in orders:
        writer.writerow(
            spreadsheet_safe(v)
            for v in (
                o.carrier,
                o.manifest,
                o.order_number,
                o.shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                o.amount,
                o.currency,
            )
        )
    for t in totals([(o.carrier, o.amount, o.currency) for o in orders]):
        writer.writerow(
            [spreadsheet_safe(t.carrier), "", "COD total", "", str(t.amount), t.currency]
        )
    return buf.getvalue().encode("utf-8")
