"""The ingest path's tables as Core Table objects, for statements built without the ORM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import FromClause, Table, insert, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.models import (
    ChangeRow,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Product,
    StockBalance,
    WebhookReceipt,
)

ORDERS = cast(Table, Order.__table__)
ORDER_LINES = cast(Table, OrderLine.__table__)
ORDER_EVENTS = cast(Table, OrderEvent.__table__)
ORDER_EXCEPTIONS = cast(Table, OrderException.__table__)
PRODUCTS = cast(Table, Product.__table__)
RECEIPTS = cast(Table, WebhookReceipt.__table__)
CHANGES = cast(Table, ChangeRow.__table__)
STOCK_BALANCES = cast(Table, StockBalance.__table__)

# The column that names the order in each table written with a new order (service.ingest.
# insert): `order_id` but in the change feed, whose rows name their entity.
ORDER_KEY: dict[str, str] = {CHANGES.name: "entity_id"}

_INSERT_RECEIPT = insert(RECEIPTS)


def store_receipt(
    session: Session, receipt: Mapping[str, Any], order_id: int | None, outcome: str
) -> None:
    """Insert a webhook_receipts row (`receipt` without order_id and outcome), after the
    session's pending ORM changes, so it is the delivery's last write."""
    session.flush()
    session.connection().execute(
        _INSERT_RECEIPT, {**receipt, "order_id": order_id, "outcome": outcome}
    )


# A webhook delivery stored for the inbox and not applied yet (service.ingest.inbox), and
# one the inbox could not apply (kept with its body and the reason, to be retried).
QUEUED = "queued"
FAILED = "failed"


def is_queued(table: FromClause) -> ColumnElement[bool]:
    """`outcome = 'queued'` with the constant written out, as the partial indexes' predicate
    is: a bound parameter would keep PostgreSQL's generic plan off those indexes."""
    return table.c.outcome == literal_column(f"'{QUEUED}'")


def is_failed(table: FromClause) -> ColumnElement[bool]:
    """`outcome = 'failed'`, written out for its partial index as `is_queued` is."""
    return table.c.outcome == literal_column(f"'{FAILED}'")
