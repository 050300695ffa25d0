"""Batch loaders that turn rows into the wire snapshots of sync/protocol.py.

Every loader takes a list of ids and runs a fixed number of queries per chunk of ids (never
one per entity), so a 10,000-order snapshot is a few dozen queries. Snapshots are returned
as dicts with exactly the fields of the protocol's *Snapshot models, keyed by id; datetimes
stay datetime objects until the response is serialised.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Integer, Select, bindparam, select
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
    WeightProfile,
)
from service.pins import pin_check
from service.slips import NO_SLIPS, SlipPolicy, slip_policy
from service.weights.stats import MIN_PARCELS
from sync.languages import customer_language
from sync.protocol import (
    ORDER_FIELDS_V3,
    ORDER_FIELDS_V4,
    USER_FIELDS_V4,
    BatchSnapshot,
    UserSnapshot,
)

Snapshot = dict[str, Any]
CHUNK = 900  # stays under SQLite's bound-parameter limits with room to spare


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """Sorted, de-duplicated ids in lists of at most `size`."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


def ids_param() -> BindParameter[Any]:
    """The `ids` parameter of a statement built once: a list, one placeholder per id."""
    return bindparam("ids", expanding=True)


# A station's id as a bound parameter: statements built once with it, run with
# {"station_id": ...} (see order_statements).
STATION = bindparam("station_id", type_=Integer())


def orders(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """OrderSnapshot dicts (lines and current lease included) of the existing orders."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        out.update(orders_where(session, _ORDERS_BY_ID, {"ids": chunk}))
    return out


@dataclass(frozen=True)
class OrderStatements:
    """The three statements of orders_where for one filter, built once (see order_statements)."""

    lines: Select[Any]
    leases: Select[Any]
    orders: Select[Any]


def order_statements(
    order_filter: ColumnElement[bool], line_filter: ColumnElement[bool]
) -> OrderStatements:
    """orders_where's statements for the orders matching `order_filter` (lines:
    `line_filter`). Build them once, with bound parameters, and keep them: a statement built
    for each call is built and its cache key walked each time, which was most of a small
    snapshot's CPU."""
    return OrderStatements(
        lines=select(
            OrderLine.order_id,
            OrderLine.id,
            OrderLine.line_no,
            OrderLine.sku,
            OrderLine.name,
            OrderLine.quantity,
            OrderLine.product_id,
        )
        .where(line_filter)
        .order_by(OrderLine.order_id, OrderLine.line_no),
        leases=select(Lease.order_id, Lease.station_id, Station.name, Lease.epoch, Lease.expires_at)
        .join(Station, Station.id == Lease.station_id)
        .join(Order, Order.id == Lease.order_id)
        .where(order_filter, Lease.released_at.is_(None)),
        orders=select(*_ORDER_COLUMNS, Channel.name, *_V3_COLUMNS)
        .join(Channel, Channel.id == Order.channel_id)
        .where(order_filter),
    )


def orders_where(
    session: Session, statements: OrderStatements, params: dict[str, Any]
) -> dict[int, Snapshot]:
    """OrderSnapshot dicts of the orders `statements` select, run with `params`.

    A snapshot passes a subquery here, so 10,000 orders are three queries, not thirty.
    """
    lines: dict[int, list[Snapshot]] = defaultdict(list)
    for oid, lid, line_no, sku, name, qty, pid in session.execute(statements.lines, params):
        lines[oid].append(
            {
                "line_id": lid,
                "line_no": line_no,
                "sku": sku,
                "name": name,
                "quantity": qty,
                "product_id": pid,
            }
        )
    leases: dict[int, Snapshot] = {}
    for oid, sid, sname, epoch, expires in session.execute(statements.leases, params):
        leases[oid] = {
            "order_id": oid,
            "station_id": sid,
            "station_name": sname,
            "epoch": epoch,
            "expires_at": expires,
        }
    out: dict[int, Snapshot] = {}
    # A handful of channels: their packing-slip settings once, not a JSON parse per order.
    policies = {
        cid: slip_policy(settings or {})
        for cid, settings in session.execute(_CHANNEL_SETTINGS).tuples()
    }
    base = len(_ORDER_COLUMNS) + 1
    for row in session.execute(statements.orders, params).tuples():
        oid = row[0]
        snap = order_snapshot(row[:base], lines.get(oid, []), leases.get(oid))
        snap.update(order_extras(snap, row[base:], policies))
        out[oid] = snap
    return out


# What protocol 3 adds to an order (sync.protocol.ORDER_FIELDS_V3).
_V3_COLUMNS = (
    Order.channel_id,
    Order.pickup_point,
    Order.pickup_point_name,
    Order.payment_state,
    Order.total_amount,
    Order.currency,
    Order.language,
)


def order_extras(snap: Snapshot, row: tuple[Any, ...], policies: dict[int, SlipPolicy]) -> Snapshot:
    """The protocol-3 fields of one order: slip wanted, pickup point, cash on delivery, and
    the language its packing slip prints in."""
    channel_id, point_id, point_name, payment_state, total, currency, language = row
    company = (snap["ship_to"] or {}).get("company", "")
    return {
        "packing_slip": policies.get(channel_id, NO_SLIPS).wants(snap["country"], company),
        "pickup_point": {"id": point_id, "name": point_name} if point_id else None,
        "cod_amount": str(total) if payment_state == "cod" and total is not None else None,
        "currency": currency or "",
        # An order from before orders.language: its destination country's language.
        "language": language or customer_language(None, snap["country"]),
    }


def without_v3(snap: Snapshot) -> Snapshot:
    """The order as a station older than protocol 3 reads it (it refuses unknown fields)."""
    return {k: v for k, v in snap.items() if k not in ORDER_FIELDS_V3}


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


def order_snapshot(row: tuple[Any, ...], lines: list[Snapshot], lease: Snapshot | None) -> Snapshot:
    """One order (a row of _ORDER_COLUMNS + channel name) as an OrderSnapshot dict.

    Built as a plain dict rather than through the pydantic model: validating 50,000 nested
    models made a 10k-order snapshot several times slower. A test validates these dicts
    against OrderSnapshot so the two cannot drift apart.
    """
    (
        oid, number, channel_order_id, status, priority, cutoff_at, carrier, service,
        ship_name, ship_company, ship_street1, ship_street2, ship_postcode, ship_city,
        ship_region, ship_country, phone, email, batch_id, tote, version, channel,
    ) = row  # fmt: skip
    ship_to = None
    if ship_name or ship_street1:
        ship_to = {
            "name": ship_name,
            "company": ship_company,
            "street1": ship_street1,
            "street2": ship_street2,
            "postcode": ship_postcode,
            "city": ship_city,
            "region": ship_region,
            "country": ship_country,
            "phone": phone,
            "email": email,
        }
    return {
        "id": oid,
        "number": number,
        "channel": channel,
        "channel_order_id": channel_order_id,
        "status": status,
        "priority": priority,
        "cutoff_at": cutoff_at,
        "carrier": carrier,
        "service": service,
        "country": ship_country,
        "ship_to": ship_to,
        "batch_id": batch_id,
        "tote": tote,
        "lines": lines,
        "lease": lease,
        "version": version,
    }


def products(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """ProductSnapshot dicts with GTINs and aliases (plain dicts: catalogues are big)."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        gtins: dict[int, list[str]] = defaultdict(list)
        for pid, gtin in session.execute(_GTINS, {"ids": chunk}):
            gtins[pid].append(gtin)
        aliases: dict[int, list[str]] = defaultdict(list)
        for pid, code in session.execute(_ALIASES, {"ids": chunk}):
            aliases[pid].append(code)
        for p in session.execute(_PRODUCTS, {"ids": chunk}):
            out[p.id] = {
                "id": p.id,
                "sku": p.sku,
                "name": p.name,
                "gtins": sorted(gtins.get(p.id, [])),
                "aliases": sorted(aliases.get(p.id, [])),
                "weight_grams": p.weight_grams,
                "length_mm": p.length_mm,
                "width_mm": p.width_mm,
                "height_mm": p.height_mm,
                "serial_required": bool(p.serial_required),
                "image_url": p.image_url,
                "serial_pattern": p.serial_pattern,
                "active": bool(p.active),
            }
    return out


def weight_profiles(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """WeightProfileSnapshot dicts of the profiles with enough parcels to be used."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        rows = session.scalars(_WEIGHT_PROFILES, {"ids": chunk})
        out.update({p.id: weight_profile(p) for p in rows})
    return out


def usable_weight_profile_ids(session: Session) -> list[int]:
    """Ids of every profile a station can use (for a snapshot)."""
    return list(session.scalars(_USABLE_PROFILE_IDS))


def weight_profile(p: WeightProfile) -> Snapshot:
    """One profile as a WeightProfileSnapshot dict."""
    return {
        "id": p.id,
        "contents_key": p.contents_key,
        "box_type": p.box_type,
        "parcels": p.parcels,
        "mean_grams": p.mean_grams,
        "stdev_grams": p.stdev_grams,
    }


def user_allowed(station_ids: list[int] | None, station_id: int) -> bool:
    """Whether a user may log in at the station (no list: every station)."""
    return station_ids is None or station_id in station_ids


def users(session: Session, ids: Iterable[int], station_id: int) -> dict[int, Snapshot]:
    """UserSnapshot dicts of the users allowed on the station (others are left out).

    No PIN hash: only the PIN's argon2 parameters and a verifier sealed to the station's
    enrolment key (service.pins.pin_check), useless to anyone without that key.
    """
    out: dict[int, Snapshot] = {}
    ids = list(ids)
    if not ids:
        return out
    public_key = session.scalar(_STATION_KEY, {"station_id": station_id})
    for chunk in chunks(ids):
        for u in session.scalars(_USERS, {"ids": chunk}):
            if not user_allowed(u.station_ids, station_id):
                continue
            out[u.id] = UserSnapshot.model_validate(
                {
                    "id": u.id,
                    "name": u.name,
                    "role": u.role,
                    "badge": u.badge,
                    "active": u.active,
                    "pin": pin_check(u.pin_hash, public_key),
                    "language": u.language,
                }
            ).model_dump(mode="json")
    return out


def without_v4(snap: Snapshot, entity: str = "user") -> Snapshot:
    """A user or an order as a station older than protocol 4 reads it (it refuses unknown
    fields)."""
    fields = ORDER_FIELDS_V4 if entity == "order" else USER_FIELDS_V4
    return {k: v for k, v in snap.items() if k not in fields}


def batches(session: Session, ids: Iterable[int]) -> dict[int, Snapshot]:
    """BatchSnapshot dicts with the ids of their orders."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        members: dict[int, list[int]] = defaultdict(list)
        for oid, bid in session.execute(_BATCH_MEMBERS, {"ids": chunk}):
            members[bid].append(oid)
        for b in session.scalars(_BATCHES, {"ids": chunk}):
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
    """LabelSnapshot dicts, label bytes base64-encoded (one per parcel: as many as orders)."""
    out: dict[int, Snapshot] = {}
    for chunk in chunks(ids):
        for lb in session.scalars(_LABELS, {"ids": chunk}):
            out[lb.id] = {
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
    return out


def labels_of_orders(session: Session, order_ids: Iterable[int]) -> list[int]:
    """Ids of every label of the given orders."""
    found: list[int] = []
    for chunk in chunks(order_ids):
        found.extend(session.scalars(_LABELS_OF_ORDERS, {"ids": chunk}))
    return found


# The loaders' statements, built once with bound parameters (see order_statements).
_ORDERS_BY_ID = order_statements(Order.id.in_(ids_param()), OrderLine.order_id.in_(ids_param()))
_CHANNEL_SETTINGS = select(Channel.id, Channel.settings)
_GTINS = select(ProductGtin.product_id, ProductGtin.gtin14).where(
    ProductGtin.product_id.in_(ids_param())
)
_ALIASES = select(ProductAlias.product_id, ProductAlias.code).where(
    ProductAlias.product_id.in_(ids_param())
)
_PRODUCTS = select(
    Product.id,
    Product.sku,
    Product.name,
    Product.weight_grams,
    Product.length_mm,
    Product.width_mm,
    Product.height_mm,
    Product.serial_required,
    Product.image_url,
    Product.serial_pattern,
    Product.active,
).where(Product.id.in_(ids_param()))
_WEIGHT_PROFILES = select(WeightProfile).where(
    WeightProfile.id.in_(ids_param()), WeightProfile.parcels >= MIN_PARCELS
)
_USABLE_PROFILE_IDS = select(WeightProfile.id).where(WeightProfile.parcels >= MIN_PARCELS)
_STATION_KEY = select(Station.pin_public_key).where(Station.id == STATION)
_USERS = select(User).where(User.id.in_(ids_param()))
_BATCH_MEMBERS = (
    select(Order.id, Order.batch_id).where(Order.batch_id.in_(ids_param())).order_by(Order.id)
)
_BATCHES = select(Batch).where(Batch.id.in_(ids_param()))
_LABELS = select(Label).where(Label.id.in_(ids_param()))
_LABELS_OF_ORDERS = select(Label.id).where(
    Label.order_id.in_(ids_param()),
    ~Label.carrier_ref.startswith("return:"),  # house return labels: office only
)
