"""Server side of sync protocol v1: leases, stored mutation results, the change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class Lease(Base):
    """The current claim on an order: one row per order, re-granted with a higher epoch."""

    __tablename__ = "leases"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    claim_id: Mapped[int] = mapped_column(Integer, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    epoch: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StationMutation(Base):
    """The stored result of one station mutation, so a retried push gets the same answer."""

    __tablename__ = "station_mutations"
    # The supervisor lists the shift's rejected mutations out of every stored result.
    __table_args__ = (Index("ix_station_mutations_status_applied", "status", "applied_at"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    mutation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(10))  # applied | rejected
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the station recorded it
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# A 64-bit id that is still SQLite's rowid alias (so it autoincrements there too).
_ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class ChangeCounter(Base):
    """The highest change number handed out; its row lock serialises numbering runs."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeRow(Base):
    """The pull feed: entity X changed, with change number `seq` once numbered.

    Writers insert rows without a number; service.changes.number_changes numbers committed
    rows in one short transaction before a station pulls (see that module for why).
    """

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_entity", "entity", "entity_id"),
        Index(
            "ix_changes_unnumbered",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    entity: Mapped[str] = mapped_column(String(20))  # order|product|user|batch|label
    entity_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: every station
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Claim(Base):
    """One claim request of a station (an order or a whole batch); its leases share claim_id."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
