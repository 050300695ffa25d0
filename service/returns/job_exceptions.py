"""The exception a person sees when a return's outbound job (a refund, a Shopify dispose)
fails for good, and its resolution when a later attempt succeeds. Shared by
`service.returns.refunds` and `service.returns.dispose`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.lifecycle import record_event
from service.models import Order, OrderException, Return
from sync.protocol import exception_words

log = logging.getLogger(__name__)


def resolve_job_exceptions(
    session: Session, order_id: int, code: str, return_code: str, *, actor: str, resolution: str
) -> None:
    """Resolve the order's open `code` exceptions raised for return `return_code`."""
    for open_exc in session.scalars(
        select(OrderException).where(
            OrderException.order_id == order_id,
            OrderException.code == code,
            OrderException.resolved_at.is_(None),
        )
    ):
        if (open_exc.details or {}).get("return") == return_code:
            open_exc.resolved_at = utcnow()
            open_exc.resolved_by = actor
            open_exc.resolution = resolution


def record_job_failed(
    session: Session,
    return_id: int,
    error: str,
    *,
    tries: int,
    actor: str,
    what: str,
    event: str,
    kind: str,
    code: str,
    params: Callable[[Order, Return], dict[str, str]],
) -> None:
    """A return's job failed for good: an order event and an exception a person sees."""
    rma = session.get(Return, return_id)
    if rma is None:
        return
    order = session.get_one(Order, rma.order_id)
    log.warning("%s of %s (order %s) failed: %s", what, rma.code, order.number, error)
    record_event(
        session,
        order,
        event,
        actor=actor,
        payload={"return": rma.code, "error": error[:300], "attempts": tries},
    )
    message, say = exception_words(code, **params(order, rma))
    session.add(
        OrderException(
            order_id=order.id,
            kind=kind,
            code=code,
            message=message,
            details={"return": rma.code, "channel": order.channel.name, "say": say},
        )
    )
