"""A carrier that failed becomes an exception a person looks at, with the carrier's words."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.carriers.base import CarrierError
from service.lifecycle import record_event
from service.models import Order, OrderException

log = logging.getLogger(__name__)


def record_carrier_error(
    session: Session, order: Order, error: CarrierError, *, actor: str, **details: Any
) -> OrderException:
    """Open (or refresh) the order's `carrier` exception and log an order event.

    The code names what a person fixes (`carrier_pickup_point_closed`) when the adapter
    knows it, else the kind of failure (`carrier_rejected`, `carrier_timeout`).
    """
    code = f"carrier_{error.reason or error.kind}"
    body = {"carrier": error.carrier, "status": error.status, "kind": error.kind, **details}
    record_event(
        session,
        order,
        "carrier_error",
        actor=actor,
        payload={"code": code, **body, "message": error.message},
    )
    log.warning(
        "carrier error",
        extra={
            "order": order.id,
            "carrier": error.carrier,
            "kind": error.kind,
            "carrier_message": error.message,
        },
    )
    existing = session.scalar(
        select(OrderException).where(
            OrderException.order_id == order.id,
            OrderException.kind == "carrier",
            OrderException.code == code,
            OrderException.resolved_at.is_(None),
        )
    )
    if existing is not None:
        existing.message = error.message
        existing.details = body
        return existing
    exc = OrderException(
        order_id=order.id, kind="carrier", code=code, message=error.message, details=body
    )
    session.add(exc)
    return exc
