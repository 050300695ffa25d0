"""The HTTP client: keyring-only token, typed errors, timeouts, TLS."""

from __future__ import annotations

import json

import httpx
import keyring
import pytest
from keyring.backends import fail
from nacl.public import PrivateKey

from sync import pins
from sync.client import DEFAULT_TIMEOUT, KEYRING_SERVICE, StationClient, enroll, load_pin_key
from sync.errors import (
    ClaimRefusedError,
    CursorExpired,
    KeyringUnavailable,
    MutationGap,
    NotEnrolled,
    StationUnauthorized,
    SyncRejected,
    SyncUnavailable,
)
from sync.protocol import ClaimRequest, Mutation, PushRequest
from tests.support.keyrings import MemoryKeyring
from tests.unit.sync.conftest import SERVER
from tests.unit.sync.fake_service import TOKEN, FakeSyncService, order_data


def test_enroll_stores_the_token_in_the_keyring_only(
    fake: FakeSyncService, _memory_keyring: MemoryKeyring, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    enrolled = enroll(SERVER, "CODE-1234", transport=fake.transport())
    assert enrolled.station_id == 1
    assert keyring.get_password(KEYRING_SERVICE, SERVER) == TOKEN
    # The PIN key pair: the public half went to the service, the private half to the keyring.
    private = load_pin_key(SERVER)
    [sent] = fake.enroll_bodies
    assert private is not None and private not in json.dumps(sent)
    assert pins.b64(bytes(PrivateKey(pins.unb64(private)).public_key)) == sent["pin_public_key"]
    assert list(tmp_path.iterdir()) == []  # nothing written next to us
    client = StationClient(SERVER, transport=fake.transport())  # token read from the keyring
    assert client.me().station_id == 1


def test_enroll_refuses_without_a_usable_keyring(fake: FakeSyncService) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable, match="PYTHON_KEYRING_BACKEND"):
        enroll(SERVER, "CODE-1234", transport=fake.transport())
    assert fake.requests == []  # the one-time code was not spent


def test_keyring_errors_become_keyring_unavailable(fake: FakeSyncService) -> None:
    class Broken(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError("locked")

    keyring.set_keyring(Broken())
    with pytest.raises(KeyringUnavailable, match="locked"):
        enroll(SERVER, "CODE-1234", transport=fake.transport())


def test_not_enrolled_without_a_token() -> None:
    with pytest.raises(NotEnrolled):
        StationClient(SERVER)


def test_explicit_timeouts_and_verification() -> None:
    assert (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read) == (3.0, 10.0)
    client = StationClient(SERVER, token="t")
    assert client._http.timeout.connect == 3.0
    client.close()


@pytest.mark.parametrize("fault", ["connect", "timeout", "503"])
def test_transient_failures(fault: str, fake: FakeSyncService, client: StationClient) -> None:
    fake.faults.append(fault)
    with pytest.raises(SyncUnavailable):
        client.me()


def test_permanent_failures(fake: FakeSyncService) -> None:
    bad = StationClient(SERVER, token="wrong", transport=fake.transport())
    with pytest.raises(StationUnauthorized):
        bad.me()
    with pytest.raises(SyncRejected) as info:
        enroll(SERVER, "NOPE-0000", transport=fake.transport())
    assert info.value.status == 404


def test_gap_and_expired_cursor_are_typed(fake: FakeSyncService, client: StationClient) -> None:
    from datetime import UTC, datetime

    m = Mutation(id=5, type="scan_recorded", at=datetime.now(UTC))
    with pytest.raises(MutationGap) as gap:
        client.push(PushRequest(station_id=1, mutations=[m]))
    assert gap.value.expected == 1
    fake.put("order", 1, order_data(1))
    fake.put("order", 2, order_data(2))
    fake.oldest_cursor = 2
    with pytest.raises(CursorExpired) as expired:
        client.pull(1)
    assert expired.value.oldest_cursor == 2


def test_claim_refusal_carries_the_message(fake: FakeSyncService, client: StationClient) -> None:
    fake.put("order", 1, order_data(1))
    fake.steal(1)
    with pytest.raises(ClaimRefusedError) as info:
        client.claim(ClaimRequest(order_id=1))
    assert "bench-2" in info.value.refusal.message


def test_unreadable_success_is_permanent() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"nope": 1}))
    with pytest.raises(SyncRejected, match="bad_response"):
        StationClient(SERVER, token="t", transport=transport).me()
