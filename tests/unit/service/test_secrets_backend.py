"""Where service secrets live: never a terminal prompt, always a line saying what to set."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from service.secrets_store import SecretUnavailable, backend, get_secret, put_secret
from tests.support.keyrings import MemoryKeyring


class PromptingKeyring(MemoryKeyring):
    """Stands in for keyrings.cryptfile, which asks for its password with getpass()."""

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("the service must never reach a prompting keyring")

    set_password = get_password  # type: ignore[assignment]


PromptingKeyring.__module__ = "keyrings.cryptfile.cryptfile"


@pytest.fixture(autouse=True)
def _no_store_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PACKBENCH_SECRETS_BACKEND",
        "PACKBENCH_SECRETS_KEY_FILE",
        "CREDENTIALS_DIRECTORY",
    ):
        monkeypatch.delenv(name, raising=False)


def test_no_keyring_and_no_key_says_what_to_set() -> None:
    keyring.set_keyring(fail.Keyring())
    assert backend() == "none"
    with pytest.raises(SecretUnavailable, match="PACKBENCH_SECRETS_KEY_FILE") as err:
        put_secret("channel:shopify:x", "s3cret-value")
    assert "s3cret-value" not in str(err.value)


def test_a_keyring_that_would_prompt_is_refused_before_it_is_asked() -> None:
    keyring.set_keyring(PromptingKeyring())
    with pytest.raises(SecretUnavailable, match="asks for a password on a terminal"):
        get_secret("channel:shopify:x")
    with pytest.raises(SecretUnavailable, match="PACKBENCH_SECRETS_KEY_FILE"):
        put_secret("channel:shopify:x", "s3cret-value")


def test_a_key_file_setting_chooses_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKBENCH_SECRETS_KEY_FILE", "/nonexistent/packbench.key")
    assert backend() == "database"
    with pytest.raises(SecretUnavailable, match="Cannot read the secrets key file"):
        get_secret("channel:shopify:x")
    monkeypatch.setenv("PACKBENCH_SECRETS_BACKEND", "vault")
    with pytest.raises(SecretUnavailable, match="must be one of database, keyring"):
        backend()
