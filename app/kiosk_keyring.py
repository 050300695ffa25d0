"""A keyring for kiosk stations: no desktop session, no terminal to type a password into.

The station token is kept in a file encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key
derived from a machine secret that systemd hands the station as a credential: provisioned
once with `systemd-creds encrypt` (sealed with the host key and, where present, the TPM) and
loaded with `LoadCredentialEncrypted=packbench-keyring-key:...` in the station's unit. The
secret is only readable by that unit's process, in a memory-backed directory systemd removes
when it stops; the file alone does not reveal the token. packaging/README.md has the set-up.

Select it with `PYTHON_KEYRING_BACKEND=app.kiosk_keyring.CredentialFileKeyring`.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import platformdirs
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

CREDENTIAL_NAME = "packbench-keyring-key"
FILE_ENV = "PACKBENCH_KEYRING_FILE"  # where the encrypted file lives (default: user data dir)
MIN_SECRET_BYTES = 32


class CredentialFileKeyring(KeyringBackend):
    """Secrets in one encrypted file; the key comes from the systemd credential only."""

    priority = 0.5  # never chosen unless named explicitly (no entry point)

    @property
    def path(self) -> Path:
        """The encrypted file (PACKBENCH_KEYRING_FILE, else the user data directory)."""
        named = os.environ.get(FILE_ENV)
        if named:
            return Path(named)
        return Path(platformdirs.user_data_dir("packbench", appauthor=False)) / "keyring.enc"

    def _fernet(self) -> Fernet:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise KeyringError(
                "no machine secret: CREDENTIALS_DIRECTORY is not set. Start the station from "
                f"its systemd unit with LoadCredentialEncrypted={CREDENTIAL_NAME}:... "
                "(see packaging/README.md, 'Kiosk stations')"
            )
        try:
            secret = (Path(directory) / CREDENTIAL_NAME).read_bytes()
        except OSError as exc:
            raise KeyringError(
                f"the credential {CREDENTIAL_NAME} cannot be read ({exc}); check "
                "LoadCredentialEncrypted= in the station's unit"
            ) from exc
        if len(secret) < MIN_SECRET_BYTES:
            raise KeyringError(
                f"the credential {CREDENTIAL_NAME} is shorter than {MIN_SECRET_BYTES} bytes; "
                "provision it from /dev/urandom as packaging/README.md shows"
            )
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"packbench station keyring"
        ).derive(secret)
        return Fernet(base64.urlsafe_b64encode(key))

    def _load(self, fernet: Fernet) -> dict[str, str]:
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KeyringError(f"{self.path} cannot be read ({exc})") from exc
        try:
            data: dict[str, str] = json.loads(fernet.decrypt(sealed))
        except InvalidToken as exc:
            raise KeyringError(
                f"{self.path} was not sealed with this machine's {CREDENTIAL_NAME} (another "
                "machine's file, or the credential was re-provisioned): enroll the station again"
            ) from exc
        return data

    def _save(self, fernet: Fernet, data: dict[str, str]) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(fernet.encrypt(json.dumps(data).encode()))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)

    @staticmethod
    def _key(service: str, username: str) -> str:
        return f"{service}\x00{username}"

    def get_password(self, service: str, username: str) -> str | None:
        """The secret stored for (service, username), or None."""
        return self._load(self._fernet()).get(self._key(service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store the secret, re-sealing the whole file atomically."""
        fernet = self._fernet()
        data = self._load(fernet)
        data[self._key(service, username)] = password
        self._save(fernet, data)

    def delete_password(self, service: str, username: str) -> None:
        """Remove the secret; PasswordDeleteError when there is none."""
        fernet = self._fernet()
        data = self._load(fernet)
        if data.pop(self._key(service, username), None) is None:
            raise PasswordDeleteError(username)
        self._save(fernet, data)
