"""Write a new order and the rows that belong to it in as few statements as the database allows.

PostgreSQL, one statement: each table's rows travel as one JSON parameter, read back as rows
of the table's own type by json_populate_record(set), and the order's id reaches the other
tables through data-modifying CTEs:

    WITH new_order AS (INSERT INTO orders (id, number, a, b, ...)
                       SELECT n.id, 'ORD-' || (100000 + n.id), r.a, r.b, ...
                       FROM (SELECT nextval(...) AS id) AS n
                       JOIN json_populate_record(NULL::orders, :orders) AS r ON true
                       RETURNING id, number),
         new_order_lines AS (INSERT INTO order_lines (order_id, a, ...)
                             SELECT new_order.id, r.a, ... FROM new_order
                             JOIN json_populate_recordset(NULL::order_lines, :order_lines) AS r
                             ON true),
         ...
    SELECT id, number FROM new_order

A handful of parameters and a short text keep the statement in psycopg's query cache (50
parameters, 4 kB at most) and cheap to bind. Values cross as their text form, which the
columns' input functions read back exactly (ISO timestamps with offset, decimal strings). A
JSON column's value is nested in the parameter, which the driver serializes with the same
function as a JSON column's parameter, and PostgreSQL keeps a json value's text as given:
it is stored byte for byte as before. Foreign keys are checked at the end of the statement,
when the order row exists.

SQLite, one statement per table: INSERT ... RETURNING for the order, then an executemany.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Insert,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    column,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from service.ingest.rows import ORDER_NUMBER_BASE, ORDER_NUMBER_PREFIX
from service.ingest.tables import ORDER_KEY, ORDERS

# Rows of other tables that belong to the new order; each is written with its `order_id`
# (the change feed's row with `entity_id`, tables.ORDER_KEY).
Children = list[tuple[Table, list[dict[str, Any]]]]
_Shape = tuple[tuple[Table, tuple[str, ...]], ...]


def insert_order(
    connection: Connection, order: Mapping[str, Any], children: Children
) -> tuple[int, str]:
    """Insert `order` (every column but id and number) and `children`; returns the new
    order's id and number."""
    if connection.dialect.name == "postgresql":
        return _insert_postgresql(connection, order, children)
    row = connection.execute(_insert_order_sqlite(tuple(order)), order).one()
    for table, rows in children:
        key = ORDER_KEY.get(table.name, "order_id")
        connection.execute(insert(table), [{key: row.id, **r} for r in rows])
    return row.id, row.number


def _number(order_id: ColumnElement[int]) -> ColumnElement[str]:
    """order_number() in SQL."""
    return literal(ORDER_NUMBER_PREFIX, String) + sql_cast(
        order_id + literal(ORDER_NUMBER_BASE, Integer), String
    )


_SQLITE_STATEMENTS: dict[tuple[str, ...], Insert] = {}


def _insert_order_sqlite(columns: tuple[str, ...]) -> Insert:
    """INSERT INTO orders (id, number, ...) SELECT max(id) + 1, <number>, :col, ...

    The id SQLite would pick itself (INTEGER PRIMARY KEY without AUTOINCREMENT), read under
    the write lock this statement holds, so the number can be written with the row.
    """
    statement = _SQLITE_STATEMENTS.get(columns)
    if statement is None:
        new = select((func.coalesce(func.max(ORDERS.c.id), 0) + 1).label("id")).subquery(
            "next_order_id"
        )
        values = select(
            new.c.id,
            _number(new.c.id),
            *(bindparam(c, type_=ORDERS.c[c].type) for c in columns),
        ).select_from(new)
        statement = _SQLITE_STATEMENTS[columns] = (
            insert(ORDERS)
            .from_select(["id", "number", *columns], values, include_defaults=False)
            .returning(ORDERS.c.id, ORDERS.c.number)
        )
    return statement


_PG_STATEMENTS: dict[_Shape, Select[Any]] = {}


def statement_postgresql(order: Mapping[str, Any], children: Children) -> Select[Any]:
    """The one PostgreSQL statement for rows shaped like these (built once per shape)."""
    shape = ((ORDERS, tuple(order)), *((table, tuple(rows[0])) for table, rows in children))
    statement = _PG_STATEMENTS.get(shape)
    if statement is None:
        statement = _PG_STATEMENTS[shape] = _statement_postgresql(shape)
    return statement


def _insert_postgresql(
    connection: Connection, order: Mapping[str, Any], children: Children
) -> tuple[int, str]:
    statement = statement_postgresql(order, children)
    params: dict[str, Any] = {ORDERS.name: _json_row(order)}
    for table, rows in children:
        params[table.name] = [_json_row(r) for r in rows]
    row = connection.execute(statement, params).one()
    return row.id, row.number


def _statement_postgresql(shape: _Shape) -> Select[Any]:
    (_, order_columns), *children = shape
    received = _from_json(ORDERS, order_columns, many=False)
    new = select(func.nextval(func.pg_get_serial_sequence(ORDERS.name, "id")).label("id")).subquery(
        "next_order_id"
    )
    new_order = (
        insert(ORDERS)
        .from_select(
            ["id", "number", *order_columns],
            select(
                new.c.id, _number(new.c.id), *(received.c[c] for c in order_columns)
            ).select_from(new.join(received, true())),
            include_defaults=False,
        )
        .returning(ORDERS.c.id, ORDERS.c.number)
        .cte("new_order")
    )
    ctes = []
    for table, columns in children:
        rows = _from_json(table, columns, many=True)
        # The one new order's id with each of the rows.
        each_row = select(new_order.c.id, *(rows.c[c] for c in columns)).select_from(
            new_order.join(rows, true())
        )
        key = ORDER_KEY.get(table.name, "order_id")
        child = insert(table).from_select([key, *columns], each_row, include_defaults=False)
        ctes.append(child.cte(f"new_{table.name}"))
    return select(new_order.c.id, new_order.c.number).add_cte(*ctes)


def _from_json(table: Table, columns: tuple[str, ...], *, many: bool) -> Any:
    """json_populate_record(set)(NULL::<table>, :<table>) AS r: the JSON as rows of the
    table's own row type (each CTE has its own scope, so `r` is unambiguous)."""
    function = func.json_populate_recordset if many else func.json_populate_record
    row_type: ColumnElement[Any] = literal_column(f"NULL::{table.name}")
    return (
        function(row_type, bindparam(table.name, type_=JSON))
        .table_valued(*(column(c, table.c[c].type) for c in columns))
        .alias("r")
    )


# Values JSON carries as they are (JSON column values are dicts and lists).
_AS_IS = frozenset({str, int, bool, type(None), dict, list})


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if type(v) in _AS_IS else _json_value(v) for k, v in row.items()}


def _json_value(value: Any) -> Any:
    """A column value as JSON the column's input function reads back exactly.

    A JSON column's value goes in as it is (never None in these rows: a typed parameter
    would store JSON null, json_populate_record an SQL NULL).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as service.db.UTCDateTime refuses them
            raise ValueError("naive datetime given to the database; use utcnow()")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
