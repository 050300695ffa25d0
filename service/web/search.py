"""Order search for the console: one box for anything a customer quotes, plus filters.

Each kind of term uses an index (number, shop order name, e-mail, phone, tracking number on
labels and parcels); a name is a case-insensitive prefix match. Paging is keyset on the
order id (newest first), so page 500 costs what page 1 costs; lines are never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, lazyload

from service.ingest.normalise import normalise_phone
from service.models import Batch, Channel, Label, Order, OrderException, Parcel

PAGE = 50


@dataclass(frozen=True)
class OrderFilters:
    """What the orders page filters by (empty strings: no filter)."""

    q: str = ""
    status: str = ""
    channel: str = ""
    country: str = ""
    carrier: str = ""
    batch: str = ""
    exception: bool = False


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def term_matches(q: str) -> ColumnElement[bool]:
    """Orders that a search term names, whichever kind of term it is."""
    q = " ".join(q.split())[:200]
    tracking = q.replace(" ", "")
    matches: list[ColumnElement[bool]] = [
        Order.number == q.upper(),
        Order.channel_order_name.in_({q, f"#{q.lstrip('#')}"}),
        Order.id.in_(select(Label.order_id).where(Label.tracking_number == tracking)),
        Order.id.in_(select(Parcel.order_id).where(Parcel.tracking_number == tracking)),
    ]
    if "@" in q:
        matches.append(Order.email.in_({q, q.lower()}))
    phone = normalise_phone(q, None) if any(c.isdigit() for c in q) else None
    if phone:
        matches.append(Order.phone == phone)
    if any(c.isalpha() for c in q) and "@" not in q:
        matches.append(Order.ship_name.ilike(_like_prefix(q), escape="\\"))
    return or_(*matches)


def search_orders(
    session: Session, filters: OrderFilters, before: int | None = None, limit: int = PAGE
) -> tuple[list[Order], int | None]:
    """A page of orders newest first, and the id to continue `before` (None: last page)."""
    where: list[ColumnElement[bool]] = []
    if filters.q.strip():
        where.append(term_matches(filters.q))
    if filters.status:
        where.append(Order.status == filters.status)
    if filters.channel:
        where.append(
            Order.channel_id.in_(select(Channel.id).where(Channel.name == filters.channel))
        )
    if filters.country:
        where.append(Order.ship_country == filters.country.strip().upper()[:2])
    if filters.carrier:
        where.append(Order.carrier == filters.carrier)
    if filters.batch:
        where.append(Order.batch_id.in_(select(Batch.id).where(Batch.code == filters.batch)))
    if filters.exception:
        where.append(
            exists().where(
                OrderException.order_id == Order.id, OrderException.resolved_at.is_(None)
            )
        )
    if before is not None:
        where.append(Order.id < before)
    rows = list(
        session.scalars(
            select(Order)
            .where(*where)
            .order_by(Order.id.desc())
            .limit(limit + 1)
            .options(lazyload(Order.lines))
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
