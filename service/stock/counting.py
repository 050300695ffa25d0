"""Cycle counts from a bench: a station pushes `stock_counted` (one location, the products
scanned there and how many were found); each difference from the ledger becomes one
`counted` movement with who counted and when. Checked before anything is written, so a
refused count records nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.catalogue.fields import normalise_sku
from service.errors import Conflict
from service.models import Product, StockBalance
from service.stock.allocation import note_new_units
from service.stock.ledger import B_GRADE, MAIN, MovementKind, lock_balance, move
from sync.protocol import StockCounted

COUNTED_AT_BENCH = "cycle count at a bench"


class CountRefused(Conflict):
    """The count names a location or product the service does not know; nothing recorded."""

    code = "count_refused"


def known_location(session: Session, location: str) -> bool:
    """MAIN and B-GRADE always; any other location once stock has been kept there."""
    if location in (MAIN, B_GRADE):
        return True
    found = session.scalar(
        select(StockBalance.product_id).where(StockBalance.location == location).limit(1)
    )
    return found is not None


def apply_station_count(
    session: Session, p: StockCounted, *, station_id: int, mutation_id: int
) -> dict[str, Any]:
    """Record the count pushed as the station's mutation `mutation_id` (applied once: the push
    keeps the result by station and id). Returns what changed, per product."""
    location = p.location.strip().upper()
    if not known_location(session, location):
        raise CountRefused(
            f"Location {location} is not known to the service; nothing was recorded. "
            "Count again at a known location, or add stock there first."
        )
    wanted: Counter[str] = Counter()
    for line in p.lines:
        wanted[normalise_sku(line.sku)] += line.counted
    products = {
        prod.sku: prod
        for prod in session.scalars(select(Product).where(Product.sku.in_(sorted(wanted))))
    }
    missing = sorted(set(wanted) - set(products))
    if missing:
        raise CountRefused(
            f"{', '.join(missing)} is not in the catalogue; nothing of this count was recorded."
        )
    who = f"user:{p.packer_id}@station:{station_id}" if p.packer_id else f"station:{station_id}"
    reason = f"{COUNTED_AT_BENCH} (station {station_id}, event {mutation_id})"
    lines = []
    for sku in sorted(wanted):
        product = products[sku]
        balance = lock_balance(session, product.id, location)
        before = balance.on_hand
        difference = wanted[sku] - before
        if difference:
            # A count is a physical fact, recorded even when it leaves available below zero.
            move(
                session,
                product.id,
                MovementKind.COUNTED,
                on_hand=difference,
                actor=who,
                reason=reason,
                location=location,
                physical=True,
            )
            if difference > 0 and location == MAIN:
                note_new_units(session, product.id)  # served after the push commits
        lines.append({"sku": sku, "was": before, "counted": wanted[sku], "difference": difference})
    return {"location": location, "lines": lines, "actor": who}
