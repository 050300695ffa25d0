"""What operators do to stock by hand: adjust with a reason, count, and read a product's stock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.catalogue.fields import normalise_sku
from service.errors import NotFound, ValidationFailed
from service.models import Product, StockMovement
from service.stock.allocation import retry_backorders
from service.stock.ledger import MAIN, Level, MovementKind, level, levels, lock_balance, move

MAX_UNITS = 1_000_000
MAX_LOCATION = 32


@dataclass(frozen=True)
class MovementLine:
    """One ledger row as an operator reads it."""

    at: datetime
    kind: str
    location: str
    on_hand_delta: int
    allocated_delta: int
    order_id: int | None
    reason: str
    actor: str


@dataclass(frozen=True)
class ProductStock:
    """A product's stock at every location, and its latest movements."""

    sku: str
    name: str
    levels: list[Level]
    movements: list[MovementLine]


def find_product(session: Session, sku: str) -> Product:
    """The product with this SKU (normalised), or NotFound."""
    product = session.scalar(select(Product).where(Product.sku == normalise_sku(sku)))
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}.")
    return product


def _check(reason: str, location: str) -> None:
    if not reason.strip():
        raise ValidationFailed("Say why the stock changes (--reason).", field="reason")
    if not location.strip() or len(location) > MAX_LOCATION:
        raise ValidationFailed(f"A location is 1 to {MAX_LOCATION} characters.", field="location")


def adjust(
    session: Session,
    sku: str,
    *,
    quantity: int,
    reason: str,
    actor: str,
    location: str = MAIN,
    kind: MovementKind = MovementKind.ADJUSTED,
) -> Level:
    """Add (or with a negative quantity take away) units on hand, with a reason; the
    caller commits. StockShort if it would take available below zero."""
    _check(reason, location)
    if quantity == 0 or abs(quantity) > MAX_UNITS:
        raise ValidationFailed(
            f"An adjustment moves 1 to {MAX_UNITS} units, up or down.", field="qty"
        )
    product = find_product(session, sku)
    move(
        session,
        product.id,
        kind,
        on_hand=quantity,
        actor=actor,
        reason=reason.strip(),
        location=location.strip().upper(),
    )
    return level(session, product.id, location.strip().upper())


def count(
    session: Session, sku: str, *, counted: int, reason: str, actor: str, location: str = MAIN
) -> Level:
    """Record a shelf count: one `counted` movement of the difference (none if it agrees)."""
    _check(reason, location)
    if counted < 0 or counted > MAX_UNITS:
        raise ValidationFailed(f"A count is 0 to {MAX_UNITS} units.", field="count")
    product = find_product(session, sku)
    where = location.strip().upper()
    balance = lock_balance(session, product.id, where)
    difference = counted - balance.on_hand
    if difference:
        move(
            session,
            product.id,
            MovementKind.COUNTED,
            on_hand=difference,
            actor=actor,
            reason=reason.strip(),
            location=where,
        )
    return level(session, product.id, where)


def product_stock(session: Session, sku: str, *, last: int = 20) -> ProductStock:
    """A product's stock at every location and its `last` movements, newest first."""
    product = find_product(session, sku)
    rows = session.scalars(
        select(StockMovement)
        .where(StockMovement.product_id == product.id)
        .order_by(StockMovement.id.desc())
        .limit(last)
    )
    moves = [
        MovementLine(
            r.at,
            r.kind,
            r.location,
            r.on_hand_delta,
            r.allocated_delta,
            r.order_id,
            r.reason,
            r.actor,
        )
        for r in rows
    ]
    return ProductStock(product.sku, product.name, levels(session, product.id), moves)


def adjust_and_allocate(
    session: Session,
    sku: str,
    *,
    quantity: int | None = None,
    counted: int | None = None,
    reason: str,
    actor: str,
    location: str = MAIN,
) -> tuple[Level, list[str]]:
    """Adjust (or count) and commit, then allocate the backorders the new units can serve
    and commit again; returns the new level and the orders allocated. A failure rolls the
    session back and raises."""
    try:
        if counted is not None:
            after = count(
                session, sku, counted=counted, reason=reason, actor=actor, location=location
            )
        else:
            after = adjust(
                session, sku, quantity=quantity or 0, reason=reason, actor=actor, location=location
            )
        session.commit()
        allocated: list[str] = []
        if after.location == MAIN and after.available > 0:
            allocated = retry_backorders(session, [after.product_id], actor=actor)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return after, allocated
