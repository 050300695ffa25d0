"""Tracking events into orders: a CSV import, and a polling job for adapters with a feed.

CSV (UTF-8, header row required, extra columns ignored):

    tracking_number,status,at[,message][,location]
    PBX00000000422,in_transit,2026-11-30T08:15:00Z,Sorted at hub,Utrecht
    PBX00000000422,delivered,2026-11-30T14:02:00+01:00,Delivered to neighbour,

status: announced | in_transit | out_for_delivery | delivered | exception; `at` is ISO 8601
with a time zone (a time without one is refused). Every line is checked before anything is
written: one bad line rejects the whole file with every problem's line number.

Each new event becomes a `tracking_event` order event (a repeat of the same number, status
and time is skipped); an order moves shipped -> delivered once every one of its tracking
numbers has a delivered event.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.carriers.base import CarrierError, TrackingEvent
from service.carriers.registry import known_carriers
from service.errors import ValidationFailed
from service.lifecycle import OrderStatus, record_event, transition
from service.models import Label, Order, OrderEvent, Parcel
from service.shipping.labels import LIVE, adapter_for

log = logging.getLogger(__name__)

STATUSES = ("announced", "in_transit", "out_for_delivery", "delivered", "exception")
REQUIRED = ("tracking_number", "status", "at")
MAX_ERRORS_SHOWN = 20


class TrackingImportRejected(ValidationFailed):
    """The CSV has errors; nothing was imported. `errors` lists (line number, message)."""

    code = "tracking_csv_rejected"

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {n}: {msg}" for n, msg in errors[:MAX_ERRORS_SHOWN])
        more = len(errors) - MAX_ERRORS_SHOWN
        text = f"Tracking CSV rejected, nothing imported. {shown}" + (
            f"; and {more} more" if more > 0 else ""
        )
        super().__init__(text)
        self.errors = errors


@dataclass
class ImportReport:
    """What an import or a poll did."""

    events: int = 0
    duplicates: int = 0
    delivered_orders: int = 0


def orders_by_tracking(session: Session, numbers: Iterable[str]) -> dict[str, int]:
    """Tracking number -> order id, for live labels and parcels."""
    wanted = sorted(set(numbers))
    found: dict[str, int] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found.update(
            session.execute(
                select(Parcel.tracking_number, Parcel.order_id).where(
                    Parcel.tracking_number.in_(chunk)
                )
            )
            .tuples()
            .all()  # type: ignore[arg-type]
        )
        found.update(
            session.execute(
                select(Label.tracking_number, Label.order_id).where(
                    Label.tracking_number.in_(chunk), Label.status.in_(LIVE)
                )
            )
            .tuples()
            .all()
        )
    return found


def parse_csv(session: Session, text: str) -> list[TrackingEvent]:
    """Every event of the file, or TrackingImportRejected naming each bad line."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise TrackingImportRejected([(1, f"header lacks column(s): {', '.join(missing)}")])
    reader.fieldnames = header
    errors: list[tuple[int, str]] = []
    events: list[TrackingEvent] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append((line, "more fields than the header has"))
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        number, status, raw_at = values["tracking_number"], values["status"], values["at"]
        problems = []
        if not number:
            problems.append("tracking_number is empty")
        if status not in STATUSES:
            problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
        at: datetime | None = None
        try:
            at = datetime.fromisoformat(raw_at.replace("Z", "+00:00"))
            if at.tzinfo is None:
                problems.append(f"at {raw_at!r} has no time zone")
        except ValueError:
            problems.append(f"at {raw_at!r} is not an ISO 8601 time")
        if problems:
            errors.append((line, "; ".join(problems)))
            continue
        assert at is not None
        events.append(
            TrackingEvent(number, status, at, values.get("message", ""), values.get("location", ""))
        )
    if not errors and not events:
        errors.append((1, "the file has no events"))
    if not errors:
        known = orders_by_tracking(session, (e.tracking_number for e in events))
        reader_lines = _event_lines(text)
        for i, event in enumerate(events):
            if event.tracking_number not in known:
                errors.append((reader_lines[i], f"unknown tracking number {event.tracking_number}"))
    if errors:
        raise TrackingImportRejected(errors)
    return events


def _event_lines(text: str) -> list[int]:
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    lines = []
    for row in reader:
        if row:  # DictReader skips blank rows too
            lines.append(reader.line_num)
    return lines


def apply_events(session: Session, events: Iterable[TrackingEvent], *, actor: str) -> ImportReport:
    """Record new events on their orders and deliver orders whose parcels all arrived."""
    report = ImportReport()
    events = list(events)
    owners = orders_by_tracking(session, (e.tracking_number for e in events))
    touched: set[int] = set()
    for event in events:
        oid = owners.get(event.tracking_number)
        if oid is None:
            log.warning("tracking event for unknown number %s", event.tracking_number)
            continue
        if _seen(session, oid, event):
            report.duplicates += 1
            continue
        order = session.get_one(Order, oid)
        record_event(
            session,
            order,
            "tracking_event",
            actor=actor,
            payload={
                "tracking_number": event.tracking_number,
                "status": event.status,
                "at": event.at.isoformat(),
                "message": event.message,
                "location": event.location,
            },
        )
        session.flush()
        report.events += 1
        touched.add(oid)
    for oid in sorted(touched):
        order = session.get_one(Order, oid)
        if OrderStatus(order.status) is OrderStatus.SHIPPED and _all_delivered(session, order):
            transition(session, order, OrderStatus.DELIVERED, actor=actor, reason="carrier")
            report.delivered_orders += 1
    return report


def _tracking_events(session: Session, order_id: int) -> list[dict[str, object]]:
    return [
        p
        for p in session.scalars(
            select(OrderEvent.payload).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "tracking_event"
            )
        )
        if isinstance(p, dict)
    ]


def _seen(session: Session, order_id: int, event: TrackingEvent) -> bool:
    key = (event.tracking_number, event.status, event.at.isoformat())
    return any(
        (p.get("tracking_number"), p.get("status"), p.get("at")) == key
        for p in _tracking_events(session, order_id)
    )


def _all_delivered(session: Session, order: Order) -> bool:
    numbers = set(
        session.scalars(
            select(Label.tracking_number).where(Label.order_id == order.id, Label.status.in_(LIVE))
        )
    )
    delivered = {
        str(p.get("tracking_number"))
        for p in _tracking_events(session, order.id)
        if p.get("status") == "delivered"
    }
    return bool(delivered) and numbers <= delivered


def import_csv(session: Session, text: str, *, actor: str) -> ImportReport:
    """Check the whole file, then apply it (all or nothing, in the caller's transaction)."""
    return apply_events(session, parse_csv(session, text), actor=actor)


def poll_tracking(
    sessions: sessionmaker[Session],
    *,
    carrier: str | None = None,
    actor: str = "tracking-poll",
    failures: list[str] | None = None,
) -> ImportReport:
    """Ask every tracking-capable carrier about its shipped orders; one transaction per order.

    A carrier that is away is logged and retried on the next run; `failures` (if given)
    collects one line per order it could not ask about.
    """
    total = ImportReport()
    with sessions() as session:
        q = select(Order.id).where(Order.status == OrderStatus.SHIPPED.value)
        q = (
            q.where(Order.carrier == carrier)
            if carrier
            else q.where(Order.carrier.in_(sorted(known_carriers())))
        )
        ids = list(session.scalars(q.order_by(Order.id)))
    for oid in ids:
        with sessions() as session, session.begin():
            order = session.get_one(Order, oid)
            try:
                adapter, _config = adapter_for(order)
            except CarrierError as exc:
                log.warning("no adapter for %s: %s", order.carrier, exc)
                continue
            if not adapter.supports_tracking:
                continue
            numbers = session.scalars(
                select(Label.tracking_number).where(Label.order_id == oid, Label.status.in_(LIVE))
            ).all()
            events: list[TrackingEvent] = []
            try:
                for number in numbers:
                    events.extend(adapter.tracking_events(number))
            except CarrierError as exc:
                log.warning("tracking poll failed for order %s: %s", oid, exc)
                if failures is not None:
                    failures.append(exc.summary)
                continue
            report = apply_events(session, events, actor=actor)
        total.events += report.events
        total.duplicates += report.duplicates
        total.delivered_orders += report.delivered_orders
    return total
