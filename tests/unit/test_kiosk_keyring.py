"""The kiosk keyring: the token sealed with a systemd credential; nothing readable without it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from keyring.errors import KeyringError, PasswordDeleteError

from app.kiosk_keyring import CREDENTIAL_NAME, CredentialFileKeyring


@pytest.fixture
def kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CredentialFileKeyring:
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / CREDENTIAL_NAME).write_bytes(bytes(range(48)))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("PACKBENCH_KEYRING_FILE", str(tmp_path / "data" / "keyring.enc"))
    return CredentialFileKeyring()


def test_token_round_trips_and_is_sealed_on_disk(kiosk: CredentialFileKeyring) -> None:
    kiosk.set_password("packbench", "https://oms.example.com", "station-token-123")
    assert kiosk.get_password("packbench", "https://oms.example.com") == "station-token-123"
    assert kiosk.get_password("packbench", "https://other.example.com") is None
    sealed = kiosk.path.read_bytes()
    assert b"station-token-123" not in sealed and b"oms.example.com" not in sealed
    assert stat.S_IMODE(kiosk.path.stat().st_mode) == 0o600
    kiosk.delete_password("packbench", "https://oms.example.com")
    assert kiosk.get_password("packbench", "https://oms.example.com") is None
    with pytest.raises(PasswordDeleteError):
        kiosk.delete_password("packbench", "https://oms.example.com")


def test_without_the_credential_it_refuses_with_a_sentence(
    kiosk: CredentialFileKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk.set_password("packbench", "u", "t")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(KeyringError, match="CREDENTIALS_DIRECTORY is not set"):
        kiosk.get_password("packbench", "u")


def test_another_machines_secret_cannot_open_the_file(
    kiosk: CredentialFileKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk.set_password("packbench", "u", "t")
    other = tmp_path / "other"
    other.mkdir()
    (other / CREDENTIAL_NAME).write_bytes(b"\x01" * 32)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(other))
    with pytest.raises(KeyringError, match="was not sealed with this machine's"):
        kiosk.get_password("packbench", "u")
    (other / CREDENTIAL_NAME).write_bytes(b"short")
    with pytest.raises(KeyringError, match="shorter than 32 bytes"):
        kiosk.get_password("packbench", "u")
