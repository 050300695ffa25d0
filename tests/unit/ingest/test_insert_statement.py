"""A new order goes into PostgreSQL as one statement that psycopg can cache and prepare."""

from __future__ import annotations

import psycopg._queries
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from service.db import utcnow
from service.ingest import shopify
from service.ingest.create import new_order_rows
from service.ingest.insert import statement_postgresql
from service.models import Channel
from tests.support.shop_payloads import shopify_order

# psycopg converts and caches a query only up to these sizes; above, it re-parses the text
# of every execution (its defaults, should the private names go away).
MAX_LENGTH = getattr(psycopg._queries, "MAX_CACHED_STATEMENT_LENGTH", 4096)
MAX_PARAMS = getattr(psycopg._queries, "MAX_CACHED_STATEMENT_PARAMS", 50)


def test_new_order_statement_fits_psycopg_query_cache() -> None:
    channel = Channel(id=1, kind="shopify", name="shop", settings={})
    incoming = shopify.parse(shopify_order(1), {})
    receipt = {
        "channel_id": 1,
        "webhook_id": "w-1",
        "topic": "orders/create",
        "received_at": utcnow(),
        "ignored": False,
    }
    rows = new_order_rows(channel, incoming, {}, actor="webhook:shop", receipt=receipt)
    assert [table.name for table, _ in rows.children] == [
        "order_lines",
        "order_events",
        "changes",
        "webhook_receipts",
    ]
    compiled = statement_postgresql(rows.order, rows.children).compile(dialect=PGDialect_psycopg())
    assert len(str(compiled).encode()) <= MAX_LENGTH
    assert len(compiled.params) <= MAX_PARAMS
