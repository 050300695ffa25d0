"""Insert a new order: the common case of the ingest path, in as few statements as possible.

A webhook for a new order used to go through the ORM unit of work: an insert, a flush, an
UPDATE for the number, more inserts at the next flush. Here the outcome (confirmed, held or
cancelled) is decided first and the rows are written as they end up: the order (its number
computed from its id in the same statement), its lines and its two audit events, plus the
webhook receipt when there is one. On PostgreSQL that is one statement (data-modifying
CTEs, the child rows passed as arrays); on SQLite one statement per table.

The rows are the ones service.lifecycle would write for `pending -> target` (record_event
"created", then transition / hold); tests/integration/ingest/test_create_rows.py compares
the two. Everything runs in the caller's session transaction, so mark_changed and the retry
in store.run_in_transaction work as for ORM writes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import IllegalTransition
from service.ingest.model import NormalisedOrder
from service.ingest.rows import (
    ORDER_NUMBER_BASE,
    ORDER_NUMBER_PREFIX,
    IngestResult,
    line_columns,
    order_columns,
    validation_exception_columns,
)
from service.ingest.tables import ORDER_EVENTS, ORDER_EXCEPTIONS, ORDER_LINES, ORDERS, RECEIPTS
from service.ingest.validate import Reason, validate
from service.lifecycle import TRANSITIONS, OrderStatus
from service.models import Channel

log = logging.getLogger(__name__)

S = OrderStatus

# Columns of the order row given as parameters (id and number are computed in SQL); every
# other column is NULL (no column defaults are applied to these statements).
_ORDER_PARAMS = (
    "channel_id",
    "channel_order_id",
    "status",
    "held_from",
    "hold_reasons",
    "version",
    "created_at",
    "updated_at",
    "status_changed_at",
    "channel_order_name",
    "currency",
    "total_amount",
    "payment_state",
    "email",
    "phone",
    "ship_name",
    "ship_company",
    "ship_street1",
    "ship_street2",
    "ship_postcode",
    "ship_city",
    "ship_region",
    "ship_country",
    "billing_address",
    "priority",
    "cutoff_at",
    "carrier",
    "service",
    "ordered_at",
    "lease_epoch",
)

# Rows of other tables that belong to the new order: each gets its id as `order_id`.
Children = Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]


def _insert_order(dialect: str) -> Insert:
    """INSERT INTO orders (id, number, ...) SELECT <next id>, 'ORD-' || (base + id), ...

    The id is taken before the row exists so the number can be written with it: from the
    column's sequence on PostgreSQL; on SQLite the id it would pick itself, max(id) + 1
    (INTEGER PRIMARY KEY without AUTOINCREMENT), read under the write lock this statement
    holds, so no other writer can take it in between.
    """
    if dialect == "postgresql":
        next_id: Any = func.nextval(func.pg_get_serial_sequence(ORDERS.name, "id"))
    else:
        next_id = select(func.coalesce(func.max(ORDERS.c.id), 0) + 1).scalar_subquery()
    new = select(next_id.label("id")).subquery("new_order")
    number = literal(ORDER_NUMBER_PREFIX, String) + sql_cast(
        new.c.id + literal(ORDER_NUMBER_BASE, Integer), String
    )
    values = select(
        new.c.id,
        number,
        *(bindparam(name, type_=ORDERS.c[name].type) for name in _ORDER_PARAMS),
    ).select_from(new)
    return (
        insert(ORDERS)
        .from_select(["id", "number", *_ORDER_PARAMS], values, include_defaults=False)
        .returning(ORDERS.c.id, ORDERS.c.number)
    )


def _array_param(table: Table, column: str) -> str:
    return f"{table.name}__{column}"


def _insert_with_children_pg(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> Select[Any]:
    """WITH new_order AS (INSERT INTO orders ... RETURNING id, number),
    new_<child> AS (INSERT INTO <child> (order_id, ...) SELECT new_order.id, r.* FROM new_order
                    JOIN unnest(:<child>__col1, ...) AS r(col1, ...) ON true), ...
    SELECT id, number FROM new_order

    Child foreign keys are checked at the end of the statement, when the order exists.
    """
    new_order = _insert_order("postgresql").cte("new_order")
    ctes = []
    for table, columns in shape:
        rows = (
            func.unnest(
                *(bindparam(_array_param(table, c), type_=ARRAY(table.c[c].type)) for c in columns)
            )
            .table_valued(*columns)
            .render_derived(name=f"{table.name}_rows")
        )
        child = insert(table).from_select(
            ["order_id", *columns],
            select(new_order.c.id, *(rows.c[c] for c in columns)).select_from(
                new_order.join(rows, true())  # one order row times each child row
            ),
            include_defaults=False,
        )
        ctes.append(child.cte(f"new_{table.name}"))
    return select(new_order.c.id, new_order.c.number).add_cte(*ctes)


_SQLITE_INSERT_ORDER = _insert_order("sqlite")
_PG_STATEMENTS: dict[tuple[tuple[Table, tuple[str, ...]], ...], Select[Any]] = {}


def _insert(
    connection: Connection, order: Mapping[str, Any], children: Children
) -> tuple[int, str]:
    """Insert the order and its child rows; returns the order's id and number."""
    if connection.dialect.name == "postgresql":
        shape = tuple((table, tuple(rows[0])) for table, rows in children)
        statement = _PG_STATEMENTS.get(shape)
        if statement is None:
            statement = _PG_STATEMENTS[shape] = _insert_with_children_pg(shape)
        params = dict(order)
        for (table, columns), (_, rows) in zip(shape, children, strict=True):
            for c in columns:
                params[_array_param(table, c)] = [row[c] for row in rows]
        row = connection.execute(statement, params).one()
        return row.id, row.number
    row = connection.execute(_SQLITE_INSERT_ORDER, order).one()
    for table, rows in children:
        connection.execute(insert(table), [{"order_id": row.id, **r} for r in rows])
    return row.id, row.number


def create_order(
    session: Session,
    channel: Channel,
    incoming: NormalisedOrder,
    products: dict[str, int],
    *,
    actor: str,
    receipt: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Insert `incoming` as a new order of `channel`: confirmed, held, or (when the channel
    already cancelled it) cancelled, with its lines, audit events and exceptions.

    `receipt` is the webhook_receipts row of the delivery that carried it, without order_id
    and outcome; it is stored with them in the same statement.
    """
    # Created already cancelled (the create was missed): keep it so a late create delivery
    # finds the order cancelled instead of shipping it. Otherwise validate.
    reasons: list[Reason] = (
        [] if incoming.cancelled else validate(incoming, products, channel.settings)
    )
    change: dict[str, Any]
    if incoming.cancelled:
        target, change = S.CANCELLED, {"reason": "cancelled in channel"}
    elif reasons:
        target, change = S.ON_HOLD, {"reasons": reasons}
    else:
        target, change = S.CONFIRMED, {"reason": "validated"}
    if target not in TRANSITIONS[S.PENDING]:
        raise IllegalTransition(f"A new order cannot become {target}.")
    outcome = "cancelled" if target is S.CANCELLED else "created"
    created_at = utcnow()
    changed_at = utcnow()
    order = {
        "channel_id": channel.id,
        "channel_order_id": incoming.channel_order_id,
        "status": target.value,
        "held_from": S.PENDING.value if target is S.ON_HOLD else None,
        "hold_reasons": list(reasons),
        "version": 2,  # 1 when inserted, +1 for the status change
        "lease_epoch": 0,
        "created_at": created_at,
        "updated_at": changed_at,
        "status_changed_at": changed_at,
        **order_columns(incoming),
    }
    event = {"actor": actor, "station_id": None}
    events = [
        {
            **event,
            "type": "created",
            "from_status": None,
            "to_status": None,
            "payload": {"channel": channel.name, "channel_order_id": incoming.channel_order_id},
            "at": created_at,
        },
        {
            **event,
            "type": "status_changed",
            "from_status": S.PENDING.value,
            "to_status": target.value,
            "payload": change,
            "at": changed_at,
        },
    ]
    children: list[tuple[Table, Sequence[Mapping[str, Any]]]] = [
        (ORDER_LINES, line_columns(incoming, products)),
        (ORDER_EVENTS, events),
    ]
    if receipt is not None:
        children.append((RECEIPTS, [{**receipt, "outcome": outcome}]))
    connection = session.connection()
    order_id, number = _insert(connection, order, children)
    if reasons:
        # Apart: their details name the order number, known only now.
        connection.execute(
            insert(ORDER_EXCEPTIONS),
            [
                {
                    "order_id": order_id,
                    "created_at": changed_at,
                    **validation_exception_columns(number, r),
                }
                for r in reasons
            ],
        )
    mark_changed(session, "order", order_id)
    if target is not S.CANCELLED:
        log.info(
            "order created",
            extra={"order": number, "channel": channel.name, "status": target.value},
        )
    return IngestResult(outcome, order_id, number, target.value, list(reasons))
