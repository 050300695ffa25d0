"""The console's exceptions queue: what a person must look at, oldest first, with links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from service.api.deps import DbSession
from service.errors import ServiceError
from service.ingest import inbox
from service.ingest.tables import FAILED
from service.models import Order, OrderException, OutboundJob
from service.supervisor import actions
from service.web.auth import PREFIX, OperatorAction, Viewer
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

LIMIT = 200


def _queue(
    request: Request,
    session: DbSession,
    who: Viewer,
    kind: str,
    error: str = "",
    status_code: int = 200,
) -> Response:
    session.rollback()
    query = (
        select(OrderException, Order.number, Order.status)
        .join(Order, Order.id == OrderException.order_id)
        .where(OrderException.resolved_at.is_(None))
        .order_by(OrderException.created_at, OrderException.id)
        .limit(LIMIT)
    )
    if kind:
        query = query.where(OrderException.kind == kind)
    rows = session.execute(query).tuples().all()
    kinds = (
        session.execute(
            select(OrderException.kind, func.count())
            .where(OrderException.resolved_at.is_(None))
            .group_by(OrderException.kind)
            .order_by(OrderException.kind)
        )
        .tuples()
        .all()
    )
    dead = session.scalar(
        select(func.count()).select_from(OutboundJob).where(OutboundJob.status == "dead")
    )
    undelivered = sum(inbox.counts(session, (FAILED,)).values())
    return page(
        request,
        "exceptions.html",
        who,
        status_code=status_code,
        rows=rows,
        kinds=kinds,
        kind=kind,
        dead=dead or 0,
        undelivered=undelivered,
        error=error,
        done=request.query_params.get("done") == "1",
    )


@router.get("/exceptions")
def exceptions_page(request: Request, session: DbSession, who: Viewer, kind: str = "") -> Response:
    """Open exceptions, oldest first, optionally of one kind."""
    return _queue(request, session, who, kind[:30])


@router.post("/exceptions/{exception_id}/resolve")
def resolve(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    exception_id: int,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    kind: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Mark an exception dealt with, saying how (recorded on the order's history)."""
    try:
        actions.resolve_exception(session, exception_id, who, reason)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _queue(request, session, who, kind, exc.message, exc.http_status)
    return RedirectResponse(f"{PREFIX}/exceptions?kind={kind}&done=1", status_code=303)
