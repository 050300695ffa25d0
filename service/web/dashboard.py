"""The console's front page: today's orders in and packed per channel, exceptions, cut-offs."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.db import utcnow
from service.lifecycle import PACKABLE, OrderStatus
from service.models import Channel, Order, OrderEvent, OrderException
from service.web.auth import PREFIX, Viewer
from service.web.figures import WINDOWS, duration_words, lead_times, window_start
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

RISK_WINDOW = timedelta(hours=2)  # an unpacked order this close to its cut-off is at risk
NOT_PACKED = sorted(PACKABLE | {OrderStatus.PENDING, OrderStatus.ON_HOLD})


def _per_channel(session: Session, since: datetime) -> list[tuple[str, int, int]]:
    came_in = dict(
        session.execute(
            select(Order.channel_id, func.count())
            .where(Order.created_at >= since)
            .group_by(Order.channel_id)
        )
        .tuples()
        .all()
    )
    packed = dict(
        session.execute(
            select(Order.channel_id, func.count(func.distinct(OrderEvent.order_id)))
            .join(Order, Order.id == OrderEvent.order_id)
            .where(
                OrderEvent.type == "status_changed",
                OrderEvent.to_status == OrderStatus.PACKED.value,
                OrderEvent.at >= since,
            )
            .group_by(Order.channel_id)
        )
        .tuples()
        .all()
    )
    names = session.execute(select(Channel.id, Channel.name).order_by(Channel.name)).tuples()
    return [(name, came_in.get(cid, 0), packed.get(cid, 0)) for cid, name in names]


@router.get("/")
def dashboard(request: Request, session: DbSession, who: Viewer, window: str = "today") -> Response:
    """Orders in and packed today per channel, lead times, open exceptions, cut-off risk."""
    now = utcnow()
    window = window if window in WINDOWS else "today"
    leads = lead_times(session, window_start(window, now), now)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    exceptions = (
        session.execute(
            select(OrderException.kind, func.count())
            .where(OrderException.resolved_at.is_(None))
            .group_by(OrderException.kind)
            .order_by(func.count().desc())
        )
        .tuples()
        .all()
    )
    at_risk = list(
        session.scalars(
            select(Order)
            .where(
                Order.status.in_([s.value for s in NOT_PACKED]),
                Order.cutoff_at.is_not(None),
                Order.cutoff_at <= now + RISK_WINDOW,
            )
            .order_by(Order.cutoff_at, Order.id)
            .limit(50)
        )
    )
    channels = _per_channel(session, today)
    top = max([max(i, p) for _n, i, p in channels] + [1])
    return page(
        request,
        "dashboard.html",
        who,
        now=now,
        channels=channels,
        top=top,
        exceptions=exceptions,
        at_risk=at_risk,
        window=window,
        windows=list(WINDOWS),
        leads=leads,
        words=duration_words,
    )
