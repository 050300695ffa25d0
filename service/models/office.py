"""The operations console's people: office users, their sign-in sessions, their audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class OfficeUser(Base):
    """Someone of the operations team who signs in to the console (argon2id password hash)."""

    __tablename__ = "office_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)  # stored lower case
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # viewer | operator | admin
    password_hash: Mapped[str] = mapped_column(String(200))
    # Wrong passwords in a row; each one makes the next attempt wait longer (per account).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The console's language for this person (service.languages); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(16))


class OfficeSession(Base):
    """A signed-in browser: the cookie holds a random token, the row only its hash."""

    __tablename__ = "office_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    office_user_id: Mapped[int] = mapped_column(ForeignKey("office_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute end
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OfficeAudit(Base):
    """One thing an office user did (or tried): who, what, on which target, and why."""

    __tablename__ = "office_audit"
    __table_args__ = (Index("ix_office_audit_action_target", "action", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_user_id: Mapped[int | None] = mapped_column(ForeignKey("office_users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(220))  # "office:ann@example.com"
    action: Mapped[str] = mapped_column(String(40))  # sign_in, close_day, batch_create...
    target: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
