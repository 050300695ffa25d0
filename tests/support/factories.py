"""Small builders for service rows in tests (orders in any state, channels, stations).

Tests put an order straight into the state under test; production code only ever changes a
status through service.lifecycle. `order_row` is the one place an order row is built; the
fixtures of other suites call it (or `sync_order`) with their own numbers and defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import Channel, Order, OrderLine, Station

_numbers = itertools.count(500001)

# Ship-to of the orders the sync tests (service side and station side) hand to stations.
SYNC_SHIP_TO: dict[str, Any] = {
    "ship_name": "Ada",
    "ship_street1": "Main 1",
    "ship_postcode": "1000",
    "ship_city": "Town",
    "ship_country": "NL",
}


def channel(
    session: Session,
    name: str = "test-shop",
    kind: str = "shopify",
    settings: dict[str, Any] | None = None,
) -> Channel:
    """The channel called `name`, created on first use (as `kind`, with `settings`)."""
    found = session.scalar(select(Channel).where(Channel.name == name))
    if found is not None:
        return found
    row = Channel(kind=kind, name=name, settings=settings or {})
    session.add(row)
    session.flush()
    return row


def station(session: Session, name: str = "bench-1") -> Station:
    """A station row (not enrolled)."""
    row = Station(name=name)
    session.add(row)
    session.flush()
    return row


def order_row(
    session: Session,
    number: int,
    channel: Channel,
    lines: Iterable[Mapping[str, Any]],
    /,
    **fields: Any,
) -> Order:
    """Order ORD-<number> from `channel` (paid, EUR, no holds), flushed; `lines` are OrderLine
    fields, numbered from 1. `fields` set the rest (status, ship_*, ...) or override these."""
    values: dict[str, Any] = {
        "number": f"ORD-{number}",
        "channel_id": channel.id,
        "channel_order_id": str(number),
        "currency": "EUR",
        "payment_state": "paid",
        "hold_reasons": [],
        "billing_address": {},
        **fields,
    }
    row = Order(**values)
    row.lines = [OrderLine(line_no=no, **line) for no, line in enumerate(lines, start=1)]
    session.add(row)
    session.flush()
    return row


def item_lines(count: int) -> list[dict[str, Any]]:
    """`count` lines, one each of SKU0 ("Item 0"), SKU1 ("Item 1"), ..."""
    return [{"sku": f"SKU{i}", "name": f"Item {i}", "quantity": 1} for i in range(count)]


def sync_order(
    session: Session, number: int, *, status: str, batch_id: int | None, lines: int, **fields: Any
) -> Order:
    """An order as the sync tests hand it to stations: channel "shop", SYNC_SHIP_TO, `lines`
    item_lines."""
    shop = channel(session, "shop", "operator")
    return order_row(
        session,
        number,
        shop,
        item_lines(lines),
        status=status,
        batch_id=batch_id,
        **(SYNC_SHIP_TO | fields),
    )


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
    return order_row(
        session,
        next(_numbers),
        channel(session, channel_name),
        [{"sku": sku, "name": sku, "quantity": qty} for sku, qty in lines or [("MUG-BLU-350", 1)]],
        status=status,
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
        created_at=utcnow() - timedelta(hours=age_hours),
        status_changed_at=utcnow() - timedelta(hours=status_age_hours or age_hours),
        total_amount=Decimal("19.90"),
    )
