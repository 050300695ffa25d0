"""Batch loaders that turn rows into the wire snapshots of sync/protocol.py.

Every loader takes a list of ids and runs a fixed number of queries per chunk of ids (never
one per entity), so a 10,000-order snapshot is a few dozen queries. Snapshots are returned
already as JSON-ready dicts (`model_dump(mode="json")`), keyed by id.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from service.models import (
    Batch,
    Channel,
    Label,
    Lease,
    Order,
    OrderLine,
    Product,
    ProductAlias,
    ProductGtin,
    Station,
    User,
)
from sync.protocol import (
    AddressSnapshot,
    BatchSnapshot,
    LabelSnapshot,
    LeaseInfo,
    OrderLineSnapshot,
    OrderSnapshot,
    ProductSnapshot,
    UserSnapshot,
)

Snapshot = dict[str, Any]
CHUNK = 900  # stays under SQLite's bound-parameter limits with room to spare


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """Sorted, de-duplicated ids in lists of at most `size`."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


def orders(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """OrderSnapshot dicts (lines and current lease included) of the existing orders."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        lines: dict[int, list[OrderLineSnapshot]] = defaultdict(list)
        for ln in session.execute(
            select(
                OrderLine.order_id,
                OrderLine.id,
                OrderLine.line_no,
                OrderLine.sku,
                OrderLine.name,
                OrderLine.quantity,
                OrderLine.product_id,
            )
            .where(OrderLine.order_id.in_(chunk))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ):
            lines[ln.order_id].append(
                OrderLineSnapshot(
                    line_id=ln.id,
                    line_no=ln.line_no,
                    sku=ln.sku,
                    name=ln.name,
                    quantity=ln.quantity,
                    product_id=ln.product_id,
                )
            )
        leases: dict[int, LeaseInfo] = {}
        for ls in session.execute(
            select(Lease.order_id, Lease.station_id, Station.name, Lease.epoch, Lease.expires_at)
            .join(Station, Station.id == Lease.station_id)
            .where(Lease.order_id.in_(chunk), Lease.released_at.is_(None))
        ):
            leases[ls.order_id] = LeaseInfo(
                order_id=ls.order_id,
                station_id=ls.station_id,
                station_name=ls.name,
                epoch=ls.epoch,
                expires_at=ls.expires_at,
            )
        for o in session.execute(
            select(*_ORDER_COLUMNS, Channel.name.label("channel_name"))
            .join(Channel, Channel.id == Order.channel_id)
            .where(Order.id.in_(chunk))
        ):
            out[o.id] = order_snapshot(o, lines.get(o.id, []), leases.get(o.id))
    return out


_ORDER_COLUMNS = (
    Order.id,
    Order.number,
    Order.channel_order_id,
    Order.status,
    Order.priority,
    Order.cutoff_at,
    Order.carrier,
    Order.service,
    Order.ship_name,
    Order.ship_company,
    Order.ship_street1,
    Order.ship_street2,
    Order.ship_postcode,
    Order.ship_city,
    Order.ship_region,
    Order.ship_country,
    Order.phone,
    Order.email,
    Order.batch_id,
    Order.tote,
    Order.version,
)


def order_snapshot(
    o: Row[Any], lines: Sequence[OrderLineSnapshot], lease: LeaseInfo | None
) -> Snapshot:
    """One order (a row of _ORDER_COLUMNS + channel_name) as the station sees it."""
    ship_to = None
    if o.ship_name or o.ship_street1:
        ship_to = AddressSnapshot(
            name=o.ship_name,
            company=o.ship_company,
            street1=o.ship_street1,
            street2=o.ship_street2,
            postcode=o.ship_postcode,
            city=o.ship_city,
            region=o.ship_region,
            country=o.ship_country,
            phone=o.phone,
            email=o.email,
        )
    return OrderSnapshot(
        id=o.id,
        number=o.number,
        channel=o.channel_name,
        channel_order_id=o.channel_order_id,
        status=o.status,
        priority=o.priority,
        cutoff_at=o.cutoff_at,
        carrier=o.carrier,
        service=o.service,
        country=o.ship_country,
        ship_to=ship_to,
        batch_id=o.batch_id,
        tote=o.tote,
        lines=list(lines),
        lease=lease,
        version=o.version,
    ).model_dump(mode="json")


def products(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """ProductSnapshot dicts with GTINs and aliases."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        gtins: dict[int, list[str]] = defaultdict(list)
        for pid, gtin in session.execute(
            select(ProductGtin.product_id, ProductGtin.gtin14).where(
                ProductGtin.product_id.in_(chunk)
            )
        ):
            gtins[pid].append(gtin)
        aliases: dict[int, list[str]] = defaultdict(list)
        for pid, code in session.execute(
            select(ProductAlias.product_id, ProductAlias.code).where(
                ProductAlias.product_id.in_(chunk)
            )
        ):
            aliases[pid].append(code)
        cols = (
            Product.id,
            Product.sku,
            Product.name,
            Product.weight_grams,
            Product.length_mm,
            Product.width_mm,
            Product.height_mm,
            Product.serial_required,
            Product.image_url,
        )
        for p in session.execute(select(*cols).where(Product.id.in_(chunk))):
            out[p.id] = ProductSnapshot(
                id=p.id,
                sku=p.sku,
                name=p.name,
                gtins=sorted(gtins.get(p.id, [])),
                aliases=sorted(aliases.get(p.id, [])),
                weight_grams=p.weight_grams,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
                serial_required=bool(p.serial_required),
                image_url=p.image_url,
            ).model_dump(mode="json")
    return out


def user_allowed(station_ids: list[int] | None, station_id: int) -> bool:
    """Whether a user may log in at the station (no list: every station)."""
    return station_ids is None or station_id in station_ids


def users(session: Session, ids: Iterable[int], station_id: int) -> dict[int, Snapshot]:
    """UserSnapshot dicts of the users allowed on the station (others are left out)."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        for u in session.scalars(select(User).where(User.id.in_(chunk))):
            if not user_allowed(u.station_ids, station_id):
                continue
            out[u.id] = UserSnapshot.model_validate(
                {
                    "id": u.id,
                    "name": u.name,
                    "role": u.role,
                    "badge": u.badge,
                    "pin_hash": u.pin_hash,
                    "active": u.active,
                }
            ).model_dump(mode="json")
    return out


def batches(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """BatchSnapshot dicts with the ids of their orders."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        members: dict[int, list[int]] = defaultdict(list)
        for oid, bid in session.execute(
            select(Order.id, Order.batch_id).where(Order.batch_id.in_(chunk)).order_by(Order.id)
        ):
            members[bid].append(oid)
        for b in session.scalars(select(Batch).where(Batch.id.in_(chunk))):
            out[b.id] = BatchSnapshot(
                id=b.id,
                code=b.code,
                name=b.name,
                status=b.status,
                station_id=b.station_id,
                cutoff_at=b.cutoff_at,
                carrier=b.carrier,
                order_ids=members.get(b.id, []),
            ).model_dump(mode="json")
    return out


def labels(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """LabelSnapshot dicts, label bytes base64-encoded."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        for lb in session.scalars(select(Label).where(Label.id.in_(chunk))):
            out[lb.id] = LabelSnapshot.model_validate(
                {
                    "id": lb.id,
                    "order_id": lb.order_id,
                    "parcel_no": lb.parcel_no,
                    "parcel_count": lb.parcel_count,
                    "carrier": lb.carrier,
                    "tracking_number": lb.tracking_number,
                    "format": lb.format,
                    "content_b64": base64.b64encode(lb.content).decode("ascii"),
                    "weight_min_grams": lb.weight_min_grams,
                    "weight_max_grams": lb.weight_max_grams,
                    "status": lb.status,
                }
            ).model_dump(mode="json")
    return out


def labels_of_orders(session: Session, order_ids: Iterable[int]) -> list[int]:
    """Ids of every label of the given orders."""
    found: list[int] = []
    for chunk in chunks(order_ids):
        found.extend(session.scalars(select(Label.id).where(Label.order_id.in_(chunk))))
    return found
