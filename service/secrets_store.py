"""Service secrets (webhook secrets, carrier credentials): encrypted in the database, or in
the OS keyring where a desktop keyring exists. Never in a plain file, never on a terminal.

The backend is PACKBENCH_SECRETS_BACKEND:
- `database`: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) ciphertext in the
  `service_secrets` table; the key is read from PACKBENCH_SECRETS_KEY_FILE, or from the systemd
  credential `packbench-secrets-key` ($CREDENTIALS_DIRECTORY, `LoadCredentialEncrypted=`).
  A database dump alone reveals nothing; `packbench-service secrets rotate-key` re-encrypts.
- `keyring`: the OS keyring (python `keyring`); backends that ask for a password on a
  terminal are refused.
Unset: `database` when a key is configured, else the keyring if a real one is available,
else SecretUnavailable naming what to set.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import StoredSecret

if TYPE_CHECKING:
    from cryptography.fernet import Fernet
    from keyring.backend import KeyringBackend

# keyring (with its backends' entry points) and cryptography are imported where a secret is
# first read or written: every `packbench-service` command imports this module, and most
# never touch a secret (about 65 ms of each command's start-up).

SERVICE_NAME = "packbench-service"
BACKEND_ENV = "PACKBENCH_SECRETS_BACKEND"
KEY_FILE_ENV = "PACKBENCH_SECRETS_KEY_FILE"
CREDENTIAL_NAME = "packbench-secrets-key"
BACKENDS = ("database", "keyring")
NOT_CONFIGURED = (
    "No secret store is configured. On a server set PACKBENCH_SECRETS_KEY_FILE to a key file "
    "(`packbench-service secrets new-key --out FILE`) or load the systemd credential "
    f"{CREDENTIAL_NAME} (LoadCredentialEncrypted=); on a desktop with a keyring set "
    "PACKBENCH_SECRETS_BACKEND=keyring."
)
# Keyring backends that fall back to asking for a password on the terminal.
_PROMPTING = ("keyrings.cryptfile", "keyrings.alt.file.EncryptedKeyring")


class SecretUnavailable(Exception):
    """A secret cannot be stored or read; the message says what to set, never the secret."""


@dataclass(frozen=True)
class SecretsKey:
    """A Fernet key and its id (a fingerprint stored next to each ciphertext)."""

    fernet: Fernet
    key_id: str
    source: str

    @classmethod
    def from_bytes(cls, raw: bytes, source: str) -> SecretsKey:
        """Parse a key file's contents; SecretUnavailable if it is not a Fernet key."""
        from cryptography.fernet import Fernet

        text = raw.strip()
        try:
            fernet = Fernet(text)
        except ValueError:
            raise SecretUnavailable(
                f"The secrets key in {source} is not a Fernet key (44 URL-safe base64 "
                "characters); create one with `packbench-service secrets new-key`."
            ) from None
        return cls(fernet, hashlib.sha256(text).hexdigest()[:12], source)

    @classmethod
    def from_file(cls, path: Path) -> SecretsKey:
        """Read a key file; SecretUnavailable naming the file if it cannot be read."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SecretUnavailable(
                f"Cannot read the secrets key file {path}: {exc.strerror or exc}."
            ) from None
        return cls.from_bytes(raw, str(path))


def new_key() -> bytes:
    """A fresh random Fernet key."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def configured_key() -> SecretsKey | None:
    """The key from PACKBENCH_SECRETS_KEY_FILE or the systemd credential, if either is set."""
    path = os.environ.get(KEY_FILE_ENV, "").strip()
    if path:
        return SecretsKey.from_file(Path(path))
    creds = os.environ.get("CREDENTIALS_DIRECTORY", "").strip()
    if creds and (Path(creds) / CREDENTIAL_NAME).is_file():
        return SecretsKey.from_file(Path(creds) / CREDENTIAL_NAME)
    return None


def backend() -> str:
    """`database` or `keyring`, as configured (see the module docstring)."""
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower()
    if chosen and chosen not in BACKENDS:
        raise SecretUnavailable(f"{BACKEND_ENV} must be one of {', '.join(BACKENDS)}.")
    if chosen:
        return chosen
    if os.environ.get(KEY_FILE_ENV, "").strip() or (
        os.environ.get("CREDENTIALS_DIRECTORY")
        and (Path(os.environ["CREDENTIALS_DIRECTORY"]) / CREDENTIAL_NAME).is_file()
    ):
        return "database"
    return "keyring" if _usable_keyring() else "none"


def describe_store() -> str:
    """Where secrets are kept, checked now (a missing or bad key is SecretUnavailable)."""
    chosen = backend()
    if chosen == "database":
        key = _require_key()
        return f"database, key {key.key_id} from {key.source}"
    if chosen == "keyring":
        ring = _checked_keyring()
        return f"keyring {type(ring).__module__}.{type(ring).__name__}"
    raise SecretUnavailable(NOT_CONFIGURED)


def _usable_keyring() -> bool:
    import keyring

    ring = keyring.get_keyring()
    name = f"{type(ring).__module__}.{type(ring).__name__}"
    return not name.startswith(("keyring.backends.fail", "keyring.backends.null"))


def _checked_keyring() -> KeyringBackend:
    """The keyring secrets go to; SecretUnavailable if a service cannot use it."""
    import keyring

    ring = keyring.get_keyring()
    name = f"{type(ring).__module__}.{type(ring).__name__}"
    if name.startswith(_PROMPTING):
        raise SecretUnavailable(
            f"The keyring backend {name} asks for a password on a terminal; a service cannot "
            f"answer. Use the database backend: set {KEY_FILE_ENV} (see packaging/service)."
        )
    if not _usable_keyring():
        raise SecretUnavailable(f"There is no usable keyring here ({name}). {NOT_CONFIGURED}")
    return ring


# The engine that database-backed secrets are read from when the caller has no session.
_bound: Engine | None = None
_reader: Engine | None = None
_lock = threading.Lock()


def bind_engine(engine: Engine) -> None:
    """Read database-backed secrets from this engine's database (the app's, the command's)."""
    global _bound, _reader
    with _lock:
        if _bound is engine:
            return
        if _reader is not None and _reader is not _bound:
            _reader.dispose()  # the previous database's own read engine
        _bound = engine
        # SQLite writers BEGIN IMMEDIATE; a secret read while the caller holds a write
        # transaction must not wait for it, so reads use a plain (deferred) connection.
        _reader = (
            create_engine(engine.url, connect_args={"check_same_thread": False})
            if engine.dialect.name == "sqlite"
            else engine
        )
        _cache.clear()


def _read_row(ref: str, session: Session | None) -> StoredSecret | None:
    if session is not None:
        return session.get(StoredSecret, ref)
    if _reader is None:
        raise SecretUnavailable("The secret store has no database bound (internal error).")
    with Session(_reader) as own:
        return own.get(StoredSecret, ref)


def decrypt(row: StoredSecret, key: SecretsKey) -> str:
    """The plaintext of a stored secret; SecretUnavailable if the key does not fit."""
    if row.key_id != key.key_id:
        raise SecretUnavailable(
            f"The secret {row.ref!r} was encrypted with key {row.key_id}, but the key in "
            f"{key.source} is {key.key_id}: configure the key it was stored with."
        )
    from cryptography.fernet import InvalidToken

    try:
        return key.fernet.decrypt(row.ciphertext).decode("utf-8")
    except InvalidToken:
        raise SecretUnavailable(
            f"The secret {row.ref!r} cannot be decrypted with the key in {key.source}."
        ) from None


def _require_key() -> SecretsKey:
    key = configured_key()
    if key is None:
        raise SecretUnavailable(f"{BACKEND_ENV}=database needs a key. {NOT_CONFIGURED}")
    return key


def put_secret(ref: str, value: str, *, session: Session | None = None) -> None:
    """Store a secret under `ref` (pass the caller's session to write in its transaction)."""
    chosen = backend()
    if chosen == "none":
        raise SecretUnavailable(NOT_CONFIGURED)
    if chosen == "keyring":
        ring = _checked_keyring()
        from keyring.errors import KeyringError

        try:
            ring.set_password(SERVICE_NAME, ref, value)
        except KeyringError as exc:
            raise SecretUnavailable(
                f"Could not store the secret {ref!r} in the keyring ({type(exc).__name__})."
            ) from None
    else:
        key = _require_key()
        token = key.fernet.encrypt(value.encode("utf-8"))
        if session is not None:
            _store(session, ref, key, token)
        else:
            if _bound is None:
                raise SecretUnavailable("The secret store has no database bound (internal error).")
            with Session(_bound) as own, own.begin():
                _store(own, ref, key, token)
    _cache[ref] = value


def _store(session: Session, ref: str, key: SecretsKey, token: bytes) -> None:
    row = session.get(StoredSecret, ref, with_for_update=True)
    if row is None:
        session.add(StoredSecret(ref=ref, key_id=key.key_id, ciphertext=token, updated_at=utcnow()))
    else:
        row.key_id, row.ciphertext, row.updated_at = key.key_id, token, utcnow()
    session.flush()


_cache: dict[str, str] = {}


def get_secret(ref: str, *, session: Session | None = None) -> str:
    """The secret stored under `ref` (cached in memory; webhooks verify on every request)."""
    if ref in _cache:
        return _cache[ref]
    chosen = backend()
    if chosen == "none":
        raise SecretUnavailable(NOT_CONFIGURED)
    if chosen == "keyring":
        ring = _checked_keyring()
        from keyring.errors import KeyringError

        try:
            value = ring.get_password(SERVICE_NAME, ref)
        except KeyringError as exc:
            raise SecretUnavailable(f"The keyring cannot be read ({type(exc).__name__}).") from None
        if value is None:
            raise SecretUnavailable(f"No secret {ref!r} in the keyring.")
    else:
        key = _require_key()
        row = _read_row(ref, session)
        if row is None:
            raise SecretUnavailable(
                f"No secret {ref!r} is stored; set it with `packbench-service secrets set {ref}`."
            )
        value = decrypt(row, key)
    _cache[ref] = value
    return value


def forget_cached_secrets() -> None:
    """Drop the in-memory cache (after a secret is rotated, and between tests)."""
    _cache.clear()
