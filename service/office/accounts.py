"""Office user accounts: add, list, disable, and check a password with a growing delay.

Passwords are stored only as argon2id hashes (the same KDF and cost as PINs, OWASP's
minimum for argon2id). Every wrong password on an account makes the next attempt
wait longer; an unknown e-mail costs the same hash and gets the same answer as a wrong
password, so the sign-in page does not reveal who has an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Conflict, NotFound, ValidationFailed
from service.models import OfficeUser

_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified when the e-mail is unknown, so both answers take as long.
_DUMMY_HASH = _HASHER.hash("not a password anybody has")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
FREE_FAILURES = 2  # typos: the first two wrong passwords cost nothing
MAX_DELAY = timedelta(minutes=15)


class OfficeRole(StrEnum):
    """What an office user may do in the console."""

    VIEWER = "viewer"  # reads everything
    OPERATOR = "operator"  # acts on orders, exceptions, batches, the catalogue
    ADMIN = "admin"  # also closes the carriers' day and manages channels


RANK = {OfficeRole.VIEWER: 0, OfficeRole.OPERATOR: 1, OfficeRole.ADMIN: 2}


def may(role: str, needed: OfficeRole) -> bool:
    """Whether `role` is at least `needed`."""
    try:
        return RANK[OfficeRole(role)] >= RANK[needed]
    except ValueError:
        return False


def retry_delay(failures: int) -> timedelta:
    """How long an account waits after `failures` wrong passwords in a row."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


def normalise_email(email: str) -> str:
    """E-mail addresses are matched trimmed and lower case."""
    return email.strip().lower()


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password is {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters.",
            field="password",
        )


def add_office_user(
    session: Session, *, email: str, name: str, role: str, password: str
) -> OfficeUser:
    """Create an office user; the e-mail must be new and the password long enough."""
    email = normalise_email(email)
    name = name.strip()
    if "@" not in email or len(email) > 200 or not email.isprintable() or " " in email:
        raise ValidationFailed(f"{email!r} is not an e-mail address.", field="email")
    if not name or len(name) > 100:
        raise ValidationFailed("A name is 1-100 characters.", field="name")
    try:
        role = OfficeRole(role).value
    except ValueError:
        raise ValidationFailed(
            f"Unknown role {role!r}: use viewer, operator or admin.", field="role"
        ) from None
    _check_password(password)
    if session.scalar(select(OfficeUser.id).where(OfficeUser.email == email)) is not None:
        raise Conflict(f"There is already an office user {email}.", field="email")
    user = OfficeUser(
        email=email, name=name, role=role, password_hash=_HASHER.hash(password), active=True
    )
    session.add(user)
    session.flush()
    return user


def list_office_users(session: Session) -> list[OfficeUser]:
    """Every office user, by e-mail."""
    return list(session.scalars(select(OfficeUser).order_by(OfficeUser.email)))


def set_office_user_active(session: Session, email: str, active: bool) -> OfficeUser:
    """Disable (or enable) an account; a disabled account's sessions stop at once."""
    user = session.scalar(select(OfficeUser).where(OfficeUser.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No office user {normalise_email(email)}.", field="email")
    user.active = active
    session.flush()
    return user


@dataclass(frozen=True)
class SignInRefused:
    """Why a sign-in failed: `wait` is set when the account must wait before trying again."""

    message: str
    wait: timedelta | None = None


def authenticate(
    session: Session, email: str, password: str, now: datetime | None = None
) -> OfficeUser | SignInRefused:
    """The user if the password is right and the account may try now; else why not.

    The caller commits either way: a wrong password is counted.
    """
    now = now or utcnow()
    wrong = SignInRefused("Wrong e-mail or password.")
    user = session.scalar(
        select(OfficeUser)
        .where(OfficeUser.email == normalise_email(email))
        .with_for_update(of=OfficeUser)
    )
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return wrong
    if user.last_failed_at is not None:
        ready = user.last_failed_at + retry_delay(user.failed_attempts)
        if now < ready:
            # Not even checked: a guesser learns nothing until the wait is over.
            return SignInRefused("Too many wrong passwords for this account.", ready - now)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        user.last_failed_at = now
        delay = retry_delay(user.failed_attempts)
        return SignInRefused(wrong.message, delay if delay else None)
    user.failed_attempts = 0
    user.last_failed_at = None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
