"""Weight history: every accepted parcel weight, and what it teaches (issue 14)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class ParcelWeight(Base):
    """One accepted parcel weight with its contents, from a station's parcel_closed event.

    `learn` is false for typed-in weights and for a box weighed again later (its newer row
    replaces it): those rows are kept as history but teach nothing.
    """

    __tablename__ = "parcel_weights"
    __table_args__ = (
        UniqueConstraint("station_id", "mutation_id", name="uq_parcel_weight_mutation"),
        Index("ix_parcel_weights_contents", "contents_key", "learn", "id"),
        Index("ix_parcel_weights_single_sku", "single_sku", "learn", "id"),
        Index("ix_parcel_weights_box", "order_id", "box_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    mutation_id: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    box_no: Mapped[int] = mapped_column(Integer)
    box_type: Mapped[str] = mapped_column(String(20))
    box_grams: Mapped[int | None] = mapped_column(Integer)  # the empty box, as the station knew
    contents_key: Mapped[str] = mapped_column(String(64))  # sync.contents.contents_key
    contents: Mapped[str] = mapped_column(Text)  # sync.contents.contents_signature
    single_sku: Mapped[str | None] = mapped_column(String(64))  # the one product, if only one
    units: Mapped[int] = mapped_column(Integer)
    grams: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # scale | manual | override
    learn: Mapped[bool] = mapped_column(Boolean)
    weighed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # station time
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeightProfile(Base):
    """Expected weight of one contents set, from its most recent learnable parcels."""

    __tablename__ = "weight_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    contents_key: Mapped[str] = mapped_column(String(64), unique=True)
    contents: Mapped[str] = mapped_column(Text)
    box_type: Mapped[str] = mapped_column(String(20))
    parcels: Mapped[int] = mapped_column(Integer, default=0)
    mean_grams: Mapped[float] = mapped_column(Float, default=0.0)
    stdev_grams: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LearnedUnitWeight(Base):
    """A product weight the service learned from single-product parcels and wrote to it.

    While `products.weight_grams` still equals `grams`, the weight is the learned one and
    keeps following new parcels; once someone sets another weight, theirs stands.
    """

    __tablename__ = "learned_unit_weights"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    grams: Mapped[int] = mapped_column(Integer)
    parcels: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
