"""A carrier account: its credentials from the secret store and its test or production URL.

Secrets live under `carrier:<carrier>:<account>:<key>` in the service's secret store
(`service.secrets_store`), or in PACKBENCH_CARRIER_<NAME>_<KEY> for a one-account site;
never in channel settings. `mode` ("test", the default, or "production") picks the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.carriers.base import CarrierError
from service.secrets_store import SecretUnavailable, get_secret

MODES = ("test", "production")


def secret_ref(carrier: str, account: str, key: str) -> str:
    """The secret-store entry name of one credential of a carrier account."""
    return f"carrier:{carrier}:{account}:{key}"


def account_name(config: Mapping[str, Any]) -> str:
    """The account a channel ships with (setting `account`, default "default")."""
    return str(config.get("account") or "default")


def credential(carrier: str, config: Mapping[str, Any], key: str) -> str:
    """One credential: from the environment (already in `config`), else the secret store."""
    value = str(config.get(key) or "")
    if value:
        return value
    ref = secret_ref(carrier, account_name(config), key)
    try:
        return get_secret(ref)
    except SecretUnavailable as exc:
        raise CarrierError(
            carrier,
            "config",
            f"no {key} for {carrier} account {account_name(config)!r} in the secret store "
            f"(entry {ref!r}): {exc}",
        ) from exc


def base_url(carrier: str, config: Mapping[str, Any], urls: Mapping[str, str]) -> str:
    """The API root for the account's mode, unless `base_url` overrides it."""
    if config.get("base_url"):
        return str(config["base_url"]).rstrip("/")
    mode = str(config.get("mode") or "test")
    if mode not in urls:
        raise CarrierError(
            carrier, "config", f"mode {mode!r} is not one of {', '.join(sorted(urls))}"
        )
    return urls[mode].rstrip("/")
