"""Reconciliation: find orders stuck between states and raise an exception a person sees.

Three cases, each an OrderException of kind "stuck" with its own code:

- `paid_not_packed`: paid (or cash on delivery) and still pending/confirmed/allocated/picking
  more than `paid_hours` after the service received it;
- `packed_not_shipped`: packed more than `packed_hours` ago and not shipped;
- `shipped_no_tracking`: shipped more than `shipped_hours` ago with no tracking number on any
  parcel or label.

Running it again is safe: an order with an open exception of that code gets no second one.
A person who resolves an exception gives the order a fresh grace period: the same code is
raised again only if the order is still stuck the full threshold after the resolution. An
open exception whose order has moved on is resolved automatically (resolved_by=reconcile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.catalogue.revalidate import revalidate_all_held
from service.channels import release_mapped
from service.db import utcnow
from service.errors import ValidationFailed
from service.lifecycle import OrderStatus
from service.models import Label, Order, OrderException, Parcel
from sync.protocol import exception_words

KIND = "stuck"
RESOLVER = "reconcile"
PRE_PACK = (
    OrderStatus.PENDING.value,
    OrderStatus.CONFIRMED.value,
    OrderStatus.ALLOCATED.value,
    OrderStatus.PICKING.value,
)


@dataclass(frozen=True)
class Thresholds:
    """How long an order may sit in each stage before it counts as stuck."""

    paid_hours: float = 24.0
    packed_hours: float = 24.0
    shipped_hours: float = 48.0

    def check(self) -> None:
        """Refuse zero or negative thresholds (every order would be stuck)."""
        for name in ("paid_hours", "packed_hours", "shipped_hours"):
            if getattr(self, name) <= 0:
                raise ValidationFailed(f"{name} must be more than 0 hours.", field=name)


@dataclass
class ReconcileReport:
    """What one run did: exception ids opened and auto-resolved, and how many stayed open."""

    opened: list[int] = field(default_factory=list)
    auto_resolved: list[int] = field(default_factory=list)
    still_open: int = 0
    # Orders released from a validation hold whose fix (mapping, product) exists by now.
    released: list[str] = field(default_factory=list)


def find_stuck(
    session: Session, limits: Thresholds, now: datetime
) -> dict[tuple[int, str], dict[str, object]]:
    """(order id, code) -> the parameters of its sentence (sync.protocol.EXCEPTION_MESSAGES),
    for every order stuck right now."""
    stuck: dict[tuple[int, str], dict[str, object]] = {}
    paid_before = now - timedelta(hours=limits.paid_hours)
    for order in session.scalars(
        select(Order).where(
            Order.payment_state.in_(("paid", "cod")),
            Order.status.in_(PRE_PACK),
            Order.created_at < paid_before,
        )
    ):
        stuck[(order.id, "paid_not_packed")] = {
            "order": order.number,
            "hours": _hours(now, order.created_at),
            "status": order.status,
        }
    packed_before = now - timedelta(hours=limits.packed_hours)
    for order in session.scalars(
        select(Order).where(
            Order.status == OrderStatus.PACKED.value, Order.status_changed_at < packed_before
        )
    ):
        stuck[(order.id, "packed_not_shipped")] = {
            "order": order.number,
            "hours": _hours(now, order.status_changed_at),
        }
    shipped_before = now - timedelta(hours=limits.shipped_hours)
    tracked_parcel = exists().where(Parcel.order_id == Order.id, Parcel.tracking_number != "")
    tracked_label = exists().where(
        Label.order_id == Order.id, Label.tracking_number != "", Label.status != "cancelled"
    )
    for order in session.scalars(
        select(Order).where(
            Order.status == OrderStatus.SHIPPED.value,
            Order.status_changed_at < shipped_before,
            ~tracked_parcel,
            ~tracked_label,
        )
    ):
        stuck[(order.id, "shipped_no_tracking")] = {
            "order": order.number,
            "hours": _hours(now, order.status_changed_at),
        }
    return stuck


def reconcile(
    session: Session, limits: Thresholds | None = None, *, now: datetime | None = None
) -> ReconcileReport:
    """Open exceptions for newly stuck orders and close those whose order moved on."""
    limits = limits or Thresholds()
    limits.check()
    now = now or utcnow()
    # Validation holds whose fix arrived while the order was being written (a product or a
    # shipping mapping created in the same instant): neither transaction saw the other.
    released = release_mapped(session, actor=RESOLVER)
    released += revalidate_all_held(session, actor=RESOLVER)
    report = ReconcileReport(released=released)
    stuck = find_stuck(session, limits, now)
    existing = session.scalars(
        select(OrderException).where(OrderException.kind == KIND).order_by(OrderException.id)
    ).all()
    open_by_key = {(e.order_id, e.code): e for e in existing if e.resolved_at is None}
    last_resolved: dict[tuple[int, str], datetime] = {}
    for exc in existing:
        if exc.resolved_at is not None:
            key = (exc.order_id, exc.code)
            last_resolved[key] = max(exc.resolved_at, last_resolved.get(key, exc.resolved_at))

    for key, exc in open_by_key.items():
        if key not in stuck:
            exc.resolved_at = now
            exc.resolved_by = RESOLVER
            exc.resolution = "The order moved on; no longer stuck."
            report.auto_resolved.append(exc.id)
    for key, params in stuck.items():
        if key in open_by_key:
            report.still_open += 1
            continue
        resolved_at = last_resolved.get(key)
        if resolved_at is not None and resolved_at > now - _threshold(limits, key[1]):
            continue  # a person dealt with it recently; give the order its grace period
        message, say = exception_words(key[1], **params)
        row = OrderException(
            order_id=key[0],
            kind=KIND,
            code=key[1],
            message=message,
            details={
                "thresholds_hours": _threshold(limits, key[1]).total_seconds() / 3600,
                "say": say,
            },
            created_at=now,
        )
        session.add(row)
        session.flush()
        report.opened.append(row.id)
    return report


def _threshold(limits: Thresholds, code: str) -> timedelta:
    hours = {
        "paid_not_packed": limits.paid_hours,
        "packed_not_shipped": limits.packed_hours,
        "shipped_no_tracking": limits.shipped_hours,
    }[code]
    return timedelta(hours=hours)


def _hours(now: datetime, then: datetime) -> int:
    return round((now - then).total_seconds() / 3600)
