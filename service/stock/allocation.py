"""Orders and stock: allocate at ingest (short means backorder), release on cancel, consume
on pack. Everything is derived from the order's own movements, so running any of these again
changes nothing; each movement is also keyed by (order, event) under a unique constraint.

Lock order, everywhere: the order row first, then balance rows in product id order. Callers
that change stock without an order (adjustments, returns) commit first and then run
`retry_backorders` in a transaction of its own, so they never hold a balance while waiting
for an order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, lazyload

from service.lifecycle import OrderStatus, transition
from service.models import Order, OrderException, OrderLine, StockBalance, StockMovement
from service.stock.ledger import (
    MAIN,
    MovementKind,
    level,
    lock_balance,
    move,
    negative_allowed,
    tracked,
)
from sync.protocol import exception_words

log = logging.getLogger(__name__)

S = OrderStatus
ACTOR = "service:stock"
_ALLOCATING = frozenset({S.CONFIRMED, S.BACKORDER})
_RETRY_LIMIT = 200


def _wanted(session: Session, order: Order) -> dict[int, int]:
    """Units per tracked product the order's lines ask for."""
    per_product: dict[int, int] = defaultdict(int)
    for line in order.lines:
        if line.product_id is not None:
            per_product[line.product_id] += line.quantity
    keep = tracked(session, per_product)
    return {p: q for p, q in per_product.items() if p in keep}


def order_stock(session: Session, order_id: int) -> dict[int, tuple[int, int]]:
    """Per product: (units allocated to the order now, units shipped for it), from the ledger."""
    shipped = func.sum(
        case((StockMovement.kind == MovementKind.SHIPPED.value, -StockMovement.on_hand_delta))
    )
    rows = session.execute(
        select(StockMovement.product_id, func.sum(StockMovement.allocated_delta), shipped)
        .where(StockMovement.order_id == order_id, StockMovement.location == MAIN)
        .group_by(StockMovement.product_id)
    )
    return {p: (int(a or 0), int(s or 0)) for p, a, s in rows}


def allocate_order(session: Session, order: Order, *, actor: str = ACTOR) -> str:
    """Bring the order's allocation in line with its lines and status, in the caller's
    transaction (the order row locked or just inserted). Returns what happened:
    "untracked", "unchanged", "allocated", "backorder" or "released"."""
    status = S(order.status)
    if status is S.CANCELLED:
        return release_order(session, order, actor=actor)
    if status not in _ALLOCATING:
        return "unchanged"
    wanted = _wanted(session, order)
    have = order_stock(session, order.id)
    if not wanted and not have:
        return "untracked"
    version = order.version or 1
    outcome = "unchanged"
    for product_id in sorted(have):
        allocated, shipped = have[product_id]
        extra = allocated - max(wanted.get(product_id, 0) - shipped, 0)
        if extra > 0:  # lines changed: give back what is no longer ordered
            move(
                session,
                product_id,
                MovementKind.RELEASED,
                allocated=-extra,
                actor=actor,
                reason="order lines changed",
                order_id=order.id,
                event_key=f"release:v{version}",
            )
            outcome = "released"
    need = {
        p: q - have.get(p, (0, 0))[0] - have.get(p, (0, 0))[1]
        for p, q in wanted.items()
        if q - have.get(p, (0, 0))[0] - have.get(p, (0, 0))[1] > 0
    }
    if not need:
        if status is S.BACKORDER:
            transition(session, order, S.CONFIRMED, actor=actor, reason="stock allocated")
            return "allocated"
        return outcome
    balances = {p: lock_balance(session, p, MAIN) for p in sorted(need)}
    short = {p: q for p, q in need.items() if balances[p].on_hand - balances[p].allocated < q}
    if negative_allowed():
        short = {}  # the site sells what it does not have yet
    if short:
        if status is S.CONFIRMED:
            transition(
                session,
                order,
                S.BACKORDER,
                actor=actor,
                reason="not enough stock",
                payload={"short": _short_lines(order, short, balances)},
            )
        return "backorder"
    for product_id, quantity in sorted(need.items()):
        move(
            session,
            product_id,
            MovementKind.ALLOCATED,
            allocated=quantity,
            actor=actor,
            reason=f"order {order.number}",
            order_id=order.id,
            event_key=f"allocate:v{version}",
        )
    if status is S.BACKORDER:
        transition(session, order, S.CONFIRMED, actor=actor, reason="stock allocated")
    return "allocated"


def _short_lines(
    order: Order, short: dict[int, int], balances: dict[int, StockBalance]
) -> list[dict[str, int | str]]:
    skus = {line.product_id: line.sku for line in order.lines}
    return [
        {
            "sku": skus.get(p, ""),
            "needed": q,
            "available": balances[p].on_hand - balances[p].allocated,
        }
        for p, q in sorted(short.items())
    ]


UNPACK_CODE = "unpack_cancelled"


def release_order(session: Session, order: Order, *, actor: str = ACTOR) -> str:
    """Give back every unit still allocated to the order (a cancel); "released" or
    "unchanged".

    Units already packed are not allocated any more: they left the shelf and are in the
    parcel. If the order is cancelled before the parcel is dispatched, an `unpack_cancelled`
    exception says to take the parcel to the returns bench, where booking its units in (the
    order number finds it) puts them back on the shelf with the usual ledger movements."""
    outcome = "unchanged"
    for product_id, (allocated, _shipped) in sorted(order_stock(session, order.id).items()):
        if allocated > 0:
            move(
                session,
                product_id,
                MovementKind.RELEASED,
                allocated=-allocated,
                actor=actor,
                reason=f"order {order.number} is {order.status}",
                order_id=order.id,
                event_key=f"release:v{order.version or 1}",
            )
            outcome = "released"
    if order.status == S.CANCELLED.value:
        _unpack_notice(session, order)
    return outcome


def _unpack_notice(session: Session, order: Order) -> None:
    packed = sum(shipped for _a, shipped in order_stock(session, order.id).values())
    if packed <= 0:
        return
    noticed = session.scalar(
        select(OrderException.id).where(
            OrderException.order_id == order.id, OrderException.code == UNPACK_CODE
        )
    )
    if noticed is not None:
        return
    message, say = exception_words(UNPACK_CODE, order=order.number, units=packed)
    session.add(
        OrderException(
            order_id=order.id,
            kind="stock",
            code=UNPACK_CODE,
            message=message,
            details={"units": packed, "say": say},
        )
    )


def consume_order(session: Session, order: Order, *, actor: str, event_key: str = "pack") -> int:
    """Take the order's units off the shelf when it is packed; returns the units moved.

    What was allocated is consumed with it; units never allocated (an order taken in
    before its product was counted) still leave on hand, being a physical fact, and an
    `oversold` exception is opened if that takes available below zero.
    """
    wanted = _wanted(session, order)
    have = order_stock(session, order.id)
    moved = 0
    for product_id, quantity in sorted(wanted.items()):
        allocated, shipped = have.get(product_id, (0, 0))
        remaining = quantity - shipped
        if remaining <= 0:
            continue
        row = move(
            session,
            product_id,
            MovementKind.SHIPPED,
            on_hand=-remaining,
            allocated=-min(allocated, remaining),
            actor=actor,
            reason=f"order {order.number} packed",
            order_id=order.id,
            event_key=event_key,
            physical=True,
        )
        if row is None:
            continue
        moved += remaining
        if allocated < remaining and level(session, product_id).available < 0:
            _oversold(session, order, product_id)
    return moved


def _oversold(session: Session, order: Order, product_id: int) -> None:
    sku = next((line.sku for line in order.lines if line.product_id == product_id), "")
    message, say = exception_words("oversold", order=order.number, sku=sku)
    session.add(
        OrderException(
            order_id=order.id,
            kind="stock",
            code="oversold",
            message=message,
            details={"sku": sku, "product_id": product_id, "say": say},
        )
    )


def retry_backorders(
    session: Session, product_ids: Iterable[int], *, actor: str = ACTOR
) -> list[str]:
    """Allocate backordered orders of these products, oldest first, in the caller's
    transaction (which must hold no balance lock); returns the numbers now allocated."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    has_line = exists().where(OrderLine.order_id == Order.id, OrderLine.product_id.in_(ids))
    orders = session.scalars(
        select(Order)
        .options(lazyload(Order.channel))
        .where(Order.status == S.BACKORDER.value, has_line)
        .order_by(Order.created_at, Order.id)
        .limit(_RETRY_LIMIT)
        .with_for_update(skip_locked=True)
    ).all()
    done: list[str] = []
    for order in orders:
        if allocate_order(session, order, actor=actor) == "allocated":
            done.append(order.number)
    if done:
        log.info("backordered orders allocated", extra={"orders": done})
    return done


_NEW_UNITS_KEY = "pb_stock_new_units"


def note_new_units(session: Session, product_id: int) -> None:
    """Remember that units of this product came in (a restock at a bench), so the caller
    can serve backorders once its transaction has committed."""
    session.info.setdefault(_NEW_UNITS_KEY, set()).add(product_id)


def serve_noted_backorders(session: Session, *, actor: str = ACTOR) -> list[str]:
    """After the caller's transaction committed: allocate backorders the noted new units can
    serve, in a transaction of their own. Never raises: the caller's work already stands."""
    noted: set[int] | None = session.info.pop(_NEW_UNITS_KEY, None)
    if not noted:
        return []
    try:
        with session.begin():
            return retry_backorders(session, noted, actor=actor)
    except Exception:  # the next stock change or `stock allocate` serves them instead
        log.exception("backorders not served after new units", extra={"products": sorted(noted)})
        return []


def sweep_backorders(session: Session, *, actor: str = ACTOR) -> list[str]:
    """retry_backorders for every product a backordered order waits for."""
    waiting = session.scalars(
        select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status == S.BACKORDER.value, OrderLine.product_id.is_not(None))
        .distinct()
    ).all()
    return retry_backorders(session, [p for p in waiting if p is not None], actor=actor)
