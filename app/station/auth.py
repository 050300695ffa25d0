"""PIN checks made offline against the synced argon2 hashes."""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)
_HASHER = PasswordHasher()


def check_pin(pin_hash: str | None, pin: str) -> bool:
    """Whether `pin` matches the stored hash; a missing or malformed hash never matches."""
    if not pin_hash or not pin:
        return False
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
    except Exception:  # a corrupt hash must read as "wrong PIN", never crash the login
        log.exception("PIN hash could not be checked")
        return False
