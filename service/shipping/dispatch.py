"""Closing a carrier's day: every packed order of the carrier goes on one manifest and ships.

Orders are locked (in id order) so a second close running at the same time waits and then
finds them shipped; each moves packed -> shipped through the lifecycle with the manifest id
and its tracking numbers. An order with a box that has no tracking number, or whose pack the
service disputed (a `packed_incomplete` exception still open), is left packed and listed in
`skipped`: nothing ships without a label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from service.db import utcnow
from service.lifecycle import OrderStatus, transition
from service.models import Label, Order, OrderException, Parcel
from service.shipping.cod import order_cod
from service.shipping.labels import LIVE
from service.shipping.manifest import ManifestLine, manifest_csv, manifest_pdf

log = logging.getLogger(__name__)


@dataclass
class Manifest:
    """The result of closing a carrier's day."""

    manifest_id: str
    carrier: str
    closed_at: datetime
    lines: list[ManifestLine] = field(default_factory=list)
    shipped_order_ids: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # order number -> why

    def csv(self) -> bytes:
        """The manifest as CSV."""
        return manifest_csv(self.lines)

    def pdf(self) -> bytes:
        """The manifest as PDF."""
        return manifest_pdf(self.manifest_id, self.carrier, self.closed_at, self.lines)


def order_lines(session: Session, order: Order) -> tuple[list[ManifestLine], list[int]]:
    """Manifest lines of one order (each parcel with its tracking number), and the boxes that
    have none."""
    parcels = {
        p.box_no: p for p in session.scalars(select(Parcel).where(Parcel.order_id == order.id))
    }
    labels: dict[int, Label] = {}
    for label in session.scalars(
        select(Label).where(Label.order_id == order.id, Label.status.in_(LIVE)).order_by(Label.id)
    ):
        labels[label.parcel_no] = label  # the newest live label of each box
    boxes = sorted(set(parcels) | set(labels))
    out: list[ManifestLine] = []
    unlabelled: list[int] = []
    cod, currency = order_cod(order)
    for box in boxes:
        parcel, live = parcels.get(box), labels.get(box)
        # The newest live label wins: a parcel may still name a label cancelled since.
        tracking = (live.tracking_number if live else None) or (
            parcel.tracking_number if parcel else ""
        )
        if not tracking:
            unlabelled.append(box)
            continue
        out.append(
            ManifestLine(
                order_number=order.number,
                parcel_no=box,
                parcel_count=len(boxes),
                tracking_number=tracking,
                weight_grams=parcel.weight_grams if parcel else None,
                recipient=order.ship_name,
                postcode=order.ship_postcode,
                city=order.ship_city,
                country=order.ship_country,
                # Collected once per order: on its first parcel, never repeated per box.
                cod_amount=cod if not out else None,
                currency=currency if not out else "",
            )
        )
    return out, unlabelled


def close_day(session: Session, carrier: str, *, actor: str) -> Manifest:
    """Put every packed order of `carrier` on a new manifest and ship it."""
    now = utcnow()
    manifest = Manifest(f"{carrier}-{now:%Y%m%d-%H%M%S}", carrier, now)
    orders = session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.PACKED.value, Order.carrier == carrier)
        .order_by(Order.id)
        .options(lazyload(Order.lines), lazyload(Order.channel))
        .with_for_update(of=Order)
    ).all()
    disputed = set(
        session.scalars(
            select(OrderException.order_id).where(
                OrderException.order_id.in_([o.id for o in orders]),
                OrderException.code == "packed_incomplete",
                OrderException.resolved_at.is_(None),
            )
        )
    )
    for order in orders:
        lines, unlabelled = order_lines(session, order)
        if not lines:
            manifest.skipped[order.number] = "no tracking number (no label)"
            continue
        if unlabelled:
            boxes = ", ".join(str(b) for b in unlabelled)
            manifest.skipped[order.number] = f"no tracking number for box {boxes}"
            continue
        if order.id in disputed:
            manifest.skipped[order.number] = "its boxes and labels disagree (see exceptions)"
            continue
        transition(
            session,
            order,
            OrderStatus.SHIPPED,
            actor=actor,
            reason=f"handed to {carrier}",
            payload={
                "manifest": manifest.manifest_id,
                "carrier": carrier,
                "tracking_numbers": [ln.tracking_number for ln in lines],
                # What the manifest listed, for the day's COD totals (service/shipping/cod.py).
                "cod_amount": str(lines[0].cod_amount) if lines[0].cod_amount is not None else None,
                "currency": lines[0].currency,
            },
        )
        manifest.lines.extend(lines)
        manifest.shipped_order_ids.append(order.id)
    log.info(
        "carrier day closed",
        extra={"carrier": carrier, "orders": len(manifest.shipped_order_ids)},
    )
    return manifest
