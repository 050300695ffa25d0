"""Tokens, codes and PINs: only hashes are stored; secrets are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with modest memory so a station can verify a PIN offline in well under 100 ms.
_PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def new_token() -> str:
    """A random bearer token (shown once, stored only as its hash)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token; a slow KDF is unnecessary for random tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_pin(pin: str) -> str:
    """A slow salted hash of a PIN (argon2id)."""
    return _PIN_HASHER.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether `pin` matches; never raises for a wrong or malformed hash."""
    try:
        return _PIN_HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets without leaking where they differ."""
    ab = a.encode() if isinstance(a, str) else a
    bb = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(ab, bb)
