"""Channels, orders, their lines, the append-only event log, and exceptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow


class Channel(Base):
    """A storefront or entry path. Its webhook secret is in service.secrets_store, by secret_ref."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # shopify | woocommerce | operator | csv
    name: Mapped[str] = mapped_column(String(64), unique=True)
    secret_ref: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(Base):
    """One customer order in the internal model. Only service.lifecycle changes `status`."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "channel_order_id", name="uq_orders_channel_order"),
        Index("ix_orders_status_created", "status", "created_at"),
        # Supervisor batch progress counts a batch's orders by status (index-only when vacuumed).
        Index("ix_orders_batch_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # ORD-100123, on barcodes
    # Indexed by uq_orders_channel_order (channel_id first).
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    channel_order_id: Mapped[str] = mapped_column(String(64))
    channel_order_name: Mapped[str] = mapped_column(String(64), default="", index=True)  # "#1001"
    status: Mapped[str] = mapped_column(String(20))  # indexed by ix_orders_status_created
    held_from: Mapped[str | None] = mapped_column(String(20))  # status before on_hold
    hold_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    payment_state: Mapped[str] = mapped_column(String(20))  # pending|paid|cod|refunded|voided
    payment_method: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # email, phone and channel_order_name are indexed: the console finds orders by them.
    email: Mapped[str] = mapped_column(String(200), default="", index=True)
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)  # E.164
    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_company: Mapped[str] = mapped_column(String(200), default="")
    ship_street1: Mapped[str] = mapped_column(String(200), default="")
    ship_street2: Mapped[str] = mapped_column(String(200), default="")
    ship_postcode: Mapped[str] = mapped_column(String(20), default="")
    ship_city: Mapped[str] = mapped_column(String(100), default="")
    ship_region: Mapped[str] = mapped_column(String(100), default="")
    ship_country: Mapped[str] = mapped_column(String(2), default="", index=True)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal, 1 high, 2 express
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    service: Mapped[str] = mapped_column(String(40), default="")
    # The carrier's id of the pickup point / locker the customer chose ("" = home delivery).
    pickup_point: Mapped[str] = mapped_column(String(64), default="", server_default="")
    pickup_point_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The language the customer's papers print in (sync.languages code): the shop's locale
    # for the order, else the destination country's. None: an order from before 0019.
    language: Mapped[str | None] = mapped_column(String(8))
    # Indexed by ix_orders_batch_status (batch_id first).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    tote: Mapped[str | None] = mapped_column(String(32), index=True)
    lease_epoch: Mapped[int] = mapped_column(Integer, default=0)  # fencing, grows on every grant
    version: Mapped[int] = mapped_column(Integer, default=1)
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The channel's own last-modified time of the order as of the delivery applied last.
    channel_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderLine.line_no",
        lazy="selectin",
    )
    channel: Mapped[Channel] = relationship(lazy="joined")


class OrderLine(Base):
    """One line of an order: a SKU and how many."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    channel_line_id: Mapped[str] = mapped_column(String(64), default="")

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(Base):
    """Append-only audit log: every status change and every packing fact, with who and when."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order_at", "order_id", "at"),
        # Supervisor figures read one kind of event over a time range (packs of the last hour).
        Index("ix_order_events_type_at", "type", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))  # indexed by ix_order_events_type_at
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(100))  # "user:3", "station:2", "webhook:shop"
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OrderException(Base):
    """Something a person must look at: a validation hold, a stuck order, a carrier error."""

    __tablename__ = "order_exceptions"
    __table_args__ = (
        Index("ix_order_exceptions_open", "resolved_at", "kind"),
        # Supervisor overview: the shift's weight overrides, and whether a rejected mutation
        # has been resolved (looked up by its "mutation:<station>:<id>" code).
        Index("ix_order_exceptions_kind_created", "kind", "created_at"),
        Index("ix_order_exceptions_kind_code", "kind", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # validation|stuck|hold|carrier|weight|rejected
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)


class WebhookReceipt(Base):
    """One delivered webhook, kept so a replay is answered 200 and applied nothing twice.

    A delivery the service could not apply while the shop waited (service.ingest.inbox) is
    stored here first with outcome "queued" and its raw `body`; the inbox applies it later
    and sets the outcome, the order and clears the body in the same transaction.
    """

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        UniqueConstraint("channel_id", "webhook_id", name="uq_webhook_receipt"),
        # The inbox's queue, in order and per order (service.ingest.inbox): only queued rows
        # are indexed, so both stay small at any history.
        Index(
            "ix_webhook_receipts_queued",
            "id",
            postgresql_where=text("outcome = 'queued'"),
            sqlite_where=text("outcome = 'queued'"),
        ),
        Index(
            "ix_webhook_receipts_queued_order",
            "channel_id",
            "channel_order_id",
            "id",
            postgresql_where=text("outcome = 'queued'"),
            sqlite_where=text("outcome = 'queued'"),
        ),
        # Deliveries the inbox could not apply, per channel, for the console and the CLI.
        Index(
            "ix_webhook_receipts_failed",
            "channel_id",
            "id",
            postgresql_where=text("outcome = 'failed'"),
            sqlite_where=text("outcome = 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    webhook_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(60))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    # The channel's order id the delivery names (kept for every order delivery; the inbox
    # applies one order's queued deliveries in the order they came).
    channel_order_id: Mapped[str | None] = mapped_column(String(64))
    # A queued delivery's raw body (what its signature covered); NULL once applied.
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Why a queued delivery could not be applied (outcome "failed"); it keeps its body.
    error: Mapped[str | None] = mapped_column(String(300))


# The console finds customers by the start of their name, in any case: an index on
# lower(ship_name) that PostgreSQL can use for LIKE 'prefix%' whatever the collation.
Index(
    "ix_orders_ship_name_lower",
    func.lower(Order.ship_name).label("ship_name_lower"),
    postgresql_ops={"ship_name_lower": "varchar_pattern_ops"},
)
