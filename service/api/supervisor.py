"""Supervisor API for the station app: shift overview, exception actions, batch preparation.

Auth: the station's token (CurrentStation) *and* a supervisor session from
`POST /v1/supervisor/sessions` (badge + PIN, checked here with a lockout), sent in the
`X-Packbench-Supervisor-Session` header. A session is bound to the station that opened it.
Actions record that supervisor as the actor, with the station and the reason. Batch
preparation reuses service.batching, as the operator API does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, raiseload

from service import pins
from service.api.deps import CurrentStation, DbSession
from service.api.operator import BatchOut, BatchRuleIn, _batches_out
from service.batching import BatchRule, assign_batch, create_batches
from service.db import utcnow
from service.errors import Unauthorized
from service.lifecycle import OrderStatus
from service.models import Order, OrderLine
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
from sync.protocol import (
    SUPERVISOR_SESSION_HEADER,
    ErrorBody,
    SupervisorSessionOut,
    SupervisorSignIn,
)

router = APIRouter(prefix="/v1/supervisor", tags=["supervisor"])


def current_supervisor(
    station: CurrentStation,
    session: DbSession,
    x_packbench_supervisor_session: Annotated[str | None, Header()] = None,
) -> actions.Supervisor:
    """The supervisor signed in at the calling station (a live session), or 401 saying why."""
    token = (x_packbench_supervisor_session or "").strip()
    if not token:
        raise Unauthorized(
            "A supervisor must sign in first: POST /v1/supervisor/sessions with badge and PIN, "
            f"then send the session in {SUPERVISOR_SESSION_HEADER}."
        )
    user = pins.session_user(session, station, token)
    session.commit()  # the renewed expiry
    return actions.Supervisor(user, station)


Acting = Annotated[actions.Supervisor, Depends(current_supervisor)]


def _fresh(session: Session) -> Session:
    session.commit()  # end the auth lookup's read transaction (SQLite holds its lock)
    return session


@router.post(
    "/sessions",
    response_model=SupervisorSessionOut,
    status_code=201,
    responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
def sign_in(body: SupervisorSignIn, station: CurrentStation, session: DbSession) -> Any:
    """A supervisor at this station signs in with badge + PIN; 5 wrong PINs lock it 15 min."""
    with _fresh(session).begin():
        opened = pins.sign_in(session, station, body.badge, body.pin)
    if opened is None:  # committed above: the wrong try counts towards the lockout
        raise Unauthorized(pins.NOT_ACCEPTED)
    return opened


@router.delete("/sessions/current", status_code=204)
def sign_out(
    station: CurrentStation,
    session: DbSession,
    x_packbench_supervisor_session: Annotated[str | None, Header()] = None,
) -> Response:
    """End the supervisor session sent in the header (logging out at the station)."""
    with _fresh(session).begin():
        pins.end_session(session, station, (x_packbench_supervisor_session or "").strip())
    return Response(status_code=204)


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
