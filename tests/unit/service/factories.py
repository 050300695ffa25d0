"""Small builders for service rows in tests (orders in any state, channels, stations).

Tests put an order straight into the state under test; production code only ever changes a
status through service.lifecycle.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import Channel, Order, OrderLine, Station

_numbers = itertools.count(500001)


def channel(session: Session, name: str = "test-shop", kind: str = "shopify") -> Channel:
    """The channel called `name`, created on first use."""
    found = session.scalar(select(Channel).where(Channel.name == name))
    if found is not None:
        return found
    row = Channel(kind=kind, name=name, settings={})
    session.add(row)
    session.flush()
    return row


def station(session: Session, name: str = "bench-1") -> Station:
    """A station row (not enrolled)."""
    row = Station(name=name)
    session.add(row)
    session.flush()
    return row


def order(
    session: Session,
    *,
    status: str = "confirmed",
    lines: list[tuple[str, int]] | None = None,
    carrier: str = "house",
    service: str = "standard",
    priority: int = 0,
    cutoff_at: datetime | None = None,
    age_hours: float = 1.0,
    status_age_hours: float | None = None,
    payment_state: str = "paid",
    country: str = "DE",
    channel_name: str = "test-shop",
) -> Order:
    """An order with its lines, created `age_hours` ago, in `status` since `status_age_hours`."""
    number = next(_numbers)
    created = utcnow() - timedelta(hours=age_hours)
    row = Order(
        number=f"ORD-{number}",
        channel_id=channel(session, channel_name).id,
        channel_order_id=str(number),
        status=status,
        currency="EUR",
        payment_state=payment_state,
        ship_name="Test Customer",
        ship_street1="Hauptstraße 1",
        ship_postcode="10115",
        ship_city="Berlin",
        ship_country=country,
        priority=priority,
        cutoff_at=cutoff_at,
        carrier=carrier,
        service=service,
        created_at=created,
        status_changed_at=utcnow() - timedelta(hours=status_age_hours or age_hours),
        total_amount=Decimal("19.90"),
    )
    for no, (sku, qty) in enumerate(lines or [("MUG-BLU-350", 1)], start=1):
        row.lines.append(OrderLine(line_no=no, sku=sku, name=sku, quantity=qty))
    session.add(row)
    session.flush()
    return row
