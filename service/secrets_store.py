"""Service secrets (webhook secrets, carrier credentials) in the OS keyring, never the DB.

The database stores only a reference (`secret_ref`). On a server, configure a keyring
backend with the standard `PYTHON_KEYRING_BACKEND` mechanism (see packaging/service/).
"""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError

log = logging.getLogger(__name__)

SERVICE_NAME = "packbench-service"


class SecretUnavailable(Exception):
    """The keyring has no such secret or cannot be used; the message says how to fix it."""


def put_secret(ref: str, value: str) -> None:
    """Store a secret under `ref` in the keyring."""
    try:
        keyring.set_password(SERVICE_NAME, ref, value)
        _cache[ref] = value
    except KeyringError as exc:
        raise SecretUnavailable(
            f"Could not store the secret {ref!r} in the keyring ({type(exc).__name__}). "
            "Configure a keyring backend, e.g. set PYTHON_KEYRING_BACKEND."
        ) from exc


_cache: dict[str, str] = {}


def get_secret(ref: str) -> str:
    """The secret stored under `ref` (cached in memory; webhooks verify on every request)."""
    if ref in _cache:
        return _cache[ref]
    try:
        value = keyring.get_password(SERVICE_NAME, ref)
    except KeyringError as exc:
        raise SecretUnavailable(f"The keyring cannot be read ({type(exc).__name__}).") from exc
    if value is None:
        raise SecretUnavailable(f"No secret {ref!r} in the keyring.")
    _cache[ref] = value
    return value


def forget_cached_secrets() -> None:
    """Drop the in-memory cache (after a secret is rotated, and between tests)."""
    _cache.clear()
