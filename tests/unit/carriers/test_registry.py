"""Carrier registry and configuration layering."""

from __future__ import annotations

import pytest

from service.carriers.base import CarrierError
from service.carriers.registry import carrier_config, get_adapter, known_carriers, sender_address


def test_builtin_adapters_are_registered_by_name() -> None:
    assert {"house", "sendcloud"} <= known_carriers()
    assert get_adapter("house").name == "house"
    with pytest.raises(CarrierError) as info:
        get_adapter("pigeon")
    assert info.value.kind == "config" and "house" in info.value.message


def test_channel_settings_override_env_but_secrets_never_come_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PACKBENCH_CARRIER_SENDCLOUD_PUBLIC_KEY", "env-pk")
    monkeypatch.setenv("PACKBENCH_CARRIER_SENDCLOUD_TIMEOUT_SECONDS", "5")
    settings = {
        "carriers": {
            "sendcloud": {"timeout_seconds": 2, "secret_key": "from-db", "sender": {"city": "X"}}
        }
    }
    config = carrier_config("sendcloud", settings)
    assert config["public_key"] == "env-pk" and config["timeout_seconds"] == 2
    assert "secret_key" not in config
    monkeypatch.setenv("PACKBENCH_CARRIER_SENDCLOUD_SECRET_KEY", "env-secret")
    assert carrier_config("sendcloud", settings)["secret_key"] == "env-secret"
    assert sender_address(config).city == "X"


def test_house_range_is_checked() -> None:
    with pytest.raises(CarrierError):
        get_adapter("house", {"range_start": 10, "range_end": 5})
