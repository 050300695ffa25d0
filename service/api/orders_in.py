"""POST /v1/orders: an operator enters a phone, email or B2B order (bearer token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import DbSession, Operator
from service.ingest.errors import ChannelNotFound, from_validation_error
from service.ingest.operator import KIND, OperatorOrderIn, to_normalised
from service.ingest.store import run_in_transaction, upsert_order
from service.models import Channel

router = APIRouter(prefix="/v1", tags=["orders"])


@router.post("/orders", status_code=201)
def create_order(
    body: OperatorOrderIn, token: Operator, session: DbSession, response: Response
) -> dict[str, Any]:
    """Create (201) or, for a `reference` already entered, update (200) an operator order."""
    actor = f"operator:{token.id}"
    # The token lookup opened a transaction; end it so the write below is one clean unit
    # (on SQLite every transaction holds the write lock).
    session.commit()

    def work(s: Session) -> dict[str, Any]:
        channel = s.scalar(
            select(Channel).where(Channel.kind == KIND, Channel.name == body.channel)
        )
        if channel is None:
            raise ChannelNotFound(f"No operator channel named {body.channel!r}.", field="channel")
        try:
            order = to_normalised(body, channel.settings or {})
        except ValidationError as exc:  # e.g. more lines than PACKBENCH_MAX_ORDER_LINES
            raise from_validation_error(exc) from exc
        result = upsert_order(s, channel, order, actor=actor)
        return result.as_json()

    result = run_in_transaction(session, work)
    if result["status"] != "created":
        response.status_code = 200
    return result
