"""Packers, supervisors and operator API tokens."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.db import utcnow
from service.errors import Conflict, NotFound, ValidationFailed
from service.languages import language_code
from service.models import (
    ApiToken,
    OfficeAudit,
    Order,
    Product,
    ProductAlias,
    ProductGtin,
    Station,
    User,
)
from service.security import hash_pin, new_token, token_hash


class UserRole(StrEnum):
    """Who logs in at a station."""

    PACKER = "packer"
    SUPERVISOR = "supervisor"


class TokenRole(StrEnum):
    """Who calls the operator API."""

    ADMIN = "admin"
    OPERATOR = "operator"


# Six digits at least: with the service's lockout (service.pins) an online guesser gets 5
# tries per 15 minutes, and no pull carries anything to guess against offline.
MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 12


def user_role(role: str) -> str:
    """A station user's role as stored, or ValidationFailed."""
    try:
        return UserRole(role).value
    except ValueError:
        raise ValidationFailed(
            f"Unknown role {role!r}: use packer or supervisor.", field="role"
        ) from None


def check_pin(pin: str) -> str:
    """A PIN as stored before hashing (6-12 ASCII digits), or ValidationFailed."""
    if not (pin.isdigit() and pin.isascii() and MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH):
        raise ValidationFailed(f"A PIN is {MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits.", field="pin")
    return pin


def add_user(
    session: Session,
    *,
    name: str,
    role: str,
    badge: str,
    pin: str | None = None,
    language: str | None = None,
) -> User:
    """Create a user; the badge must be unique and a PIN, if given, 6-12 digits."""
    name = name.strip()
    badge = badge.strip()
    if not name:
        raise ValidationFailed("A user needs a name.", field="name")
    if len(name) > 100:
        raise ValidationFailed("A name is at most 100 characters.", field="name")
    role = user_role(role)
    if not badge or len(badge) > 64 or not badge.isprintable():
        raise ValidationFailed("A badge code is 1-64 printable characters.", field="badge")
    if pin is not None:
        check_pin(pin)
    language = language_code(language)
    collision = badge_collision(session, badge)
    if collision is not None:
        raise Conflict(
            f"Badge {badge} is {collision}: a scan of it would not be taken for a badge. "
            "Give the user another code.",
            field="badge",
        )
    existing = session.scalar(select(User).where(User.badge == badge))
    if existing is not None:
        raise Conflict(
            f"Badge {badge} already belongs to {existing.name} (user {existing.id}).",
            field="badge",
        )
    user = User(
        name=name,
        role=role,
        badge=badge,
        pin_hash=hash_pin(pin) if pin is not None else None,
        active=True,
        language=language,
    )
    session.add(user)
    session.flush()
    mark_changed(session, "user", user.id)  # stations learn of the new user on their next pull
    return user


def find_user(session: Session, who: str) -> User:
    """A user by id or badge code, or NotFound."""
    user = session.get(User, int(who)) if who.isdigit() else None
    user = user or session.scalar(select(User).where(User.badge == who.strip()))
    if user is None:
        raise NotFound(f"No user with id or badge {who!r}.", field="user")
    return user


def set_user_active(session: Session, who: str, active: bool) -> User:
    """Let a user log in again, or stop them at every station from their next pull on."""
    user = find_user(session, who)
    if user.active != active:
        user.active = active
        session.flush()
        mark_changed(session, "user", user.id)
    return user


def update_user(
    session: Session,
    who: str,
    *,
    role: str | None = None,
    language: str | None = None,
    pin: str | None = None,
) -> tuple[User, list[str]]:
    """Change a user's role, language ("" = the site's) or PIN (a new PIN also lifts a
    lock-out); returns the user and what changed (never the PIN itself)."""
    user = find_user(session, who)
    changed: list[str] = []
    if role is not None and user_role(role) != user.role:
        user.role = user_role(role)
        changed.append("role")
    if language is not None and language_code(language) != user.language:
        user.language = language_code(language)
        changed.append("language")
    if pin is not None:
        user.pin_hash = hash_pin(check_pin(pin))
        user.pin_failures = 0
        user.pin_locked_until = None
        changed.append("pin")
    if changed:
        session.flush()
        mark_changed(session, "user", user.id)  # stations take the new role/PIN on their pull
    return user, changed


def set_language_at_station(
    session: Session, payload: Any, *, station_id: int, mutation_id: int
) -> dict[str, Any]:
    """A person chose their language at a bench (`user_language_set`, sync.protocol): kept on
    the user and audited, so every station speaks it to them from its next pull. An unknown
    code or a user who may not log in at that station is refused, nothing changed. A repeated
    push never reaches here twice (the push answers it from the stored result)."""
    user = session.get(User, int(payload.user_id))
    allowed = user is not None and (
        user.station_ids is None or station_id in (user.station_ids or [])
    )
    if user is None or not allowed:
        raise NotFound(f"User {payload.user_id} may not log in at this station.", field="user")
    language = language_code(payload.language)
    before = user.language
    if language != before:
        user.language = language
        mark_changed(session, "user", user.id)
        station = session.get(Station, station_id)
        session.add(
            OfficeAudit(
                office_user_id=None,
                actor=f"station:{station.name if station else station_id}",
                action="user_language_set",
                target=str(user.id),
                reason="chosen at the bench",
                details={
                    "name": user.name,
                    "language": language,
                    "before": before,
                    "station_id": station_id,
                    "mutation_id": mutation_id,
                },
                at=utcnow(),
            )
        )
    return {"user_id": user.id, "language": language, "changed": language != before}


def list_tokens(session: Session) -> list[ApiToken]:
    """Every operator/admin token (hashes only), oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Refuse a token from now on; revoking twice is harmless."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"No API token with id {token_id}.", field="token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def create_token(session: Session, *, role: str, name: str = "") -> tuple[ApiToken, str]:
    """A new operator/admin token: the row (hash only) and the token, to be shown once."""
    try:
        role = TokenRole(role).value
    except ValueError:
        raise ValidationFailed(
            f"Unknown token role {role!r}: use admin or operator.", field="role"
        ) from None
    token = new_token()
    row = ApiToken(token_hash=token_hash(token), role=role, name=name.strip()[:100])
    session.add(row)
    session.flush()
    return row, token


def badge_collision(session: Session, badge: str) -> str | None:
    """What else `badge` already means at a station (a product, order or command), or None."""
    key = badge.strip().upper()
    if key.startswith("PB:"):
        return "a command barcode (PB:...)"
    product = session.scalar(select(Product.sku).where(func.upper(Product.sku) == key))
    if product is None:
        product = session.scalar(
            select(Product.sku)
            .join(ProductAlias, ProductAlias.product_id == Product.id)
            .where(func.upper(ProductAlias.code) == key)
        )
    if product is None and key.isdigit() and len(key) in (8, 12, 13, 14):
        product = session.scalar(
            select(Product.sku)
            .join(ProductGtin, ProductGtin.product_id == Product.id)
            .where(ProductGtin.gtin14 == key.zfill(14))
        )
    if product is not None:
        return f"a code of product {product}"
    order = session.scalar(
        select(Order.number).where(
            (func.upper(Order.number) == key) | (func.upper(Order.tote) == key)
        )
    )
    if order is not None:
        return f"the order number or tote of order {order}"
    return None
