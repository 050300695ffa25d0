"""The console's dead-letter page: jobs that gave up, in plain words, to retry or discard.

Retry and discard go through service.jobs.queue (the functions `/v1/jobs` and the CLI use);
each is written to the office audit log with who, when and (for a discard) why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.db import utcnow
from service.errors import ServiceError
from service.jobs.queue import dismiss, list_jobs, retry
from service.models import Order
from service.office.sessions import SignedIn, audit
from service.web.auth import PREFIX, OperatorAction, Viewer
from service.web.i18n import N_, Np_
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

LIMIT = 200
KIND_WORDS = {
    "publish": N_("Tell the shop the order shipped"),
    "label_void": N_("Cancel a label at the carrier"),
    "tracking_poll": N_("Ask the carriers for tracking news"),
    "stock_publish": N_("Send a product's stock to the shop"),
    "refund": N_("Refund a return in the shop"),
    "return_dispose": N_("Tell Shopify what became of returned units"),
}
# CarrierError kinds (service/carriers/base.py) as a person would say them.
CARRIER_WORDS = {
    "timeout": N_("The carrier %(carrier)s did not answer in time%(status)s."),
    "unavailable": N_(
        "The carrier %(carrier)s was not reachable (its service was down or "
        "refused the connection)%(status)s."
    ),
    "rejected": N_("The carrier %(carrier)s refused the request%(status)s."),
    "config": N_(
        "The carrier %(carrier)s is not set up: check the carrier's account settings "
        "and secrets%(status)s."
    ),
}


def plain_error(text: str | None) -> str:
    """A job's last error as a sentence: "sendcloud: unavailable (HTTP 503)" ->
    "The carrier sendcloud was not reachable (...) (HTTP 503)."; anything else as it is."""
    if not text:
        return N_("No error was recorded (the worker stopped).")
    head, sep, rest = text.partition(": ")
    kind, _, status = rest.partition(" ")
    if sep and kind in CARRIER_WORDS and " " not in head:
        extra = f" {status}" if status else ""
        return N_(CARRIER_WORDS[kind], carrier=head, status=extra)
    if text.startswith("the worker stopped"):
        return N_("The worker stopped during the last attempt (the service restarted or crashed).")
    sentence = text[0].upper() + text[1:]
    return sentence if sentence.endswith(".") else sentence + "."


def _jobs(
    request: Request,
    session: Session,
    who: SignedIn,
    *,
    error: str = "",
    done: str = "",
    status_code: int = 200,
) -> Response:
    session.rollback()  # what is committed now, not what a refused action left behind
    jobs = list_jobs(session, status="dead", limit=LIMIT)
    ids = {j.order_id for j in jobs if j.order_id is not None}
    numbers = dict(
        session.execute(select(Order.id, Order.number).where(Order.id.in_(ids))).tuples().all()
    )
    return page(
        request,
        "jobs.html",
        who,
        status_code=status_code,
        jobs=jobs,
        numbers=numbers,
        kinds=KIND_WORDS,
        plain=plain_error,
        error=error,
        done=done,
    )


@router.get("/jobs")
def jobs_page(request: Request, session: DbSession, who: Viewer) -> Response:
    """Dead jobs, newest first: what, for whom, the last error in words, attempts, when."""
    done = request.query_params.get("done", "")
    words = {
        "retried": N_("Queued again; the worker tries it at once."),
        "discarded": N_("Discarded."),
    }
    count = request.query_params.get("n", "")
    message = words.get(done, "")
    if done == "retried" and count.isdigit() and int(count) != 1:
        message = Np_(
            "%(num)s job queued again; the worker tries it at once.",
            "%(num)s jobs queued again; the worker tries them at once.",
            int(count),
        )
    return _jobs(request, session, who, done=message)


def _retry(session: Session, who: SignedIn, job_ids: list[int], reason: str) -> None:
    now = utcnow()
    for job_id in job_ids:
        job = retry(session, job_id, now=now)
        audit(
            session,
            who,
            "job_retry",
            target=str(job.id),
            reason=reason,
            details={"kind": job.kind, "order_id": job.order_id, "target": job.target},
        )


@router.post("/jobs/{job_id}/retry")
def retry_job(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    job_id: int,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Put one dead job back in the queue, due now, with fresh attempts."""
    try:
        _retry(session, who, [job_id], reason.strip())
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _jobs(request, session, who, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(f"{PREFIX}/jobs?done=retried&n=1", status_code=303)


@router.post("/jobs/retry")
def retry_jobs(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    job: Annotated[list[int] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Retry the ticked jobs together: all of them, or (if one cannot be) none."""
    chosen = sorted(set(job or []))
    if not chosen:
        return _jobs(
            request, session, who, error=N_("Tick the jobs to retry first."), status_code=422
        )
    try:
        _retry(session, who, chosen, reason.strip())
        session.commit()
    except ServiceError as exc:
        session.rollback()
        message = f"{exc.message} No job was retried; reload the page and choose again."
        return _jobs(request, session, who, error=message, status_code=exc.http_status)
    return RedirectResponse(f"{PREFIX}/jobs?done=retried&n={len(chosen)}", status_code=303)


@router.post("/jobs/{job_id}/discard")
def discard_job(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    job_id: int,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Give up on a dead job for good, saying why (a person dealt with it another way)."""
    try:
        job = dismiss(session, job_id, now=utcnow(), by=who.actor, reason=reason)
        audit(
            session,
            who,
            "job_discard",
            target=str(job.id),
            reason=reason.strip(),
            details={"kind": job.kind, "order_id": job.order_id, "target": job.target},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        message = exc.message.replace(" (--reason)", "")
        return _jobs(request, session, who, error=message, status_code=exc.http_status)
    return RedirectResponse(f"{PREFIX}/jobs?done=discarded", status_code=303)
