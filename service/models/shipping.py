"""Parcels and carrier labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class Parcel(Base):
    """One box of an order as packed at a station."""

    __tablename__ = "parcels"
    __table_args__ = (UniqueConstraint("order_id", "box_no", name="uq_parcel_box"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    box_no: Mapped[int] = mapped_column(Integer)
    box_type: Mapped[str] = mapped_column(String(20), default="")
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="open")
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Label(Base):
    """A carrier label made ahead of packing, valid for a weight band."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    parcel_no: Mapped[int] = mapped_column(Integer, default=1)
    parcel_count: Mapped[int] = mapped_column(Integer, default=1)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))  # zpl | pdf | png
    content: Mapped[bytes] = mapped_column(LargeBinary)
    weight_min_grams: Mapped[int] = mapped_column(Integer)
    weight_max_grams: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="ready")  # ready|printed|cancelled
    carrier_ref: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CarrierCounter(Base):
    """The last number a local carrier handed out (row-locked per allocation, never reused)."""

    __tablename__ = "carrier_counters"

    carrier: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
