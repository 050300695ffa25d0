"""Orders held for `unknown_sku` are validated again when their products arrive.

Only the SKU check is redone: the order's other hold reasons (address, payment) depend on
the order alone, which has not changed. The hold is lifted through the lifecycle (its audit
event says the catalogue fixed it) when no reason is left; otherwise the reasons shrink.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.ingest.store import apply_validation
from service.ingest.validate import UNKNOWN_SKU, Reason, unknown_sku_reasons
from service.lifecycle import OrderStatus
from service.models import Order, OrderLine, Product

FIXED_BY = "the product arriving in the catalogue"


def _held_orders(session: Session, skus: list[str]) -> list[int]:
    ids: set[int] = set()
    for i in range(0, len(skus), 900):
        ids.update(
            session.scalars(
                select(OrderLine.order_id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    OrderLine.sku.in_(skus[i : i + 900]),
                    OrderLine.product_id.is_(None),
                    Order.status == OrderStatus.ON_HOLD.value,
                )
            )
        )
    return sorted(ids)


def _with_skus(reasons: list[Reason], sku_reasons: list[Reason]) -> list[Reason]:
    """`reasons` with its unknown_sku entries replaced by `sku_reasons`, in place."""
    out: list[Reason] = []
    placed = False
    for reason in reasons:
        if reason.get("code") != UNKNOWN_SKU:
            out.append(reason)
        elif not placed:
            out.extend(sku_reasons)
            placed = True
    return out if placed else [*out, *sku_reasons]


def revalidate_held_orders(session: Session, skus: Iterable[str], *, actor: str) -> list[str]:
    """Link the lines of held orders to the now active products `skus` and validate those
    orders again; returns the numbers of the orders that left the hold."""
    wanted = sorted(set(skus))
    if not wanted:
        return []
    session.flush()
    released: list[str] = []
    for order_id in _held_orders(session, wanted):  # in id order: concurrent runs lock alike
        order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(of=Order))
        if order is None or order.status != OrderStatus.ON_HOLD.value:
            continue
        line_skus = {line.sku for line in order.lines if line.sku}
        rows = session.execute(
            select(Product.sku, Product.id).where(
                Product.sku.in_(sorted(line_skus)), Product.active.is_(True)
            )
        ).tuples()
        active = {sku: pid for sku, pid in rows}  # not dict(rows): a Result has .keys()
        for line in order.lines:
            if line.product_id is None and line.sku in active:
                line.product_id = active[line.sku]
        mark_changed(session, "order", order.id)
        missing = [line.sku for line in order.lines if line.sku not in active]
        reasons = _with_skus(list(order.hold_reasons), unknown_sku_reasons(missing))
        apply_validation(session, order, reasons, actor, fixed_by=FIXED_BY)
        if order.status != OrderStatus.ON_HOLD.value:
            released.append(order.number)
    return released


def revalidate_all_held(session: Session, *, actor: str) -> list[str]:
    """The sweep for a race no transaction sees: an order ingested while its product was
    being created (each commit missed the other). Validates again every held order with a
    line whose SKU is an active product by now; returns the released order numbers."""
    skus = session.scalars(
        select(OrderLine.sku)
        .distinct()
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.sku == OrderLine.sku)
        .where(
            OrderLine.product_id.is_(None),
            Order.status == OrderStatus.ON_HOLD.value,
            Product.active.is_(True),
        )
    ).all()
    return revalidate_held_orders(session, skus, actor=actor)
