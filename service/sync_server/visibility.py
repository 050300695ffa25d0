"""What a station may see: the one definition used by pull, snapshots and the checksum.

- products: every station;
- users: those allowed on the station (`users.station_ids` null or containing it);
- batches: those assigned to the station;
- orders: those in the station's batches, or under an unreleased lease of the station
  (an expired lease still counts: the station may have packed offline under it) unless
  the order's batch is assigned to another station (batch ownership wins over a lease);
- labels: those of visible orders.

When something leaves a station's view, the code that moves it should also call
`mark_left_station` (the lease code does), so the station gets a tombstone for it. As a net
for paths that do not, the station compares `GET /v1/sync/checksum` and re-snapshots on drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.models import Batch, Lease, Order
from service.sync_server.snapshots import STATION, chunks, ids_param


def mark_left_station(session: Session, entity: str, entity_id: int, station_id: int) -> None:
    """Tell one station that `entity` may have left its view (a targeted change row)."""
    mark_changed(session, entity, entity_id, station_id=station_id)


def mark_batch_reassigned(session: Session, batch_id: int, old_station_id: int) -> None:
    """After moving a batch away from a station: it and its orders leave that station's view."""
    mark_left_station(session, "batch", batch_id, old_station_id)
    for oid in session.scalars(select(Order.id).where(Order.batch_id == batch_id)):
        mark_left_station(session, "order", oid, old_station_id)


# A station's id, or snapshots.STATION in a statement built once.
StationId = int | BindParameter[int]


def held_by(station_id: StationId) -> ColumnElement[bool]:
    """A Lease row's condition for the station's unreleased lease (an expired one counts)."""
    return and_(Lease.station_id == station_id, Lease.released_at.is_(None))


def visible_orders_query(station_id: StationId) -> Select[tuple[int]]:
    """SELECT of the ids of every order the station may see (usable as a subquery)."""
    sub = _visible(station_id).subquery()
    return select(sub.c[0])


def visible_order_versions_query(station_id: StationId) -> Select[tuple[int, int]]:
    """SELECT (id, version) of every order the station may see, read where the ids are (a
    join back to orders by id costs a probe per order: 50,000 at a big site)."""
    sub = _visible(station_id, Order.version).subquery()
    return select(sub.c[0], sub.c[1])


def _visible(station_id: StationId, *columns: Any) -> Any:
    """The station's batches' orders, plus its leased orders that are in no station's
    batch (one in its own batch is counted there, one in another's is not its to see).
    The two parts never overlap and a lease is one row per order, so UNION ALL: no
    de-duplication pass over tens of thousands of rows."""
    in_batches = select(Order.id, *columns).where(
        Order.batch_id.in_(select(Batch.id).where(Batch.station_id == station_id))
    )
    assigned = select(Batch.id).where(Batch.station_id.is_not(None))
    leased = (
        select(Lease.order_id, *columns)
        .join(Order, Order.id == Lease.order_id)
        .where(
            held_by(station_id),
            or_(Order.batch_id.is_(None), Order.batch_id.not_in(assigned)),
        )
    )
    return union_all(in_batches, leased)


def station_batch_ids(session: Session, station_id: int) -> list[int]:
    """Ids of the batches assigned to the station."""
    return list(session.scalars(_STATION_BATCHES, {"station_id": station_id}))


def visible_order_ids(session: Session, station_id: int) -> list[int]:
    """Ids of every order the station may see."""
    return sorted(session.scalars(_VISIBLE_ORDER_IDS, {"station_id": station_id}))


def visible_among(session: Session, station_id: int, order_ids: Iterable[int]) -> set[int]:
    """Which of `order_ids` the station may see."""
    batches = set(station_batch_ids(session, station_id))
    seen: set[int] = set()
    for chunk in chunks(order_ids):
        elsewhere: set[int] = set()
        for oid, bid, owner in session.execute(_BATCH_OWNERS, {"ids": chunk}):
            if bid is not None and bid in batches:
                seen.add(oid)
            elif owner is not None and owner != station_id:
                elsewhere.add(oid)
        held = session.scalars(_HELD_AMONG, {"ids": chunk, "station_id": station_id})
        seen.update(set(held) - elsewhere)
    return seen


def last_holders(session: Session, order_ids: Iterable[int]) -> dict[int, int]:
    """Order id -> station of its current or last lease (whoever may still cache it)."""
    out: dict[int, int] = {}
    for chunk in chunks(order_ids):
        out.update(session.execute(_HOLDERS, {"ids": chunk}).tuples().all())
    return out


# Built once (see snapshots.order_statements).
_STATION_BATCHES = select(Batch.id).where(Batch.station_id == STATION)
_VISIBLE_ORDER_IDS = visible_orders_query(STATION)
_BATCH_OWNERS = (
    select(Order.id, Order.batch_id, Batch.station_id)
    .outerjoin(Batch, Batch.id == Order.batch_id)
    .where(Order.id.in_(ids_param()))
)
_HELD_AMONG = select(Lease.order_id).where(Lease.order_id.in_(ids_param()), held_by(STATION))
_HOLDERS = select(Lease.order_id, Lease.station_id).where(Lease.order_id.in_(ids_param()))
