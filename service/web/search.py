"""Order search for the console: one box for anything a customer quotes, plus filters.

Each kind of term uses an index (number, shop order name, e-mail, phone, tracking number on
labels and parcels); a name is a case-insensitive prefix match on lower(ship_name). Paging
is keyset on the order id (newest first), so page 500 costs what page 1 costs; lines are
never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, select
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


def term_matches(session: Session, q: str) -> ColumnElement[bool]:
    """Orders that a search term names, whichever kind of term it is.

    Each exact kind (number, shop order name, tracking number, e-mail, phone) is looked up
    on its own index first; one OR over all of them would make PostgreSQL scan every order.
    Only a term that names no order exactly is tried as the start of a customer's name.
    """
    q = " ".join(q.split())[:200]
    tracking = q.replace(" ", "")
    lookups = [
        select(Order.id).where(Order.number == q.upper()),
        select(Order.id).where(Order.channel_order_name.in_({q, f"#{q.lstrip('#')}"})),
        select(Label.order_id).where(Label.tracking_number == tracking),
        select(Parcel.order_id).where(Parcel.tracking_number == tracking),
    ]
    if "@" in q:
        lookups.append(select(Order.id).where(Order.email.in_({q, q.lower()})))
    phone = normalise_phone(q, None) if any(c.isdigit() for c in q) else None
    if phone:
        lookups.append(select(Order.id).where(Order.phone == phone))
    ids: set[int] = set()
    for lookup in lookups:
        ids.update(session.scalars(lookup.limit(PAGE * 10)))
    if ids:
        return Order.id.in_(sorted(ids))
    if any(c.isalpha() for c in q) and "@" not in q:
        # lower() LIKE 'prefix%' uses ix_orders_ship_name_lower; ILIKE could not.
        return func.lower(Order.ship_name).like(_like_prefix(q.lower()), escape="\\")
    return false()


def search_orders(
    session: Session, filters: OrderFilters, before: int | None = None, limit: int = PAGE
) -> tuple[list[Order], int | None]:
    """A page of orders newest first, and the id to continue `before` (None: last page)."""
    where: list[ColumnElement[bool]] = []
    if filters.q.strip():
        where.append(term_matches(session, filters.q))
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
        # Open exceptions are few: collect their orders (ix_order_exceptions_open) first.
        where.append(
            Order.id.in_(
                select(OrderException.order_id).where(OrderException.resolved_at.is_(None))
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
