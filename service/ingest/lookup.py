"""Everything the ingest path must read before it writes, in one round trip.

For an incoming order that is: whether this delivery was received before (its stored
outcome), whether the channel already has the order, which of its SKUs are active products,
which of those have stock tracked (a balance row at the main location: a confirmed order of
them is allocated at once, service.stock.allocation) and, where the webhook inbox runs,
whether an earlier delivery of the order is still queued (service.ingest.inbox). One UNION
ALL of index lookups instead of a statement each; each branch tags its rows with what it
found.

Nothing is locked here. A new order is inserted without a lock (a concurrent insert of the
same order or delivery fails on a unique key, and run_in_transaction retries); an existing
one is read again with FOR UPDATE (store.find_order) before it is changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import (
    Executable,
    Integer,
    Select,
    String,
    bindparam,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from service.ingest.tables import ORDERS, PRODUCTS, RECEIPTS, STOCK_BALANCES, is_queued
from service.stock.ledger import MAIN

_RECEIPT, _ORDER, _PRODUCT, _QUEUED, _TRACKED, _BACKLOG = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class Lookup:
    """What the database already knows about one incoming order (or delivery)."""

    receipt_outcome: str | None = None  # the stored outcome when this delivery was seen
    order_id: int | None = None  # the channel's order with this channel order id
    products: dict[str, int] = field(default_factory=dict)  # SKU -> active product id
    queued: bool = False  # an earlier delivery of the order waits in the inbox
    tracked: frozenset[int] = frozenset()  # those products with stock tracked
    backlog: bool = False  # some delivery (of any order) waits in the inbox


def _branch(tag: int) -> Select[tuple[int, str | None, int | None]]:
    kind = literal_column(str(tag), Integer).label("kind")
    if tag == _RECEIPT:
        return select(kind, RECEIPTS.c.outcome, sql_cast(null(), Integer)).where(
            RECEIPTS.c.channel_id == bindparam("channel_id"),
            RECEIPTS.c.webhook_id == bindparam("webhook_id"),
        )
    if tag == _ORDER:
        return select(kind, sql_cast(null(), String), ORDERS.c.id).where(
            ORDERS.c.channel_id == bindparam("channel_id"),
            ORDERS.c.channel_order_id == bindparam("channel_order_id"),
        )
    if tag == _BACKLOG:
        # One row if any delivery is queued (a probe of the queue's partial index).
        queued = select(RECEIPTS.c.id).where(is_queued(RECEIPTS))
        # (mypy reads both NULL casts as never-None columns; they are always NULL here)
        none = sql_cast(null(), Integer)
        return select(kind, sql_cast(null(), String), none).where(queued.exists())  # type: ignore[return-value]
    if tag == _QUEUED:
        return select(kind, sql_cast(null(), String), RECEIPTS.c.id).where(
            RECEIPTS.c.channel_id == bindparam("channel_id"),
            RECEIPTS.c.channel_order_id == bindparam("channel_order_id"),
            is_queued(RECEIPTS),
        )
    active = (PRODUCTS.c.sku.in_(bindparam("skus", expanding=True)), PRODUCTS.c.active.is_(True))
    if tag == _TRACKED:
        return (
            select(kind, sql_cast(null(), String), STOCK_BALANCES.c.product_id)
            .select_from(
                PRODUCTS.join(
                    STOCK_BALANCES,
                    (STOCK_BALANCES.c.product_id == PRODUCTS.c.id)
                    & (STOCK_BALANCES.c.location == literal_column(f"'{MAIN}'")),
                )
            )
            .where(*active)
        )
    return select(kind, PRODUCTS.c.sku, PRODUCTS.c.id).where(*active)


@cache
def _statement(with_receipt: bool, with_order: bool, with_queued: bool) -> Executable:
    """The one statement for what is asked (built once per combination)."""
    tags = [
        tag
        for tag, wanted in (
            (_RECEIPT, with_receipt),
            (_ORDER, with_order),
            (_PRODUCT, with_order),
            (_TRACKED, with_order),
            (_QUEUED, with_order and with_queued),
            (_BACKLOG, with_order and with_queued),
        )
        if wanted
    ]
    return union_all(*(_branch(t) for t in tags)) if len(tags) > 1 else _branch(tags[0])


def look_up(
    session: Session,
    channel_id: int,
    *,
    channel_order_id: str | None = None,
    skus: Iterable[str] = (),
    webhook_id: str | None = None,
    queued: bool = False,
) -> Lookup:
    """Read the delivery's receipt (if `webhook_id`), the order, its products and which of
    them have stock tracked (if `channel_order_id`) and whether a delivery of the order, or
    any delivery, is queued (if also `queued`) in one statement, inside the session's
    transaction."""
    with_order = channel_order_id is not None
    if webhook_id is None and not with_order:
        return Lookup()
    # Core statements do not autoflush: make objects added to this session visible first.
    session.flush()
    params: dict[str, object] = {"channel_id": channel_id}
    if webhook_id is not None:
        params["webhook_id"] = webhook_id
    if with_order:
        params["channel_order_id"] = channel_order_id
        params["skus"] = sorted({sku for sku in skus if sku})
    statement = _statement(webhook_id is not None, with_order, queued)
    outcome: str | None = None
    waiting = backlog = False
    order_id: int | None = None
    products: dict[str, int] = {}
    tracked: set[int] = set()
    for kind, key, row_id in session.connection().execute(statement, params):
        if kind == _RECEIPT:
            outcome = key
        elif kind == _ORDER:
            order_id = row_id
        elif kind == _QUEUED:
            waiting = True
        elif kind == _BACKLOG:
            backlog = True
        elif kind == _TRACKED:
            tracked.add(row_id)
        else:
            products[key] = row_id
    return Lookup(outcome, order_id, products, waiting, frozenset(tracked), backlog=backlog)
