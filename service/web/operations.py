"""Console pages for the floor: batches, stations, the carriers' day close, catalogue, channels."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.api.deps import DbSession
from service.api.shipping import publish_all
from service.batching import BatchRule, ItemMix, assign_batch, create_batches
from service.carriers.registry import known_carriers
from service.channels import get_channel, set_shipping, shipping_mappings
from service.db import utcnow
from service.errors import NotFound, ServiceError
from service.ingest import inbox
from service.ingest.tables import FAILED, QUEUED
from service.lifecycle import OrderStatus
from service.models import Batch, Channel, OfficeAudit, Order, Product, ProductGtin, Station
from service.office.sessions import SignedIn, audit
from service.shipping.cod import day_totals
from service.shipping.dispatch import close_day as close_carrier_day
from service.shipping.dispatch import order_lines
from service.shipping.manifest import manifest_csv
from service.stations import list_stations, station_id_by_name
from service.web.auth import PREFIX, AdminAction, AdminPage, OperatorAction, Viewer
from service.web.i18n import N_
from service.web.orders import Reason
from service.web.render import page

router = APIRouter(prefix=PREFIX, include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]


def _batches(
    request: Request,
    session: Session,
    who: SignedIn,
    error: str = "",
    status_code: int = 200,
    made: str = "",
) -> Response:
    session.rollback()
    batches = list(session.scalars(select(Batch).order_by(Batch.id.desc()).limit(100)))
    counts = dict(
        session.execute(
            select(Order.batch_id, func.count())
            .where(Order.batch_id.in_([b.id for b in batches]))
            .group_by(Order.batch_id)
        )
        .tuples()
        .all()
    )
    packed = dict(
        session.execute(
            select(Order.batch_id, func.count())
            .where(
                Order.batch_id.in_([b.id for b in batches]),
                Order.status.in_(("packed", "shipped", "delivered", "completed")),
            )
            .group_by(Order.batch_id)
        )
        .tuples()
        .all()
    )
    names = {s.id: s.name for s in list_stations(session)}
    return page(
        request,
        "batches.html",
        who,
        status_code=status_code,
        batches=batches,
        counts=counts,
        packed=packed,
        stations=names,
        carriers=sorted(known_carriers()),
        items=[m.value for m in ItemMix],
        error=error,
        made=made,
    )


@router.get("/batches")
def batches_page(request: Request, session: DbSession, who: Viewer) -> Response:
    """Batches newest first with their progress, and the forms to make and assign them."""
    return _batches(request, session, who, made=request.query_params.get("made", "")[:10])


@router.post("/batches")
def make_batches(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    carrier: Text = "",
    service: Text = "",
    items: Text = "any",
    max_orders: Annotated[int, Form(ge=1, le=500)] = 25,
    limit: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    """Batch the confirmed, unbatched orders that match the rule."""
    try:
        rule = BatchRule(
            carrier=carrier or None,
            service=service or None,
            items=ItemMix(items),
            max_orders=max_orders,
            limit=limit,
        )
        made = create_batches(session, rule, actor=who.actor)
        audit(
            session,
            who,
            "batch_create",
            details={"rule": rule.as_json(), "batches": [b.code for b in made]},
        )
        session.commit()
    except (ServiceError, ValueError) as exc:
        session.rollback()
        message = (
            exc.message
            if isinstance(exc, ServiceError)
            else N_("Unknown item mix %(items)r.", items=items)
        )
        return _batches(request, session, who, message, 422)
    return RedirectResponse(f"{PREFIX}/batches?made={len(made)}", status_code=303)


@router.post("/batches/{batch_id}/assign")
def assign(
    request: Request, session: DbSession, who: OperatorAction, batch_id: int, station: Text
) -> Response:
    """Give a batch to a station by name; the station pulls it on its next sync."""
    try:
        batch = assign_batch(
            session, batch_id, station_id_by_name(session, station), actor=who.actor
        )
        audit(session, who, "batch_assign", target=batch.code, details={"station": station})
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _batches(request, session, who, exc.message, exc.http_status)
    return RedirectResponse(f"{PREFIX}/batches", status_code=303)


@router.get("/stations")
def stations_page(request: Request, session: DbSession, who: Viewer) -> Response:
    """Every station: enrolment, last contact, open batches, and its last heartbeat."""
    beats = dict(session.execute(select(Station.id, Station.heartbeat)).tuples().all())
    return page(request, "stations.html", who, stations=list_stations(session), beats=beats)


def _dispatch(
    request: Request,
    session: Session,
    who: SignedIn,
    error: str = "",
    status_code: int = 200,
    day: date | None = None,
) -> Response:
    session.rollback()
    day = day or utcnow().date()
    packed = dict(
        session.execute(
            select(Order.carrier, func.count())
            .where(Order.status == OrderStatus.PACKED.value)
            .group_by(Order.carrier)
        )
        .tuples()
        .all()
    )
    closes = list(
        session.scalars(
            select(OfficeAudit)
            .where(OfficeAudit.action == "close_day")
            .order_by(OfficeAudit.id.desc())
            .limit(20)
        )
    )
    return page(
        request,
        "dispatch.html",
        who,
        status_code=status_code,
        carriers=sorted(known_carriers()),
        packed=packed,
        closes=closes,
        error=error,
        cod_day=day,
        cod_totals=day_totals(session, day),
    )


@router.get("/dispatch")
def dispatch_page(
    request: Request, session: DbSession, who: AdminPage, day: Annotated[str, Query()] = ""
) -> Response:
    """Packed orders per carrier, the day-close buttons, the manifests made so far and the
    cash on delivery shipped on `day` (YYYY-MM-DD, UTC; today by default) per carrier."""
    if not day:
        return _dispatch(request, session, who)
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        return _dispatch(
            request, session, who, f"{day[:40]!r} is not a date; give it as YYYY-MM-DD.", 422
        )
    return _dispatch(request, session, who, day=chosen)


@router.post("/dispatch/{carrier}/close")
def close_day(
    request: Request,
    session: DbSession,
    who: AdminAction,
    carrier: str,
    background: BackgroundTasks,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Ship every packed order of the carrier on one manifest (admin)."""
    if carrier not in known_carriers():
        return _dispatch(request, session, who, N_("No carrier %(carrier)r.", carrier=carrier), 404)
    try:
        manifest = close_carrier_day(session, carrier, actor=who.actor)
        audit(
            session,
            who,
            "close_day",
            target=manifest.manifest_id,
            reason=reason,
            details={
                "carrier": carrier,
                "order_ids": manifest.shipped_order_ids,
                "parcels": len(manifest.lines),
                "skipped": manifest.skipped,
            },
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _dispatch(request, session, who, exc.message, exc.http_status)
    background.add_task(publish_all, request.app.state.sessions, manifest.shipped_order_ids)
    return RedirectResponse(f"{PREFIX}/dispatch", status_code=303)


@router.get("/manifests/{manifest_id}.csv")
def manifest_file(session: DbSession, who: AdminPage, manifest_id: str) -> Response:
    """A closed day's manifest as CSV, rebuilt from the orders it shipped."""
    row = session.scalar(
        select(OfficeAudit).where(
            OfficeAudit.action == "close_day", OfficeAudit.target == manifest_id[:100]
        )
    )
    if row is None:
        raise NotFound(N_("No manifest %(id)r was made in the console.", id=manifest_id))
    lines = []
    ids = [int(i) for i in row.details.get("order_ids", [])]
    for order in session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id)):
        lines.extend(order_lines(session, order)[0])
    return Response(
        manifest_csv(lines),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="manifest-{row.target}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/catalogue")
def catalogue_page(request: Request, session: DbSession, who: Viewer, q: str = "") -> Response:
    """Products found by SKU, name prefix or barcode."""
    q = " ".join(q.split())[:100]
    products: list[Product] = []
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        products = list(
            session.scalars(
                select(Product)
                .where(
                    or_(
                        Product.sku == q.upper(),
                        Product.name.ilike(escaped + "%", escape="\\"),
                        Product.id.in_(
                            select(ProductGtin.product_id).where(ProductGtin.gtin14 == q.zfill(14))
                        ),
                    )
                )
                .order_by(Product.sku)
                .limit(100)
            )
        )
    return page(request, "catalogue.html", who, q=q, products=products)


def _channels(
    request: Request, session: Session, who: SignedIn, error: str = "", status_code: int = 200
) -> Response:
    session.rollback()
    channels = list(session.scalars(select(Channel).order_by(Channel.name)))
    mappings = {c.id: shipping_mappings(c) for c in channels}
    waiting = inbox.counts(session)
    failures = {c.id: inbox.failures(session, c.id) for c in channels if (c.id, FAILED) in waiting}
    return page(
        request,
        "channels.html",
        who,
        status_code=status_code,
        channels=channels,
        mappings=mappings,
        queued={c.id: waiting.get((c.id, QUEUED), 0) for c in channels},
        failed={c.id: waiting.get((c.id, FAILED), 0) for c in channels},
        failures=failures,
        carriers=sorted(known_carriers()),
        error=error,
        released=request.query_params.get("released", "")[:10],
        retried=request.query_params.get("retried", "")[:10],
    )


@router.get("/channels")
def channels_page(request: Request, session: DbSession, who: Viewer) -> Response:
    """Channels and how their shipping methods map to carrier services."""
    return _channels(request, session, who)


@router.post("/channels/{name}/shipping")
def map_shipping(
    request: Request,
    session: DbSession,
    who: AdminAction,
    name: str,
    method: Text,
    carrier: Text,
    service: Text = "",
    priority: Annotated[int, Form(ge=0, le=2)] = 0,
) -> Response:
    """Map a shop shipping method to a carrier service (admin); held orders for it release."""
    try:
        _mapping, released = set_shipping(
            session,
            name,
            method,
            carrier=carrier,
            service=service,
            priority=priority,
            actor=who.actor,
        )
        audit(
            session,
            who,
            "shipping_map",
            target=name,
            details={"method": method, "carrier": carrier, "released": released},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _channels(request, session, who, exc.message, exc.http_status)
    return RedirectResponse(f"{PREFIX}/channels?released={len(released)}", status_code=303)


@router.post("/channels/{name}/inbox/retry")
def retry_failed_deliveries(
    request: Request,
    session: DbSession,
    who: OperatorAction,
    name: str,
    reason: Reason,
) -> Response:
    """Queue a channel's failed webhook deliveries again, once their cause is fixed (operator;
    audited with the reason); this process's inbox applies them at once."""
    try:
        channel = get_channel(session, name)
        requeued = inbox.requeue_failed(session, channel.id)
        audit(
            session,
            who,
            "webhook_retry",
            target=name,
            reason=reason,
            details={"requeued": requeued},
        )
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return _channels(request, session, who, exc.message, exc.http_status)
    running: inbox.Inbox | None = getattr(request.app.state, "inbox", None)
    if running is not None:
        running.notify()
    return RedirectResponse(f"{PREFIX}/channels?retried={requeued}", status_code=303)


@router.get("/audit")
def audit_page(request: Request, session: DbSession, who: AdminPage, actor: str = "") -> Response:
    """What office users did (and refused sign-ins), newest first (admin)."""
    query = select(OfficeAudit).order_by(OfficeAudit.id.desc()).limit(200)
    if actor:
        query = query.where(OfficeAudit.actor == actor[:220])
    return page(request, "audit.html", who, rows=list(session.scalars(query)), actor=actor)
