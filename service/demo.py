"""Demo data: a catalogue, three channels, ~200 orders, batches, a station and users.

Deterministic (fixed random seed; times are relative to when it runs). Every order enters
as `pending` and reaches its status through service.lifecycle, so its history is real.
Seeding an already-seeded database does nothing; a database with other orders is refused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.batching import BatchRule, ItemMix, assign_batch, create_batches
from service.channels import add_channel
from service.db import utcnow
from service.demo_catalogue import (
    ADDRESSES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    LAST_NAMES,
    PRICES,
    PRODUCTS,
)
from service.errors import Conflict
from service.lifecycle import OrderStatus, hold, transition
from service.models import Batch, Channel, Order, OrderLine, Product, ProductGtin, Station
from service.users import add_user

SEED = 20261129
DEMO_SECRET = "packbench-demo-webhook-secret"  # noqa: S105 - public on purpose, demo only
DEMO_STATION = "demo-station"
ACTOR = "seed-demo"
CHANNELS = [("demo-shopify", "shopify"), ("demo-woocommerce", "woocommerce"), ("b2b", "operator")]
ORDER_COUNT = 200
FIRST_NUMBER = 100001
HOLD_REASONS = [
    ("address_unverified", "The street number is missing; check the address with the customer."),
    ("payment_review", "The payment was flagged for review by the shop."),
    ("customer_request", "The customer asked us to wait for a second order."),
]


@dataclass
class SeedReport:
    """What seed-demo created (or that it found the demo already there)."""

    already_seeded: bool = False
    products: int = 0
    orders: int = 0
    batches: list[str] = field(default_factory=list)
    webhook_secret: str = DEMO_SECRET


def gtin13(body12: str) -> str:
    """A GTIN-13 with its check digit (weights 1,3,1,3... from the left)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def seed_demo(session: Session, *, now: datetime | None = None) -> SeedReport:
    """Fill an empty database with the demo; a no-op when the demo is already there."""
    now = now or utcnow()
    if session.scalar(select(Channel.id).where(Channel.name == CHANNELS[0][0])) is not None:
        return SeedReport(already_seeded=True)
    orders_present = session.scalar(select(func.count()).select_from(Order)) or 0
    if orders_present:
        raise Conflict(
            f"This database already has {orders_present} orders; seed-demo only fills an "
            "empty database. Use a fresh --db."
        )
    rng = random.Random(SEED)
    products = _products(session)
    channels = [
        add_channel(session, kind, name, secret=DEMO_SECRET if kind != "operator" else None)
        for name, kind in CHANNELS
    ]
    station = session.scalar(select(Station).where(Station.name == DEMO_STATION))
    if station is None:
        station = Station(name=DEMO_STATION)
        session.add(station)
    for name, role, badge, pin in [
        ("Alex Packer", "packer", "BADGE-P001", None),
        ("Robin Packer", "packer", "BADGE-P002", None),
        ("Sam Supervisor", "supervisor", "BADGE-S001", "123456"),
    ]:
        add_user(session, name=name, role=role, badge=badge, pin=pin)
    orders = [_order(rng, i, channels, products, now) for i in range(ORDER_COUNT)]
    session.add_all(orders)
    session.flush()
    _set_statuses(session, rng, orders)
    batches = _batches(session, station, now)
    return SeedReport(products=len(products), orders=len(orders), batches=[b.code for b in batches])


def _products(session: Session) -> list[Product]:
    rows = []
    for i, (sku, name, grams, (length, width, height), _price, serial) in enumerate(PRODUCTS):
        product = Product(
            sku=sku,
            name=name,
            weight_grams=grams,
            length_mm=length,
            width_mm=width,
            height_mm=height,
            serial_required=serial,
            active=True,
        )
        product.gtins.append(ProductGtin(gtin14="0" + gtin13(f"426012345{i:03d}")))
        rows.append(product)
    session.add_all(rows)
    session.flush()
    return rows


def _order(
    rng: random.Random, i: int, channels: list[Channel], products: list[Product], now: datetime
) -> Order:
    number = FIRST_NUMBER + i
    channel = rng.choices(channels, weights=[55, 35, 10])[0]
    country = rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
    currency, phone_prefix, places = ADDRESSES[country]
    postcode, city, region, street = rng.choice(places)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    express = rng.random() < 0.2
    created = now - timedelta(hours=rng.uniform(0.2, 30))
    # Open orders ship at the next 14:00 UTC (standard) or 16:00 UTC (express) cut-off.
    cutoff = now.replace(hour=16 if express else 14, minute=0, second=0, microsecond=0)
    if cutoff <= now:
        cutoff += timedelta(days=1)
    order = Order(
        number=f"ORD-{number}",
        channel_id=channel.id,
        channel_order_id=_channel_order_id(channel, number),
        channel_order_name=f"#{number - 99000}" if channel.kind == "shopify" else "",
        status=OrderStatus.PENDING.value,
        currency=currency,
        payment_state="pending"
        if channel.kind == "operator"
        else rng.choice(["paid"] * 9 + ["cod"]),
        email=f"{first}.{last}@example.com".lower().replace(" ", ""),
        phone=f"{phone_prefix}{rng.randrange(1000000, 9999999)}",
        ship_name=f"{first} {last}",
        ship_company="Atelier Nord GmbH" if channel.kind == "operator" else "",
        ship_street1=f"{street} {rng.randrange(1, 180)}",
        ship_postcode=postcode,
        ship_city=city,
        ship_region=region,
        ship_country=country,
        priority=2 if express else rng.choice([0] * 9 + [1]),
        cutoff_at=cutoff,
        carrier="house",
        service="express" if express else "standard",
        ordered_at=created - timedelta(minutes=rng.randrange(1, 30)),
        created_at=created,
        updated_at=created,
        status_changed_at=created,
    )
    lines = rng.choices([1, 1, 1, 2, 2, 3, 4, 5], k=1)[0]
    for line_no, product in enumerate(rng.sample(products, lines), start=1):
        qty = rng.choice([1] * 6 + [2, 3])
        order.lines.append(
            OrderLine(
                line_no=line_no,
                sku=product.sku,
                product_id=product.id,
                name=product.name,
                quantity=qty,
                unit_price=PRICES[product.sku],
                channel_line_id=f"{number}-{line_no}",
            )
        )
    order.total_amount = sum(
        (ln.unit_price * ln.quantity for ln in order.lines), start=Decimal("0")
    )
    return order


def _channel_order_id(channel: Channel, number: int) -> str:
    if channel.kind == "shopify":
        return str(5_400_000_000 + number)
    if channel.kind == "woocommerce":
        return str(number - 90000)
    return f"PO-2026-{number - FIRST_NUMBER + 1:04d}"


def _set_statuses(session: Session, rng: random.Random, orders: list[Order]) -> None:
    for order in orders:
        roll = rng.random()
        if roll < 0.12:
            continue  # still pending: waiting for validation or payment
        if roll < 0.20:
            code, message = rng.choice(HOLD_REASONS)
            hold(session, order, [{"code": code, "message": message}], actor=ACTOR)
            continue
        transition(session, order, OrderStatus.CONFIRMED, actor=ACTOR, reason="validated")


def _batches(session: Session, station: Station, now: datetime) -> list[Batch]:
    session.flush()
    made = create_batches(
        session, BatchRule(service="express", max_orders=12, limit=12), actor=ACTOR, now=now
    )
    made += create_batches(
        session,
        BatchRule(service="standard", items=ItemMix.SINGLE, max_orders=20, limit=20),
        actor=ACTOR,
        now=now,
    )
    made += create_batches(
        session,
        BatchRule(service="standard", items=ItemMix.MULTI, max_orders=15, limit=15),
        actor=ACTOR,
        now=now,
    )
    if made:
        assign_batch(session, made[0].id, station.id, actor=ACTOR)
    tote = 1
    for batch in made[:2]:
        for order in session.scalars(select(Order).where(Order.batch_id == batch.id)):
            order.tote = f"T-{tote:04d}"
            tote += 1
    return made
