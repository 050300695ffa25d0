"""Carrier adapters by name, and their per-channel configuration.

Configuration is layered: built-in defaults, then `PACKBENCH_CARRIER_<NAME>_<KEY>`
environment variables, then the channel's `settings["carriers"][name]` (a market or shop
may use another account or label format). Credentials are never read from the database:
adapters get them from the environment or the secret store (service/secrets_store.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from service.carriers.base import Address, CarrierAdapter, CarrierError

AdapterFactory = Callable[[Mapping[str, Any]], CarrierAdapter]

ADAPTERS: dict[str, AdapterFactory] = {}
# Settings that are credentials: never taken from channel settings (the database).
SECRET_KEYS = (
    "secret_key",
    "password",
    "api_key",
    "token",
    "api_password",
    "client_secret",
    "subscription_key",
)

DEFAULT_SENDER = {
    "name": "Packbench Warehouse",
    "street1": "Dock 1",
    "postcode": "1000 AA",
    "city": "Amsterdam",
    "country": "NL",
}


def register(name: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Class decorator: make an adapter available under `name`."""

    def add(factory: AdapterFactory) -> AdapterFactory:
        ADAPTERS[name] = factory
        return factory

    return add


def _load_builtin() -> None:
    # Imported for their @register side effect; cheap, and keeps the registry complete.
    from service.carriers import brt, cargus, dpd, gls, house, packeta, sendcloud  # noqa: F401


def carrier_config(name: str, channel_settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The effective settings of carrier `name` for a channel (see the module docstring)."""
    config: dict[str, Any] = {}
    prefix = f"PACKBENCH_CARRIER_{name.upper()}_"
    for key, value in os.environ.items():
        if key.startswith(prefix):
            config[key.removeprefix(prefix).lower()] = value
    per_channel = (channel_settings or {}).get("carriers", {})
    if isinstance(per_channel, Mapping) and isinstance(per_channel.get(name), Mapping):
        config.update(per_channel[name])
    for secret_key in SECRET_KEYS:
        config.pop(secret_key, None)  # never from channel settings: secret store or env
        env = os.environ.get(f"{prefix}{secret_key.upper()}")
        if env:
            config[secret_key] = env
    return config


def sender_address(config: Mapping[str, Any]) -> Address:
    """The warehouse's return address for a carrier's labels."""
    raw = {**DEFAULT_SENDER, **dict(config.get("sender") or {})}
    return Address(**{k: str(v) for k, v in raw.items() if k in Address.__dataclass_fields__})


def get_adapter(name: str, config: Mapping[str, Any] | None = None) -> CarrierAdapter:
    """A configured adapter for carrier `name`, or CarrierError(config) if none is known."""
    _load_builtin()
    factory = ADAPTERS.get(name)
    if factory is None:
        known = ", ".join(sorted(ADAPTERS)) or "none"
        raise CarrierError(name or "?", "config", f"no carrier adapter {name!r} (known: {known})")
    return factory(config or {})


def known_carriers() -> set[str]:
    """Names of every registered adapter."""
    _load_builtin()
    return set(ADAPTERS)
