"""Claims and leases: which station may pack an order, fenced by a growing epoch.

Race safety: every grant locks the order rows first (SELECT ... FOR UPDATE on PostgreSQL,
always in id order so two batch claims cannot deadlock; SQLite writers are serialised by
BEGIN IMMEDIATE), then reads the lease rows, so two stations claiming the same order one
after the other always see each other's grant.

Epoch rule: `orders.lease_epoch` grows on every new grant (a first grant, a grant after a
release, or a grant to a different station). A station renewing its own unreleased lease —
expired or not — keeps the epoch: nobody else held the order in between, so the events it
packed offline under that epoch stay valid.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, any_, bindparam, select
from sqlalchemy.orm import Session, lazyload

from service.changes import mark_changed
from service.db import utcnow
from service.errors import NotFound, ValidationFailed
from service.lifecycle import PACKABLE, OrderStatus, record_event
from service.models import Batch, Lease, Order, OrderEvent, Station
from service.models.sync import Claim
from service.shipping.labels import prepare_labels
from service.sync_server.errors import ClaimRefusedError
from sync.protocol import ClaimRequest, ClaimResponse, LeaseInfo

log = logging.getLogger(__name__)

LEASE_MINUTES_ENV = "PACKBENCH_LEASE_MINUTES"
DEFAULT_LEASE = timedelta(minutes=30)


def lease_duration() -> timedelta:
    """How long a grant lasts: PACKBENCH_LEASE_MINUTES, else 30 minutes."""
    raw = os.environ.get(LEASE_MINUTES_ENV, "").strip()
    if not raw:
        return DEFAULT_LEASE
    try:
        minutes = float(raw)
    except ValueError:
        log.warning("ignoring %s=%r: not a number of minutes", LEASE_MINUTES_ENV, raw)
        return DEFAULT_LEASE
    return timedelta(minutes=minutes) if minutes > 0 else DEFAULT_LEASE


def lock_orders(session: Session, order_ids: Iterable[int]) -> dict[int, Order]:
    """Load and lock the given orders in id order (no eager joins: FOR UPDATE OF orders)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(Order)
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .options(lazyload(Order.lines), lazyload(Order.channel))
        .with_for_update(of=Order)
    ).all()
    return {o.id: o for o in rows}


# lock_orders_and_leases's statements, built once (every push runs one; building it took
# ~0.1 ms of the worker's CPU each time). One order (almost every push) is looked up by
# `orders.id = :order_id`. Several go, on PostgreSQL, as one array parameter (`= ANY(:ids)`;
# an expanding IN is rewritten into one placeholder per id on every execution); SQLite has
# no arrays. The one-order form is not just `ANY` of one: PostgreSQL's plan cache never
# settles on a generic plan for `= ANY($1)` (it cannot tell how many ids will come), so it
# planned that 47-column join afresh on every execution, 0.09 ms of its CPU per push,
# against 0.01 ms with the equality (the server's log of statement durations).
def _orders_and_leases(ids: ColumnElement[bool]) -> Select[tuple[Order, Lease]]:
    """Orders matching `ids` with their lease rows (outer-joined), in id order, the orders
    locked FOR UPDATE."""
    return (
        select(Order, Lease)
        .outerjoin(Lease, Lease.order_id == Order.id)
        .where(ids)
        .order_by(Order.id)
        .options(lazyload(Order.lines), lazyload(Order.channel))
        .with_for_update(of=Order)
    )


_ORDERS_AND_LEASES = _orders_and_leases(Order.id.in_(bindparam("ids", expanding=True)))
_ORDERS_AND_LEASES_PG = _orders_and_leases(Order.id == any_(bindparam("ids", type_=ARRAY(Integer))))
_ONE_ORDER_AND_LEASE = _orders_and_leases(Order.id == bindparam("ids", type_=Integer()))


def lock_orders_and_leases(
    session: Session, order_ids: Iterable[int]
) -> tuple[dict[int, Order], dict[int, Lease]]:
    """lock_orders and leases_of in one statement (one round trip instead of two): each
    order with its lease row, if any, outer-joined; only the orders are locked."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}, {}
    if len(ids) == 1:
        rows = session.execute(_ONE_ORDER_AND_LEASE, {"ids": ids[0]}).all()
    else:
        pg = session.get_bind().dialect.name == "postgresql"
        statement = _ORDERS_AND_LEASES_PG if pg else _ORDERS_AND_LEASES
        rows = session.execute(statement, {"ids": ids}).all()
    orders = {order.id: order for order, _lease in rows}
    return orders, {lease.order_id: lease for _order, lease in rows if lease is not None}


def leases_of(session: Session, order_ids: Iterable[int]) -> dict[int, Lease]:
    """The lease row (current or last) of each order that ever had one."""
    ids = list(set(order_ids))
    if not ids:
        return {}
    return {
        lease.order_id: lease
        for lease in session.scalars(select(Lease).where(Lease.order_id.in_(ids)))
    }


def station_names(session: Session, station_ids: Iterable[int]) -> dict[int, str]:
    """Station id -> name for the given ids."""
    ids = list(set(station_ids))
    if not ids:
        return {}
    return dict(
        session.execute(select(Station.id, Station.name).where(Station.id.in_(ids))).tuples().all()
    )


def lease_info(lease: Lease, station_name: str) -> LeaseInfo:
    """The wire form of a lease."""
    return LeaseInfo(
        order_id=lease.order_id,
        station_id=lease.station_id,
        station_name=station_name,
        epoch=lease.epoch,
        expires_at=lease.expires_at,
    )


def is_held(lease: Lease | None, now: datetime) -> bool:
    """Whether the lease still keeps other stations away (unreleased and unexpired)."""
    return lease is not None and lease.released_at is None and lease.expires_at > now


@dataclass(frozen=True)
class _Refusal:
    error: str
    code: str  # sync.protocol.CLAIM_MESSAGES
    params: dict[str, str]
    station_name: str | None = None
    claimed_at: datetime | None = None


def _why_not_packable(session: Session, order: Order) -> _Refusal:
    """'it is cancelled (cancelled at the shop)': the status plus the reason last recorded."""
    reason = session.scalar(
        select(OrderEvent.payload)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == order.status)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    text = ""
    if isinstance(reason, dict):
        text = str(reason.get("reason") or "")
    if not text and order.hold_reasons:
        text = "; ".join(str(r.get("message") or r.get("code") or "") for r in order.hold_reasons)
    params = {"order": order.number, "status": order.status}
    if text:
        return _Refusal("order_not_claimable", "order_not_packable_why", params | {"why": text})
    return _Refusal("order_not_claimable", "order_not_packable", params)


def _refusal(
    session: Session,
    order: Order,
    lease: Lease | None,
    station_id: int,
    now: datetime,
    owned: bool = False,
) -> _Refusal | None:
    if OrderStatus(order.status) not in PACKABLE:
        return _why_not_packable(session, order)
    # A station whose batch the order is in takes it over: a supervisor assigned it there, and
    # the old holder's events are refused from then on (batch ownership, mutations.py).
    if lease is not None and is_held(lease, now) and lease.station_id != station_id and not owned:
        name = station_names(session, [lease.station_id]).get(lease.station_id, "?")
        return _Refusal(
            "claimed_by_other",
            "order_held_elsewhere",
            {
                "order": order.number,
                "station": name,
                "since": f"{lease.granted_at:%H:%M}",
                "until": f"{lease.expires_at:%H:%M}",
            },
            station_name=name,
            claimed_at=lease.granted_at,
        )
    return None


def _grant(
    session: Session,
    order: Order,
    lease: Lease | None,
    station: Station,
    claim: Claim,
    now: datetime,
    duration: timedelta,
) -> Lease:
    actor = f"station:{station.id}"
    renewal = lease is not None and lease.station_id == station.id and lease.released_at is None
    if lease is None:
        order.lease_epoch = (order.lease_epoch or 0) + 1
        lease = Lease(order_id=order.id, station_id=station.id, epoch=order.lease_epoch)
        session.add(lease)
    elif not renewal:
        previous = lease.station_id
        order.lease_epoch = max(order.lease_epoch or 0, lease.epoch) + 1
        lease.epoch = order.lease_epoch
        if previous != station.id:
            # The previous holder must learn it lost the order (new snapshot or tombstone).
            mark_changed(session, "order", order.id, station_id=previous)
    assert lease is not None
    lease.station_id = station.id
    lease.claim_id = claim.id
    lease.batch_id = order.batch_id
    if not renewal:
        lease.granted_at = now
    lease.expires_at = now + duration
    lease.released_at = None
    order.version = (order.version or 1) + 1  # the lease is part of the order snapshot
    record_event(
        session,
        order,
        "lease_renewed" if renewal else "lease_granted",
        actor=actor,
        payload={
            "epoch": lease.epoch,
            "claim_id": claim.id,
            "expires_at": lease.expires_at.isoformat(),
        },
        station_id=station.id,
    )
    mark_changed(session, "order", order.id)
    return lease


def batch_owner(session: Session, order: Order) -> int | None:
    """The station the order's batch is assigned to (None: unbatched or unassigned)."""
    if order.batch_id is None:
        return None
    return session.scalar(select(Batch.station_id).where(Batch.id == order.batch_id))


def _refuse_other_stations_batch(session: Session, order: Order, station: Station) -> None:
    owner = batch_owner(session, order)
    if owner is not None and owner != station.id:
        other = station_names(session, [owner]).get(owner, "?")
        raise ClaimRefusedError(
            "claimed_by_other",
            "order_in_other_batch",
            {"order": order.number, "station": other},
            station_name=other,
        )


def claim_orders(
    session: Session, station: Station, request: ClaimRequest, duration: timedelta | None = None
) -> ClaimResponse:
    """Grant (or renew) leases on one order or on every claimable order of a batch."""
    if (request.order_id is None) == (request.batch_id is None):
        raise ValidationFailed("Claim exactly one of order_id or batch_id.", field="order_id")
    duration = duration or lease_duration()
    now = utcnow()
    if request.batch_id is not None:
        batch = session.get(Batch, request.batch_id)
        if batch is None:
            raise ClaimRefusedError(
                "unknown_order", "batch_unknown", {"batch": str(request.batch_id)}, http_status=404
            )
        if batch.station_id is not None and batch.station_id != station.id:
            other = station_names(session, [batch.station_id]).get(batch.station_id, "?")
            raise ClaimRefusedError(
                "claimed_by_other",
                "batch_elsewhere",
                {"batch": batch.code, "station": other},
                station_name=other,
            )
        ids = list(session.scalars(select(Order.id).where(Order.batch_id == batch.id)))
        owned = batch.station_id == station.id
    else:
        assert request.order_id is not None
        ids = [request.order_id]
        owned = False
    orders = lock_orders(session, ids)
    if request.order_id is not None and request.order_id not in orders:
        raise ClaimRefusedError(
            "unknown_order", "order_unknown", {"order": str(request.order_id)}, http_status=404
        )
    if request.order_id is not None:
        single = orders[request.order_id]
        _refuse_other_stations_batch(session, single, station)
        owned = batch_owner(session, single) == station.id
    leases = leases_of(session, orders)
    grantable: list[Order] = []
    refusals: list[_Refusal] = []
    for order in orders.values():
        refusal = _refusal(session, order, leases.get(order.id), station.id, now, owned)
        if refusal is None:
            grantable.append(order)
        else:
            refusals.append(refusal)
    if not grantable:
        if request.order_id is not None or not refusals:
            first = refusals[0] if refusals else _Refusal("order_not_claimable", "batch_empty", {})
        else:
            held = [r for r in refusals if r.error == "claimed_by_other"]
            first = held[0] if held else refusals[0]
        raise ClaimRefusedError(
            first.error,
            first.code,
            first.params,
            station_name=first.station_name,
            claimed_at=first.claimed_at,
        )
    claim = Claim(
        station_id=station.id, order_id=request.order_id, batch_id=request.batch_id, created_at=now
    )
    session.add(claim)
    session.flush()
    granted = [
        _grant(session, order, leases.get(order.id), station, claim, now, duration)
        for order in grantable
    ]
    session.flush()
    # Labels ahead of packing, so the station can print offline (carrier errors -> exceptions).
    prepare_labels(session, [lease.order_id for lease in granted], actor=f"station:{station.id}")
    log.info(
        "claim granted",
        extra={"station": station.id, "claim": claim.id, "orders": len(granted)},
    )
    return ClaimResponse(
        claim_id=claim.id, leases=[lease_info(lease, station.name) for lease in granted]
    )


def release_lease(
    session: Session, order: Order, lease: Lease, *, actor: str, station_id: int, why: str
) -> None:
    """End a lease (packed, released by the station, or its claim deleted)."""
    if lease.released_at is not None:
        return
    lease.released_at = utcnow()
    order.version = (order.version or 1) + 1
    record_event(
        session,
        order,
        "lease_released",
        actor=actor,
        payload={"epoch": lease.epoch, "why": why},
        station_id=station_id,
    )
    mark_changed(session, "order", order.id)
    # Targeted row: the holder learns the order left its view even if nothing else marks it.
    mark_changed(session, "order", order.id, station_id=lease.station_id)


def release_claim(session: Session, station: Station, claim_id: int) -> list[int]:
    """Release every lease the station still holds under `claim_id`; returns the order ids."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.station_id != station.id:
        raise NotFound(f"Claim {claim_id} is not a claim of station {station.name}.")
    order_ids = list(
        session.scalars(
            select(Lease.order_id).where(
                Lease.claim_id == claim_id,
                Lease.station_id == station.id,
                Lease.released_at.is_(None),
            )
        )
    )
    orders = lock_orders(session, order_ids)
    leases = leases_of(session, orders)
    released: list[int] = []
    for oid, order in orders.items():
        lease = leases.get(oid)
        # Re-check under the lock: another claim may have taken or renewed it meanwhile.
        if lease is None or lease.station_id != station.id or lease.claim_id != claim_id:
            continue
        release_lease(
            session,
            order,
            lease,
            actor=f"station:{station.id}",
            station_id=station.id,
            why="claim_deleted",
        )
        released.append(oid)
    claim.released_at = utcnow()
    return released
