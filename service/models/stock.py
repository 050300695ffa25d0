"""The stock ledger (append-only movements), its per-location balance, and returns (RMAs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, utcnow


class StockMovement(Base):
    """One movement of stock: never updated, never deleted. The ledger is the truth.

    `on_hand_delta` moves physical units; `allocated_delta` moves units promised to orders.
    A movement caused by an order event is keyed by (order, event, product, location), so the
    same event applied twice moves stock once.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (
        UniqueConstraint(
            "order_id", "event_key", "product_id", "location", name="uq_stock_movement_event"
        ),
        Index("ix_stock_movements_product_location", "product_id", "location"),
        Index("ix_stock_movements_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location: Mapped[str] = mapped_column(String(32))
    # received|allocated|released|shipped|returned_to_stock|b_grade|written_off|counted|adjusted
    kind: Mapped[str] = mapped_column(String(20))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    allocated_delta: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    event_key: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockBalance(Base):
    """The running totals of one product at one location, written only with a movement.

    Updated in the movement's transaction under a row lock; `stock check` recomputes it from
    the ledger. A product has stock tracked once it has a balance row.
    """

    __tablename__ = "stock_balances"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    location: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Return(Base):
    """A return (RMA) of an order: expected -> received -> inspected -> closed."""

    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("order_id", "channel_return_id", name="uq_returns_channel_return"),
        Index("ix_returns_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # RMA-000123, on barcodes
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))  # operator | shopify | bench
    channel_return_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[ReturnLine]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnLine.id", lazy="selectin"
    )
    units: Mapped[list[ReturnUnit]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnUnit.id", lazy="selectin"
    )


class ReturnLine(Base):
    """A line expected back: which order line, how many."""

    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)


class ReturnUnit(Base):
    """One unit received back, and what was done with it (its disposition)."""

    __tablename__ = "return_units"
    __table_args__ = (UniqueConstraint("return_id", "unit_key", name="uq_return_unit_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    unit_key: Mapped[str] = mapped_column(String(80))  # who recorded it: idempotency key
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    disposition: Mapped[str] = mapped_column(String(20))  # restock|b_grade|write_off|missing
    reason_code: Mapped[str] = mapped_column(String(40), default="")
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
