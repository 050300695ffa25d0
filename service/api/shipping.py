"""Operator endpoints for shipping: close a carrier's day (manifest), import tracking events."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from service.api.deps import Admin, DbSession, Operator, session_factory
from service.carriers.registry import known_carriers
from service.db import utcnow
from service.errors import NotFound, ValidationFailed
from service.jobs.worker import run_due
from service.models import ApiToken
from service.shipping.dispatch import close_day
from service.shipping.manifest import cod_totals
from service.shipping.publish import enqueue_publications
from service.shipping.tracking import import_csv

router = APIRouter(prefix="/v1", tags=["shipping"])

Sessions = Annotated[sessionmaker[Session], Depends(session_factory)]


def _actor(token: ApiToken) -> str:
    return f"operator:{token.name}" if token.name else f"token:{token.id}"


class ManifestOut(BaseModel):
    manifest_id: str
    carrier: str
    orders: int
    parcels: int
    skipped: dict[str, str]
    # Cash on delivery on this manifest per currency ("RON": "350.05"), never summed across.
    cod_totals: dict[str, str]
    csv: str
    pdf_base64: str


class TrackingImportOut(BaseModel):
    events: int
    duplicates: int
    delivered_orders: int


def publish_all(sessions: sessionmaker[Session], job_ids: list[int]) -> None:
    """First try of the close's publish jobs (after it committed); failures stay queued."""
    if job_ids:
        run_due(sessions, only_ids=job_ids, limit=len(job_ids))


@router.post("/dispatch/{carrier}/close", response_model=ManifestOut)
def close_carrier_day(
    carrier: str,
    session: DbSession,
    sessions: Sessions,
    token: Admin,
    background: BackgroundTasks,
) -> ManifestOut:
    """Ship every packed order of the carrier on one manifest (admin token; CSV + PDF)."""
    if carrier not in known_carriers():
        raise NotFound(f"No carrier {carrier!r}; known: {', '.join(sorted(known_carriers()))}.")
    session.commit()  # end the token lookup's read transaction
    with session.begin():
        manifest = close_day(session, carrier, actor=_actor(token))
        job_ids = enqueue_publications(session, manifest.shipped_order_ids, now=utcnow())
    background.add_task(publish_all, sessions, job_ids)
    return ManifestOut(
        manifest_id=manifest.manifest_id,
        carrier=carrier,
        orders=len(manifest.shipped_order_ids),
        parcels=len(manifest.lines),
        skipped=manifest.skipped,
        cod_totals={currency: str(total) for currency, total in cod_totals(manifest.lines)},
        csv=manifest.csv().decode("utf-8"),
        pdf_base64=base64.b64encode(manifest.pdf()).decode("ascii"),
    )


@router.post("/tracking/import", response_model=TrackingImportOut)
async def import_tracking(request: Request, token: Operator) -> TrackingImportOut:
    """Import a tracking CSV (body, text/csv); a bad file is a 422 naming its lines."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The tracking CSV is not UTF-8.") from None
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        report = import_csv(session, text, actor=_actor(token))
    return TrackingImportOut(**vars(report))
