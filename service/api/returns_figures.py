"""Supervisor figures for returns and stock (GET /v1/supervisor/returns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import DbSession
from service.api.supervisor import Acting
from service.db import utcnow
from service.returns.figures import ReturnsFigures, figures

router = APIRouter(prefix="/v1/supervisor", tags=["supervisor"])


@router.get("/returns", response_model=ReturnsFigures)
def returns_figures(
    session: DbSession,
    who: Acting,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
    below: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
) -> ReturnsFigures:
    """Returns waiting, dispositions per day, stock below a threshold, oversold orders."""
    return figures(session, utcnow(), days=days, below=below)
