"""Supervisor API for the station app: shift overview, exception actions, batch preparation.

Auth: the station's token (CurrentStation) *and* the id of the supervisor logged in at that
station, in the `X-Packbench-Supervisor` header; the user must be an active supervisor
allowed at that station. Actions record that user as the actor, with the station and the
reason. Batch preparation reuses service.batching, as the operator API does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, raiseload

from service.api.deps import CurrentStation, DbSession
from service.api.operator import BatchOut, BatchRuleIn, _batches_out
from service.batching import BatchRule, assign_batch, create_batches
from service.db import utcnow
from service.errors import Forbidden, Unauthorized
from service.lifecycle import OrderStatus
from service.models import Order, OrderLine, User
from service.supervisor import actions
from service.supervisor.figures import overview as compute_overview
from service.supervisor.schemas import (
    ActionIn,
    ActionOut,
    AssignIn,
    CandidateOrder,
    Overview,
    ReassignIn,
)

router = APIRouter(prefix="/v1/supervisor", tags=["supervisor"])
SUPERVISOR_HEADER = "X-Packbench-Supervisor"


def current_supervisor(
    station: CurrentStation,
    session: DbSession,
    x_packbench_supervisor: Annotated[str | None, Header()] = None,
) -> actions.Supervisor:
    """The supervisor acting at the calling station, or 401/403 saying why."""
    raw = (x_packbench_supervisor or "").strip()
    if not raw.isdigit():
        raise Unauthorized(f"Send the logged-in supervisor's user id in {SUPERVISOR_HEADER}.")
    user = session.get(User, int(raw))
    if user is None or not user.active:
        raise Forbidden("That user is unknown or no longer active.")
    if user.role != "supervisor":
        raise Forbidden(f"{user.name} is not a supervisor; the supervisor view is refused.")
    if user.station_ids is not None and station.id not in user.station_ids:
        raise Forbidden(f"{user.name} may not work at station {station.name}.")
    return actions.Supervisor(user, station)


Acting = Annotated[actions.Supervisor, Depends(current_supervisor)]


def _fresh(session: Session) -> Session:
    session.commit()  # end the auth lookup's read transaction (SQLite holds its lock)
    return session


@router.get("/overview", response_model=Overview)
def get_overview(
    session: DbSession,
    _who: Acting,
    hours: Annotated[float, Query(gt=0, le=24)] = 8.0,
) -> Response:
    """Batches, packers, stations, exceptions and throughput for the last `hours`."""
    now = utcnow()
    with _fresh(session).begin():
        body = compute_overview(session, now, now - timedelta(hours=hours))
    # Serialised once here: the model is already valid, a second validation pass is waste.
    return Response(body.model_dump_json(), media_type="application/json")


@router.post("/orders/{order_id}/release", response_model=ActionOut)
def post_release(order_id: int, body: ActionIn, session: DbSession, who: Acting) -> ActionOut:
    """Release a held order; 409 with the reason if it changed meanwhile."""
    with _fresh(session).begin():
        return actions.release_order(session, order_id, who, body.reason, body.expected_version)


@router.post("/orders/{order_id}/cancel", response_model=ActionOut)
def post_cancel(order_id: int, body: ActionIn, session: DbSession, who: Acting) -> ActionOut:
    """Cancel an unpacked order; 409 with the reason if it changed meanwhile."""
    with _fresh(session).begin():
        return actions.cancel_order(session, order_id, who, body.reason, body.expected_version)


@router.post("/orders/{order_id}/reassign", response_model=ActionOut)
def post_reassign(order_id: int, body: ReassignIn, session: DbSession, who: Acting) -> ActionOut:
    """Move an unpacked order to another batch; 409 with the reason if it changed."""
    with _fresh(session).begin():
        return actions.reassign_order(
            session, order_id, body.batch_id, who, body.reason, body.expected_version
        )


@router.post("/exceptions/{exception_id}/resolve", response_model=ActionOut)
def post_resolve(exception_id: int, body: ActionIn, session: DbSession, who: Acting) -> ActionOut:
    """Mark an exception resolved, with who and why."""
    with _fresh(session).begin():
        return actions.resolve_exception(session, exception_id, who, body.reason)


@router.post("/rejections/{station_id}/{mutation_id}/resolve", response_model=ActionOut)
def post_resolve_rejection(
    station_id: int, mutation_id: int, body: ActionIn, session: DbSession, who: Acting
) -> ActionOut:
    """Mark a rejected station event looked at, with who and why."""
    with _fresh(session).begin():
        return actions.resolve_rejection(session, station_id, mutation_id, who, body.reason)


@router.get("/candidates", response_model=list[CandidateOrder])
def get_candidates(
    session: DbSession,
    _who: Acting,
    carrier: str | None = None,
    service: str | None = None,
    min_priority: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[CandidateOrder]:
    """Confirmed, unbatched orders (what a new batch could take), most urgent first."""
    sizes = (
        select(
            OrderLine.order_id.label("order_id"),
            func.count().label("n_lines"),
            func.sum(OrderLine.quantity).label("n_items"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )
    query = (
        select(Order, sizes.c.n_lines, sizes.c.n_items)
        .options(raiseload(Order.lines))  # counted above, never loaded
        .outerjoin(sizes, sizes.c.order_id == Order.id)
        .where(Order.status == OrderStatus.CONFIRMED.value, Order.batch_id.is_(None))
    )
    if carrier:
        query = query.where(Order.carrier == carrier)
    if service:
        query = query.where(Order.service == service)
    if min_priority is not None:
        query = query.where(Order.priority >= min_priority)
    query = query.order_by(
        Order.priority.desc(), Order.cutoff_at.is_(None), Order.cutoff_at, Order.id
    ).limit(limit)
    with _fresh(session).begin():
        return [
            CandidateOrder(
                id=o.id,
                number=o.number,
                carrier=o.carrier,
                service=o.service,
                priority=o.priority,
                cutoff_at=o.cutoff_at,
                lines=int(lines or 0),
                items=int(items or 0),
            )
            for o, lines, items in session.execute(query).tuples()
        ]


@router.post("/batches", response_model=list[BatchOut], status_code=201)
def post_batches(body: BatchRuleIn, session: DbSession, who: Acting) -> list[BatchOut]:
    """Batch the confirmed, unbatched orders matching the rule (service.batching)."""
    with _fresh(session).begin():
        batches = create_batches(session, BatchRule(**body.model_dump()), actor=who.actor)
    return _batches_out(session, batches)


@router.post("/batches/{batch_id}/assign", response_model=BatchOut)
def post_assign(batch_id: int, body: AssignIn, session: DbSession, who: Acting) -> BatchOut:
    """Give a batch to a station (service.batching.assign_batch)."""
    with _fresh(session).begin():
        batch = assign_batch(session, batch_id, body.station_id, actor=who.actor)
    return _batches_out(session, [batch])[0]
