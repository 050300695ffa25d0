"""Keep every accepted parcel weight with its contents, from the station's parcel_closed.

Once per (station, mutation id): a retried push records nothing twice. A box weighed again
(reweigh) replaces its earlier row for learning; a typed-in weight is kept, marked
`manual`, and teaches nothing (a person's number is not a measurement). A weight a
supervisor let through after it was flagged does teach: the supervisor checked that parcel,
and without it a profile could never follow a real change of packaging.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.models import Order, OrderLine, ParcelWeight
from service.weights.learning import refresh_profile, refresh_unit_weight
from sync.contents import contents_key, contents_signature
from sync.protocol import ParcelClosed

log = logging.getLogger(__name__)


def record_parcel_weight(
    session: Session,
    *,
    station_id: int,
    mutation_id: int,
    order: Order,
    parcel: ParcelClosed,
    weighed_at: datetime,
) -> ParcelWeight | None:
    """Store the parcel's weight and refresh what it teaches; None if nothing to store."""
    if parcel.weight_grams is None or parcel.weight_grams <= 0 or not parcel.items:
        return None
    done = session.scalar(
        select(ParcelWeight).where(
            ParcelWeight.station_id == station_id, ParcelWeight.mutation_id == mutation_id
        )
    )
    if done is not None:
        return done
    skus: dict[int, str] = {
        line_id: sku
        for line_id, sku in session.execute(
            select(OrderLine.id, OrderLine.sku).where(OrderLine.order_id == order.id)
        ).tuples()
    }
    lines = [(skus.get(item.line_id), item.quantity) for item in parcel.items]
    known = [(sku, qty) for sku, qty in lines if sku is not None]
    if len(known) != len(lines):
        log.warning(
            "parcel weight not kept: a line is not on the order",
            extra={"order": order.id, "box": parcel.box_no, "mutation_id": mutation_id},
        )
        return None
    distinct = {sku.strip().upper() for sku, _ in known}
    source = "manual" if parcel.manual else "override" if parcel.overridden else "scale"
    replaced = list(
        session.scalars(
            select(ParcelWeight).where(
                ParcelWeight.order_id == order.id,
                ParcelWeight.box_no == parcel.box_no,
                ParcelWeight.learn.is_(True),
            )
        )
    )
    if replaced:
        session.execute(
            update(ParcelWeight)
            .where(ParcelWeight.id.in_([r.id for r in replaced]))
            .values(learn=False)
        )
    row = ParcelWeight(
        station_id=station_id,
        mutation_id=mutation_id,
        order_id=order.id,
        box_no=parcel.box_no,
        box_type=parcel.box_type.strip().upper(),
        box_grams=parcel.box_grams,
        contents_key=contents_key(known, parcel.box_type),
        contents=contents_signature(known, parcel.box_type),
        single_sku=distinct.pop() if len(distinct) == 1 else None,
        units=sum(qty for _, qty in known),
        grams=parcel.weight_grams,
        source=source,
        learn=source != "manual",
        weighed_at=weighed_at,
    )
    session.add(row)
    session.flush()
    for r in sorted({(r.contents_key, r.contents, r.box_type) for r in [*replaced, row]}):
        refresh_profile(session, *r)
    for sku in sorted({r.single_sku for r in [*replaced, row] if r.single_sku}):
        refresh_unit_weight(session, sku)
    return row
