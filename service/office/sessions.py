"""Console sign-in sessions: a random token in the cookie, its hash in `office_sessions`.

A session ends after IDLE without a request, at the latest ABSOLUTE after sign-in, at
sign-out, or when its user is disabled. The CSRF token of a session is an HMAC of the
session token: bound to it, never stored, unknowable without the HttpOnly cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import OfficeAudit, OfficeSession, OfficeUser
from service.security import constant_time_equal, new_token, token_hash

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class SignedIn:
    """The office user behind a request, and the session's CSRF token for its forms."""

    user_id: int
    email: str
    name: str
    role: str
    session_id: int
    csrf: str
    language: str | None = None  # their own choice for the console; None: the browser's

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"office:{self.email}"

    @property
    def station_id(self) -> int | None:
        """Office users act from no bench."""
        return None

    def facts(self, action: str, reason: str, **extra: Any) -> dict[str, Any]:
        """The payload of an order event recording one of their actions."""
        return {
            "action": action,
            "reason": reason,
            "office_user_id": self.user_id,
            "office_user": self.email,
            **extra,
        }


def csrf_token(session_token: str) -> str:
    """The CSRF token that goes with a session token."""
    return hmac.new(session_token.encode(), b"packbench-console-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, sent: str) -> bool:
    """Whether a form's CSRF token belongs to the session."""
    return bool(sent) and constant_time_equal(csrf_token(session_token), sent)


def start_session(session: Session, user: OfficeUser, now: datetime | None = None) -> str:
    """Open a session for `user`; returns the token for the cookie (shown nowhere else)."""
    now = now or utcnow()
    token = new_token()
    session.add(
        OfficeSession(
            token_hash=token_hash(token),
            office_user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
        )
    )
    session.flush()
    return token


def current(session: Session, token: str, now: datetime | None = None) -> SignedIn | None:
    """The signed-in user of a cookie token, or None (unknown, ended, idle, expired, disabled)."""
    if not token:
        return None
    now = now or utcnow()
    row = session.execute(
        select(OfficeSession, OfficeUser)
        .join(OfficeUser, OfficeUser.id == OfficeSession.office_user_id)
        .where(OfficeSession.token_hash == token_hash(token), OfficeSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    office_session, user = row
    if not user.active or now >= office_session.expires_at:
        return None
    if now >= office_session.last_seen_at + IDLE:
        return None
    if now >= office_session.last_seen_at + TOUCH_EVERY:
        office_session.last_seen_at = now
    return SignedIn(
        user.id,
        user.email,
        user.name,
        user.role,
        office_session.id,
        csrf_token(token),
        user.language,
    )


def end_session(session: Session, token: str, now: datetime | None = None) -> None:
    """Sign out: the token no longer opens anything."""
    row = session.scalar(select(OfficeSession).where(OfficeSession.token_hash == token_hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now or utcnow()


def audit(
    session: Session,
    who: SignedIn | None,
    action: str,
    *,
    target: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
    actor: str = "",
    user_id: int | None = None,
) -> OfficeAudit:
    """Record one thing an office user did (or, without `who`, an attempt by `actor`)."""
    row = OfficeAudit(
        office_user_id=who.user_id if who else user_id,
        actor=who.actor if who else actor,
        action=action,
        target=target[:100],
        reason=reason,
        details=dict(details or {}),
        at=utcnow(),
    )
    session.add(row)
    return row
