"""Multi-parcel roll-up: an order is packed only when every one of its boxes is.

The station reports `parcel_closed` per box and one `order_packed {boxes: n}`, and only once
each box's label has printed. `unpacked_parcels` says what, in the service's view, still
stands in the way; the `order_packed` handler turns a disagreement into a `packed_incomplete`
exception, and closing the carrier's day leaves such an order behind.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Label, Order, Parcel
from service.shipping.labels import LIVE, label_fits


def unpacked_parcels(session: Session, order: Order, boxes: int | None = None) -> list[str]:
    """Why the order is not fully packed yet (empty when it is): one message per box."""
    parcels = {
        p.box_no: p for p in session.scalars(select(Parcel).where(Parcel.order_id == order.id))
    }
    labels: dict[int, list[Label]] = {}
    for label in session.scalars(
        select(Label).where(Label.order_id == order.id, Label.status.in_(LIVE))
    ):
        labels.setdefault(label.parcel_no, []).append(label)
    count = boxes or max(parcels, default=0)
    if count == 0:
        return ["no box has been closed"]
    problems: list[str] = []
    for box in range(1, count + 1):
        parcel = parcels.get(box)
        if parcel is None:
            problems.append(f"box {box} was never closed")
        elif parcel.status == "awaiting_label":
            problems.append(f"box {box} is waiting for a new label")
        elif parcel.status != "closed":
            problems.append(f"box {box} is still open")
        elif parcel.weight_grams is not None and not any(
            label_fits(lb, parcel.weight_grams) for lb in labels.get(box, [])
        ):
            problems.append(f"box {box} has no label for {parcel.weight_grams} g")
        elif parcel.weight_grams is None and not labels.get(box) and not parcel.tracking_number:
            problems.append(f"box {box} has no label")
    extra = sorted(b for b in parcels if b > count)
    problems.extend(f"box {b} is beyond the {count} reported" for b in extra)
    return problems
