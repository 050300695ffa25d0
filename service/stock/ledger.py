"""The stock ledger: every change of stock is one appended movement, never a counter edit.

`move()` is the only writer. It locks the (product, location) balance row, refuses a movement
that would take available stock below zero (unless the site allows it), appends the movement
and updates the balance in the caller's transaction. The balance is a cache of the ledger;
`recompute()` rebuilds the figures from the movements and `check()` compares the two.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Conflict
from service.models import Product, StockBalance, StockMovement
from service.stock.publish import note_available_changed

MAIN = "MAIN"  # where sellable stock is kept and orders are allocated from
B_GRADE = "B-GRADE"  # returned units sold only as second quality
ALLOW_NEGATIVE_ENV = "PACKBENCH_STOCK_ALLOW_NEGATIVE"


class MovementKind(StrEnum):
    RECEIVED = "received"
    ALLOCATED = "allocated"
    RELEASED = "released"
    SHIPPED = "shipped"
    RETURNED_TO_STOCK = "returned_to_stock"
    B_GRADE = "b_grade"
    WRITTEN_OFF = "written_off"
    COUNTED = "counted"
    ADJUSTED = "adjusted"


class StockShort(Conflict):
    """A movement would take available stock below zero; nothing was recorded."""

    code = "stock_short"


@dataclass(frozen=True)
class Level:
    """Stock of one product at one location."""

    product_id: int
    location: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        """Units on hand not promised to an order."""
        return self.on_hand - self.allocated


def negative_allowed() -> bool:
    """Whether the site lets available stock go below zero (PACKBENCH_STOCK_ALLOW_NEGATIVE)."""
    return os.environ.get(ALLOW_NEGATIVE_ENV, "").strip().lower() in ("1", "true", "yes")


def lock_balance(session: Session, product_id: int, location: str) -> StockBalance:
    """The balance row, created if missing, locked for this transaction (PostgreSQL)."""
    table = StockBalance
    values = {
        "product_id": product_id,
        "location": location,
        "on_hand": 0,
        "allocated": 0,
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())
    balance = session.scalar(
        select(StockBalance)
        .where(StockBalance.product_id == product_id, StockBalance.location == location)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert balance is not None
    return balance


def tracked(session: Session, product_ids: Iterable[int]) -> set[int]:
    """Which of these products have stock tracked (a balance row at the main location)."""
    ids = sorted(set(product_ids))
    if not ids:
        return set()
    rows = session.scalars(
        select(StockBalance.product_id).where(
            StockBalance.product_id.in_(ids), StockBalance.location == MAIN
        )
    )
    return set(rows)


def already_moved(session: Session, order_id: int, event_key: str) -> bool:
    """Whether the order event `event_key` has already moved stock."""
    found = session.scalar(
        select(StockMovement.id)
        .where(StockMovement.order_id == order_id, StockMovement.event_key == event_key)
        .limit(1)
    )
    return found is not None


def move(
    session: Session,
    product_id: int,
    kind: MovementKind,
    *,
    actor: str,
    on_hand: int = 0,
    allocated: int = 0,
    location: str = MAIN,
    reason: str = "",
    order_id: int | None = None,
    event_key: str | None = None,
    physical: bool = False,
) -> StockMovement | None:
    """Append one movement and update its balance; None if this order event already moved.

    Raises StockShort when available would drop below zero and the site does not allow it;
    a `physical` movement (units that already left the building) is recorded regardless.
    """
    balance = lock_balance(session, product_id, location)
    if order_id is not None and event_key is not None:
        done = session.scalar(
            select(StockMovement.id).where(
                StockMovement.order_id == order_id,
                StockMovement.event_key == event_key,
                StockMovement.product_id == product_id,
                StockMovement.location == location,
            )
        )
        if done is not None:
            return None
    after = Level(product_id, location, balance.on_hand + on_hand, balance.allocated + allocated)
    lowers = on_hand - allocated < 0
    if lowers and after.available < 0 and not physical and not negative_allowed():
        raise StockShort(
            f"Only {balance.on_hand - balance.allocated} of {_sku(session, product_id)} "
            f"available at {location}; {allocated - on_hand} needed. Nothing was recorded."
        )
    row = StockMovement(
        product_id=product_id,
        location=location,
        kind=kind.value,
        on_hand_delta=on_hand,
        allocated_delta=allocated,
        order_id=order_id,
        event_key=event_key,
        reason=reason,
        actor=actor,
        at=utcnow(),
    )
    session.add(row)
    balance.on_hand = after.on_hand
    balance.allocated = after.allocated
    balance.updated_at = row.at
    session.flush()
    if on_hand - allocated != 0 and location == MAIN:
        note_available_changed(session, product_id)
    return row


def level(session: Session, product_id: int, location: str = MAIN) -> Level:
    """The balance of a product at a location (zeros if it never moved)."""
    row = session.get(StockBalance, (product_id, location))
    if row is None:
        return Level(product_id, location, 0, 0)
    return Level(product_id, location, row.on_hand, row.allocated)


def levels(session: Session, product_id: int) -> list[Level]:
    """Every location's balance of a product, main first."""
    rows = session.scalars(
        select(StockBalance)
        .where(StockBalance.product_id == product_id)
        .execution_options(populate_existing=True)
    )
    found = [Level(r.product_id, r.location, r.on_hand, r.allocated) for r in rows]
    return sorted(found, key=lambda lv: (lv.location != MAIN, lv.location))


def recompute(session: Session) -> dict[tuple[int, str], Level]:
    """Every (product, location) figure summed from the ledger alone."""
    rows = session.execute(
        select(
            StockMovement.product_id,
            StockMovement.location,
            func.sum(StockMovement.on_hand_delta),
            func.sum(StockMovement.allocated_delta),
        ).group_by(StockMovement.product_id, StockMovement.location)
    )
    return {(p, loc): Level(p, loc, int(oh or 0), int(al or 0)) for p, loc, oh, al in rows}


@dataclass(frozen=True)
class Mismatch:
    """A balance that disagrees with its ledger."""

    sku: str
    location: str
    balance: Level
    ledger: Level


def check(session: Session) -> list[Mismatch]:
    """Balances that disagree with the sum of their movements (none on a healthy site)."""
    ledger = recompute(session)
    balances = {
        (b.product_id, b.location): Level(b.product_id, b.location, b.on_hand, b.allocated)
        for b in session.scalars(select(StockBalance))
    }
    skus = dict(session.execute(select(Product.id, Product.sku)).tuples().all())
    found: list[Mismatch] = []
    for key in sorted(set(ledger) | set(balances)):
        want = ledger.get(key, Level(key[0], key[1], 0, 0))
        have = balances.get(key, Level(key[0], key[1], 0, 0))
        if (want.on_hand, want.allocated) != (have.on_hand, have.allocated):
            found.append(Mismatch(skus.get(key[0], f"#{key[0]}"), key[1], have, want))
    return found


def _sku(session: Session, product_id: int) -> str:
    return session.scalar(select(Product.sku).where(Product.id == product_id)) or f"#{product_id}"
