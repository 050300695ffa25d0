"""PIN checks at the service: lockout after wrong tries, supervisor sessions, pull verifiers.

A wrong PIN counts against the user; after MAX_PIN_FAILURES in a row the PIN is locked for
PIN_LOCKOUT, whatever is typed. A supervisor who signs in with badge + PIN gets a session
(random token, only its hash stored) bound to the station it signed in at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import ServiceError, Unauthorized
from service.models import Station, SupervisorSession, User
from service.security import new_token, token_hash, verify_pin
from sync import pins
from sync.protocol import PinCheck, SupervisorSessionOut

MAX_PIN_FAILURES = 5
PIN_LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=20)  # a session unused this long ends
SESSION_MAX = timedelta(hours=10)  # and none outlives a shift

# One answer for an unknown badge, a wrong PIN, a packer's badge or a badge not allowed here:
# an honest supervisor retypes; a guesser learns nothing about which part was wrong.
NOT_ACCEPTED = "Badge or PIN not accepted. Scan the badge and type the PIN again."


class PinLocked(ServiceError):
    """Too many wrong PINs in a row: locked for a while, whatever is typed."""

    code = "pin_locked"
    http_status = 429


def check_user_pin(session: Session, user: User, pin: str, now: datetime) -> bool:
    """Whether `pin` is the user's; counts failures and raises PinLocked while locked.

    The caller commits (also after a wrong PIN, so the failure count sticks).
    """
    if user.pin_locked_until is not None and user.pin_locked_until > now:
        raise PinLocked(f"Too many wrong PINs. Try again after {user.pin_locked_until:%H:%M} UTC.")
    if user.pin_hash and verify_pin(user.pin_hash, pin):
        user.pin_failures = 0
        user.pin_locked_until = None
        return True
    user.pin_failures = (user.pin_failures or 0) + 1
    if user.pin_failures >= MAX_PIN_FAILURES:
        user.pin_failures = 0
        user.pin_locked_until = now + PIN_LOCKOUT
    session.flush()
    return False


def sign_in(
    session: Session, station: Station, badge: str, pin: str
) -> SupervisorSessionOut | None:
    """A supervisor session at `station` for a badge + PIN; None for any mismatch.

    None rather than an exception: the caller commits first, so a wrong PIN still counts.
    """
    now = utcnow()
    user = session.scalar(select(User).where(User.badge == badge.strip()).with_for_update())
    if user is None or not user.active:
        return None
    right = check_user_pin(session, user, pin, now)
    allowed = user.station_ids is None or station.id in user.station_ids
    if not right or user.role != "supervisor" or not allowed:
        return None
    token = new_token()
    row = SupervisorSession(
        token_hash=token_hash(token),
        user_id=user.id,
        station_id=station.id,
        created_at=now,
        expires_at=now + SESSION_IDLE,
    )
    session.add(row)
    session.flush()
    return SupervisorSessionOut(
        session=token, user_id=user.id, name=user.name, expires_at=row.expires_at
    )


def session_user(session: Session, station: Station, token: str) -> User:
    """The supervisor of a live session at this station (renewed on use), or 401."""
    now = utcnow()
    row = session.scalar(
        select(SupervisorSession).where(SupervisorSession.token_hash == token_hash(token))
    )
    if (
        row is None
        or row.station_id != station.id
        or row.ended_at is not None
        or row.expires_at <= now
    ):
        raise Unauthorized(
            "The supervisor session is unknown or has expired. "
            "Scan the supervisor badge and type the PIN again."
        )
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.role != "supervisor":
        raise Unauthorized("This supervisor may no longer act. Ask an admin.")
    renewed = min(now + SESSION_IDLE, row.created_at + SESSION_MAX)
    if renewed - row.expires_at > timedelta(minutes=1):  # not a write on every poll
        row.expires_at = renewed
    return user


def end_session(session: Session, station: Station, token: str) -> None:
    """End a session (supervisor logged out); unknown tokens are ignored."""
    row = session.scalar(
        select(SupervisorSession).where(SupervisorSession.token_hash == token_hash(token))
    )
    if row is not None and row.station_id == station.id and row.ended_at is None:
        row.ended_at = utcnow()


def pin_check(pin_hash: str | None, station_public_key: str | None) -> PinCheck | None:
    """What a pull carries about a user's PIN: parameters and a verifier sealed to the station."""
    split = pins.split_pin_hash(pin_hash) if pin_hash else None
    if split is None:
        return None
    params, key = split
    sealed = pins.seal(station_public_key, pins.verifier(key)) if station_public_key else None
    return PinCheck(
        salt=pins.b64(params.salt),
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        sealed_verifier=sealed,
    )


def pin_key_of(user: User) -> bytes | None:
    """K of the user's current PIN (for checking override proofs), or None without a PIN."""
    split = pins.split_pin_hash(user.pin_hash) if user.pin_hash else None
    return split[1] if split else None
