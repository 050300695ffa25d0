"""Operator endpoints for durable outbound jobs: the dead-letter list, retry, dismiss.

GET  /v1/jobs?status=dead          jobs, newest first (any status; default all)
POST /v1/jobs/{id}/retry           a dead or dismissed job, due at once
POST /v1/jobs/{id}/dismiss         {"reason": "..."}: give up on a dead or pending job
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import DbSession, Operator
from service.db import utcnow
from service.jobs.queue import dismiss, list_jobs, retry
from service.models import ApiToken

router = APIRouter(prefix="/v1", tags=["jobs"])


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    status: str
    order_id: int | None
    target: str
    payload: dict[str, Any]
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    dismissed_by: str | None
    dismissed_reason: str | None


class DismissIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


@router.get("/jobs", response_model=list[JobOut])
def get_jobs(
    session: DbSession,
    _token: Operator,
    status: Annotated[str | None, Query(description="pending|running|done|dead|dismissed")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[JobOut]:
    """Jobs, newest first; `status=dead` is the dead-letter list."""
    return [JobOut.model_validate(j) for j in list_jobs(session, status=status, limit=limit)]


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: int, session: DbSession, _token: Operator) -> JobOut:
    """Queue a dead or dismissed job again (409 for any other state)."""
    job = retry(session, job_id, now=utcnow())
    session.commit()
    return JobOut.model_validate(job)


@router.post("/jobs/{job_id}/dismiss", response_model=JobOut)
def dismiss_job(job_id: int, body: DismissIn, session: DbSession, token: Operator) -> JobOut:
    """Give up on a dead or pending job (409 for any other state)."""
    job = dismiss(session, job_id, now=utcnow(), by=_actor(token), reason=body.reason)
    session.commit()
    return JobOut.model_validate(job)
