"""Which orders get a packing slip in the parcel: a per-channel setting.

`settings["packing_slip"]` of a channel is one of

    never         no slip (the default)
    always        a slip in every parcel
    cross_border  only when the ship-to country is not the channel's `ship_from_country`
    b2b           only for business customers: the ship-to address names a company

The service decides per order and sends the answer with the order to the station
(`OrderSnapshot.packing_slip`, sync protocol 3), so every station prints a slip for exactly
the orders whose channel wants one, offline too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import ValidationFailed

POLICIES = ("never", "always", "cross_border", "b2b")


@dataclass(frozen=True, slots=True)
class SlipPolicy:
    """A channel's packing-slip setting, ready to judge orders."""

    policy: str = "never"
    ship_from_country: str = ""

    def wants(self, ship_country: str, ship_company: str) -> bool:
        """Whether an order shipped to `ship_country` (company `ship_company`) gets a slip."""
        if self.policy == "always":
            return True
        if self.policy == "cross_border":
            country = ship_country.strip().upper()
            return bool(country and self.ship_from_country and country != self.ship_from_country)
        if self.policy == "b2b":
            return bool(ship_company.strip())
        return False


NO_SLIPS = SlipPolicy()


def slip_policy(settings: Mapping[str, Any]) -> SlipPolicy:
    """The channel's packing-slip setting (an unknown stored value counts as "never")."""
    policy = settings.get("packing_slip", "never")
    if policy not in POLICIES:
        return NO_SLIPS
    return SlipPolicy(str(policy), str(settings.get("ship_from_country", "")).strip().upper())


def checked_slip_settings(
    policy: str | None, ship_from_country: str | None, current: Mapping[str, Any]
) -> dict[str, Any]:
    """The settings to merge for a new slip policy and/or origin; a clear error if they clash."""
    out: dict[str, Any] = {}
    if policy is not None:
        policy = policy.strip().lower().replace("-", "_")
        if policy not in POLICIES:
            raise ValidationFailed(
                f"Unknown packing-slip setting {policy!r}; use one of "
                + ", ".join(p.replace("_", "-") for p in POLICIES)
                + ".",
                field="packing_slip",
            )
        out["packing_slip"] = policy
    if ship_from_country is not None:
        country = ship_from_country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationFailed(
                f"{ship_from_country!r} is not a two-letter country code (e.g. RO, DE).",
                field="ship_from_country",
            )
        out["ship_from_country"] = country
    effective = {**current, **out}
    if effective.get("packing_slip") == "cross_border" and not effective.get("ship_from_country"):
        raise ValidationFailed(
            "cross-border slips need the country the parcels leave from: "
            "give --ship-from-country (e.g. RO) as well.",
            field="ship_from_country",
        )
    return out
