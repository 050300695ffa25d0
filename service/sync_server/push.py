"""POST /v1/sync/push: apply a station's queued mutations exactly once, in id order.

The whole push runs in the caller's one transaction: the station row is locked (FOR UPDATE
on PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE) so two pushes of the same
station never interleave; ids at or below `last_mutation_id` are answered from their stored
result; a gap is refused before anything is written; each mutation is all-or-nothing (see
_apply_all). The station row and the stored results are read and written with plain SQL
statements: a push is the service's most frequent request. On PostgreSQL a scan push is four
statements: the station row locked and its counter advanced in one (_lock_and_count), the
orders with their leases, the event, the stored results.
"""

from __future__ import annotations

import logging
from datetime import datetime
from itertools import pairwise

from sqlalchemy import Integer, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from service.db import UTCDateTime, utcnow
from service.errors import Forbidden, IllegalTransition, ServiceError, unknown_station
from service.models import Lease, Order, Station, StationMutation
from service.security import token_hash
from service.sync_server.errors import MutationGapError
from service.sync_server.leases import lock_orders_and_leases
from service.sync_server.mutations import (
    Rejected,
    StationRef,
    apply_mutation,
    check_mutation,
    station_time,
)
from sync.protocol import Mutation, MutationResult, PushRequest, PushResponse, RejectReason

log = logging.getLogger(__name__)

# Answer for an id below the counter whose stored result is gone (results table pruned or
# wiped): it was applied or rejected once, and must never be applied again.
_ALREADY_APPLIED = "This event was already processed by the service."


def check_ids(mutations: list[Mutation], last: int) -> list[Mutation]:
    """The mutations not yet applied, or MutationGapError if the ids do not continue `last`."""
    for a, b in pairwise(m.id for m in mutations):
        if b != a + 1:
            raise MutationGapError(
                last + 1,
                f"Mutation ids in one push must be consecutive; {a} is followed by {b}. "
                f"Resend from {last + 1}.",
            )
    new = [m for m in mutations if m.id > last]
    if new and new[0].id != last + 1:
        raise MutationGapError(
            last + 1,
            f"The service expected mutation {last + 1} next but got {new[0].id}. "
            f"Resend from {last + 1}.",
        )
    return new


def _stored_results(session: Session, station_id: int, ids: list[int]) -> list[MutationResult]:
    if not ids:
        return []
    stored = {
        row.mutation_id: row
        for row in session.scalars(
            select(StationMutation).where(
                StationMutation.station_id == station_id, StationMutation.mutation_id.in_(ids)
            )
        )
    }
    results = []
    for mid in ids:
        row = stored.get(mid)
        if row is None:
            results.append(
                MutationResult(
                    id=mid, status="applied", message=_ALREADY_APPLIED, result={"replayed": True}
                )
            )
        else:
            results.append(
                MutationResult(
                    id=mid,
                    status="applied" if row.status == "applied" else "rejected",
                    reason=row.reason,
                    message=row.message,
                    result=dict(row.result or {}),
                )
            )
    return results


def _rejection(mutation: Mutation, exc: Exception) -> MutationResult:
    """The stored answer for a mutation refused with `exc`."""
    if isinstance(exc, Rejected):
        return MutationResult(
            id=mutation.id,
            status="rejected",
            reason=str(exc.reason),
            message=exc.message,
            result=exc.result,
        )
    if isinstance(exc, IllegalTransition):
        return MutationResult(
            id=mutation.id,
            status="rejected",
            reason=RejectReason.ILLEGAL_TRANSITION.value,
            message=exc.message,
        )
    assert isinstance(exc, ServiceError)
    return MutationResult(id=mutation.id, status="rejected", reason=exc.code, message=exc.message)


_REFUSALS = (Rejected, IllegalTransition, ServiceError)


def _apply_one(
    session: Session,
    station: StationRef,
    mutation: Mutation,
    orders: dict[int, Order],
    leases: dict[int, Lease],
) -> MutationResult:
    """Apply one mutation in a SAVEPOINT; a rejection rolls back exactly its own writes."""
    try:
        with session.begin_nested():
            result = apply_mutation(session, station, mutation, orders, leases)
    except _REFUSALS as exc:
        return _rejection(mutation, exc)
    return MutationResult(id=mutation.id, status="applied", result=result)


class RedoCarefully(Exception):
    """A handler refused a mutation after it had begun writing: roll the transaction back
    and call push() again with careful=True."""


def _apply_all(
    session: Session,
    station: StationRef,
    mutations: list[Mutation],
    orders: dict[int, Order],
    leases: dict[int, Lease],
    *,
    careful: bool,
) -> list[MutationResult]:
    """Apply `mutations` in order, each all-or-nothing.

    A savepoint per mutation costs two round trips and a flush each (most of a large push's
    time), yet almost every refusal comes from a check that writes nothing (type, payload,
    order, lease). So a push first runs without savepoints, refusing on those checks alone;
    if a handler refuses after it began writing, RedoCarefully makes the caller roll the
    whole transaction back and run the push again with a savepoint per mutation.
    """
    if careful:
        return [_apply_one(session, station, m, orders, leases) for m in mutations]
    results = []
    for mutation in mutations:
        try:
            checked = check_mutation(session, station, mutation, orders, leases)
        except Rejected as exc:
            results.append(_rejection(mutation, exc))
            continue
        try:
            result = checked.apply()
        except _REFUSALS as exc:
            log.info("push redone with a savepoint per mutation", extra={"station": station.id})
            raise RedoCarefully from exc
        results.append(MutationResult(id=mutation.id, status="applied", result=result))
    return results


def lock_station(session: Session, token: str) -> StationRef:
    """The station with this token, its row locked for the rest of the transaction (401 if
    no station has it)."""
    row = (
        session.connection()
        .execute(
            select(Station.id, Station.last_mutation_id)
            .where(Station.token_hash == token_hash(token))
            .with_for_update()
        )
        .first()
    )
    if row is None:
        raise unknown_station()
    return StationRef(row.id, row.last_mutation_id)


# _lock_and_count's statement, written once: built with select().cte() and update() on
# every push, its construction and cache-key walk were ~8 % of a worker's CPU under load.
_LOCK_AND_COUNT = text(
    "WITH old AS (SELECT id, last_mutation_id FROM stations WHERE token_hash = :token_hash"
    " FOR UPDATE) UPDATE stations SET last_mutation_id = greatest(old.last_mutation_id,"
    " :pushed), last_seen_at = :now, last_sync_at = :now FROM old"
    " WHERE stations.id = old.id RETURNING old.id, old.last_mutation_id"
).bindparams(bindparam("pushed", type_=Integer()), bindparam("now", type_=UTCDateTime()))
assert Station.__tablename__ == "stations"


# The stored results' INSERT, built once (building it and walking its cache key on every
# push cost ~2 % of the push's instructions, bench/push_cost.py).
_INSERT_RESULTS = insert(StationMutation).inline()


def _lock_and_count(
    session: Session, token: str, request: PushRequest, now: datetime
) -> StationRef | None:
    """On PostgreSQL: lock the station row and advance its counter in one statement, before
    the push is checked; the row as it was (None: no station has this token).

    The counter becomes max(stored, highest id pushed), which is what a push that passes its
    checks leaves there; one that fails them raises, and the caller's transaction (this
    write with it) rolls back. Saves the round trip of a separate UPDATE at the end.
    """
    pushed = max((m.id for m in request.mutations), default=0)
    row = (
        session.connection()
        .execute(_LOCK_AND_COUNT, {"token_hash": token_hash(token), "pushed": pushed, "now": now})
        .first()
    )
    return None if row is None else StationRef(row.id, row.last_mutation_id)


def push(
    session: Session, token: str, request: PushRequest, *, careful: bool = False
) -> PushResponse:
    """Apply `request` for the station with `token` (401 if none), in the caller's
    transaction, which then holds that station's row. May raise RedoCarefully: roll back and
    call again with careful=True (see _apply_all)."""
    now = utcnow()
    counted = session.get_bind().dialect.name == "postgresql"
    if counted:
        found = _lock_and_count(session, token, request, now)
        if found is None:
            raise unknown_station()
        station = found
    else:  # SQLite: RETURNING cannot name the CTE's columns; BEGIN IMMEDIATE serialises
        station = lock_station(session, token)
    if request.station_id != station.id:
        raise Forbidden(
            f"This token belongs to station {station.id}, not station {request.station_id}."
        )
    last = station.last_mutation_id
    new = check_ids(list(request.mutations), last)
    old_ids = [m.id for m in request.mutations if m.id <= last]
    results = _stored_results(session, station.id, old_ids)
    if old_ids:
        log.info(
            "push replay",
            extra={"station": station.id, "first": old_ids[0], "last": old_ids[-1]},
        )
    # Lock every order this push touches up front, in id order, so claims and other pushes
    # that lock the same orders can never deadlock with us.
    # Not merged with the station's statement above (its CTE, then the orders in a LATERAL
    # subquery, one round trip less): tried on 7 Dec 2026, it saved ~70,000 instructions a
    # push, but the orders and leases then had to be loaded as aliased() entities over that
    # subquery, and under concurrent first pushes in a fresh process SQLAlchemy 2.0.59
    # sometimes could not find their columns in the row (NoSuchColumnError, a 500;
    # tests/integration/sync/test_push_burst.py caught it with the CPU busy).
    orders, leases = lock_orders_and_leases(
        session, (m.order_id for m in new if m.order_id is not None)
    )
    stored = []
    for mutation, outcome in zip(
        new, _apply_all(session, station, new, orders, leases, careful=careful), strict=True
    ):
        stored.append(
            {
                "station_id": station.id,
                "mutation_id": mutation.id,
                "type": mutation.type[:40],
                "order_id": mutation.order_id,
                "status": outcome.status,
                "reason": outcome.reason,
                "message": outcome.message,
                "result": outcome.result,
                "payload": mutation.payload,
                "at": station_time(mutation),
                "applied_at": now,
            }
        )
        if outcome.status == "rejected":
            log.info(
                "mutation rejected",
                extra={
                    "station": station.id,
                    "mutation": mutation.id,
                    "order": mutation.order_id,
                    "reason": outcome.reason,
                },
            )
        results.append(outcome)
    session.flush()  # the mutations' own writes first, as the stored results describe them
    conn = session.connection()
    if stored:
        conn.execute(_INSERT_RESULTS, stored)
    last_applied = new[-1].id if new else last
    if not counted:
        conn.execute(
            update(Station)
            .where(Station.id == station.id)
            .values(last_mutation_id=last_applied, last_seen_at=now, last_sync_at=now)
        )
    return PushResponse(results=results, last_mutation_id=last_applied)
