"""Applying the service's changes to the replica, inside the caller's transaction.

The rule for local work: an order that still has mutations in the outbox keeps the row the
station is working from. A server version (or removal) arriving for it meanwhile is parked
in `held_changes` and applied by `release_held()` once the outbox no longer mentions the
order, i.e. once the service has acknowledged everything the station did to it. Orders are
the only entity a station mutates, so only orders are ever held.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from sync.protocol import (
    BatchSnapshot,
    Change,
    LabelSnapshot,
    LeaseInfo,
    OrderSnapshot,
    ProductSnapshot,
    UserSnapshot,
    WeightProfileSnapshot,
)
from sync.replica import tables as t


def iso(value: datetime | None) -> str | None:
    """A datetime as the ISO text the replica stores (None stays None)."""
    return value.isoformat() if value is not None else None


def pending_order_ids(conn: Connection, order_ids: Iterable[int]) -> set[int]:
    """Which of these orders still have mutations waiting in the outbox."""
    ids = list(set(order_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        found.update(
            conn.scalars(
                select(t.outbox.c.order_id).where(t.outbox.c.order_id.in_(chunk)).distinct()
            )
        )
    return found


def apply_changes(conn: Connection, changes: Sequence[Change]) -> int:
    """Apply one page of changes; returns how many order changes were held back."""
    latest: dict[tuple[str, int], Change] = {}
    for change in changes:  # within a page only the newest version of an entity matters
        key = (change.entity, change.entity_id)
        if key not in latest or latest[key].seq <= change.seq:
            latest[key] = change
    ordered = sorted(latest.values(), key=lambda c: c.seq)
    busy = pending_order_ids(conn, (c.entity_id for c in ordered if c.entity == "order"))
    held = 0
    by_entity: dict[str, list[Change]] = {}
    for change in ordered:
        if change.entity == "order" and change.entity_id in busy:
            hold(conn, change)
            held += 1
        else:
            by_entity.setdefault(change.entity, []).append(change)
    for entity, group in by_entity.items():
        _APPLIERS[entity](conn, group)
    return held


def hold(conn: Connection, change: Change) -> None:
    conn.execute(
        t.held_changes.delete().where(
            t.held_changes.c.entity == change.entity,
            t.held_changes.c.entity_id == change.entity_id,
        )
    )
    conn.execute(
        insert(t.held_changes).values(
            entity=change.entity,
            entity_id=change.entity_id,
            seq=change.seq,
            data=None if change.data is None else json.dumps(change.data),
        )
    )


def release_held(conn: Connection) -> int:
    """Apply parked order changes whose orders have no outbox rows left; returns how many."""
    rows = conn.execute(select(t.held_changes).where(t.held_changes.c.entity == "order")).all()
    if not rows:
        return 0
    busy = pending_order_ids(conn, (r.entity_id for r in rows))
    ready = [r for r in rows if r.entity_id not in busy]
    if not ready:
        return 0
    changes = [
        Change(
            seq=r.seq,
            entity="order",
            entity_id=r.entity_id,
            data=None if r.data is None else json.loads(r.data),
        )
        for r in ready
    ]
    _apply_orders(conn, changes)
    conn.execute(
        t.held_changes.delete().where(
            t.held_changes.c.entity == "order",
            t.held_changes.c.entity_id.in_([r.entity_id for r in ready]),
        )
    )
    return len(ready)


def _delete_ids(conn: Connection, table: Any, column: Any, ids: list[int]) -> None:
    for start in range(0, len(ids), 900):
        conn.execute(delete(table).where(column.in_(ids[start : start + 900])))


def _apply_orders(conn: Connection, changes: Sequence[Change]) -> None:
    ids = [c.entity_id for c in changes]
    _delete_ids(conn, t.orders, t.orders.c.id, ids)
    rows = [order_row(OrderSnapshot.model_validate(c.data)) for c in changes if c.data]
    if rows:
        conn.execute(insert(t.orders), rows)


def order_row(order: OrderSnapshot) -> dict[str, Any]:
    """The replica row of an order snapshot."""
    lease = order.lease
    return {
        "id": order.id,
        "number_key": order.number.strip().upper(),
        "tote_key": order.tote.strip().upper() if order.tote else None,
        "status": order.status,
        "batch_id": order.batch_id,
        "version": order.version,
        "lease_epoch": lease.epoch if lease else None,
        "lease_station_id": lease.station_id if lease else None,
        "lease_expires_at": iso(lease.expires_at) if lease else None,
        "data": order.model_dump_json(),
    }


def _apply_products(conn: Connection, changes: Sequence[Change]) -> None:
    ids = [c.entity_id for c in changes]
    _delete_ids(conn, t.products, t.products.c.id, ids)
    _delete_ids(conn, t.product_gtins, t.product_gtins.c.product_id, ids)
    _delete_ids(conn, t.product_aliases, t.product_aliases.c.product_id, ids)
    products = [ProductSnapshot.model_validate(c.data) for c in changes if c.data]
    if not products:
        return
    conn.execute(
        insert(t.products),
        [
            {"id": p.id, "sku_key": p.sku.strip().upper(), "data": p.model_dump_json()}
            for p in products
        ],
    )
    gtins = {g: p.id for p in products for g in p.gtins}
    if gtins:
        # A GTIN moved between products replaces the old owner's row.
        conn.execute(
            insert(t.product_gtins).prefix_with("OR REPLACE"),
            [{"gtin14": g, "product_id": pid} for g, pid in gtins.items()],
        )
    aliases = {a.strip().upper(): p.id for p in products for a in p.aliases}
    if aliases:
        conn.execute(
            insert(t.product_aliases).prefix_with("OR REPLACE"),
            [{"code_key": a, "product_id": pid} for a, pid in aliases.items()],
        )


def _apply_users(conn: Connection, changes: Sequence[Change]) -> None:
    _delete_ids(conn, t.users, t.users.c.id, [c.entity_id for c in changes])
    users = [UserSnapshot.model_validate(c.data) for c in changes if c.data]
    if users:
        conn.execute(
            insert(t.users),
            [{"id": u.id, "badge": u.badge.strip(), "data": u.model_dump_json()} for u in users],
        )


def _apply_batches(conn: Connection, changes: Sequence[Change]) -> None:
    _delete_ids(conn, t.batches, t.batches.c.id, [c.entity_id for c in changes])
    batches = [BatchSnapshot.model_validate(c.data) for c in changes if c.data]
    if batches:
        conn.execute(
            insert(t.batches),
            [
                {"id": b.id, "station_id": b.station_id, "data": b.model_dump_json()}
                for b in batches
            ],
        )


def _apply_labels(conn: Connection, changes: Sequence[Change]) -> None:
    _delete_ids(conn, t.labels, t.labels.c.id, [c.entity_id for c in changes])
    labels = [LabelSnapshot.model_validate(c.data) for c in changes if c.data]
    if labels:
        conn.execute(
            insert(t.labels),
            [
                {
                    "id": x.id,
                    "order_id": x.order_id,
                    "parcel_no": x.parcel_no,
                    "data": x.model_dump_json(),
                }
                for x in labels
            ],
        )


def _apply_weight_profiles(conn: Connection, changes: Sequence[Change]) -> None:
    _delete_ids(conn, t.weight_profiles, t.weight_profiles.c.id, [c.entity_id for c in changes])
    profiles = [WeightProfileSnapshot.model_validate(c.data) for c in changes if c.data]
    if profiles:
        # A key is one contents set: a row under another id (a re-created profile) gives way.
        conn.execute(
            insert(t.weight_profiles).prefix_with("OR REPLACE"),
            [
                {"id": p.id, "contents_key": p.contents_key, "data": p.model_dump_json()}
                for p in profiles
            ],
        )


_APPLIERS = {
    "order": _apply_orders,
    "product": _apply_products,
    "user": _apply_users,
    "batch": _apply_batches,
    "label": _apply_labels,
    "weight_profile": _apply_weight_profiles,
}


def clear_server_rows(conn: Connection) -> set[int]:
    """Before a snapshot: drop every server-owned row except orders with pending work.

    Returns the ids of the orders kept (their snapshot versions will be held).
    """
    busy = set(conn.scalars(select(t.outbox.c.order_id).where(t.outbox.c.order_id.is_not(None))))
    kept = (
        set(conn.scalars(select(t.orders.c.id).where(t.orders.c.id.in_(busy)))) if busy else set()
    )
    conn.execute(delete(t.orders).where(t.orders.c.id.not_in(kept)))
    server_tables = (
        t.products,
        t.product_gtins,
        t.product_aliases,
        t.users,
        t.batches,
        t.labels,
        t.weight_profiles,
    )
    for table in server_tables:
        conn.execute(delete(table))
    conn.execute(delete(t.held_changes))
    return kept


# The replica table of each entity a snapshot brings (all keyed by `id`).
SNAPSHOT_TABLES = {
    "order": t.orders,
    "product": t.products,
    "user": t.users,
    "batch": t.batches,
    "label": t.labels,
    "weight_profile": t.weight_profiles,
}


def drop_unseen(conn: Connection, seen: dict[str, set[int]], seq: int) -> int:
    """After a paged snapshot: remove what none of its pages listed (it left the view).

    Done as tombstones through `apply_changes`, so an order with pending work keeps its row
    and the removal is held until the outbox is acknowledged. Returns how many were held.
    """
    tombstones: list[Change] = []
    for entity, table in SNAPSHOT_TABLES.items():
        listed = seen.get(entity, set())
        tombstones.extend(
            Change(seq=seq, entity=entity, entity_id=eid)
            for eid in conn.scalars(select(table.c.id))
            if eid not in listed
        )
    return apply_changes(conn, tombstones) if tombstones else 0


def apply_leases(conn: Connection, leases: Sequence[LeaseInfo]) -> int:
    """Write granted leases into the orders they cover; returns how many orders were present.

    A lease is the station's own state, so it is written even when the order has pending work.
    """
    found = 0
    for lease in leases:
        row = conn.execute(select(t.orders.c.data).where(t.orders.c.id == lease.order_id)).first()
        if row is None:
            continue
        found += 1
        order = OrderSnapshot.model_validate_json(row.data).model_copy(update={"lease": lease})
        conn.execute(
            t.orders.update()
            .where(t.orders.c.id == lease.order_id)
            .values(
                lease_epoch=lease.epoch,
                lease_station_id=lease.station_id,
                lease_expires_at=iso(lease.expires_at),
                data=order.model_dump_json(),
            )
        )
    return found
