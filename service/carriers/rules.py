"""What a carrier account accepts, checked before anything is sent to it.

Limits come from the carrier's contract, so they are settings (channel
`settings["carriers"][name]` or PACKBENCH_CARRIER_<NAME>_*), not guesses in code:
`max_parcel_grams`, `cod_limits` ({"CZK": 20000, ...}: the currencies it collects and the
most per parcel), `phone_required` (true/false). An adapter adds what its API documents
(a pickup-point service needs a point; the only currencies it collects COD in,
`cod_currencies`, checked whether or not limits are set). Ingest runs the same checks to
hold an order early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from service.carriers.base import CarrierError, ShipmentRequest


@dataclass(frozen=True)
class CarrierRules:
    """One account's limits; None or empty means the carrier itself decides."""

    carrier: str
    max_parcel_grams: int | None = None
    cod_limits: dict[str, Decimal] = field(default_factory=dict)
    phone_required: bool = False
    pickup_required: bool = False
    cod_currencies: frozenset[str] = frozenset()  # the API's own: empty = any

    @classmethod
    def from_config(
        cls,
        carrier: str,
        config: Mapping[str, Any],
        *,
        pickup_required: bool = False,
        cod_currencies: frozenset[str] = frozenset(),
    ) -> CarrierRules:
        """The rules an account's settings give (see the module docstring)."""
        raw_limits = config.get("cod_limits") or {}
        limits: dict[str, Decimal] = {}
        if isinstance(raw_limits, Mapping):
            for currency, amount in raw_limits.items():
                try:
                    limits[str(currency).upper()] = Decimal(str(amount))
                except InvalidOperation as exc:
                    raise CarrierError(
                        carrier, "config", f"cod_limits[{currency!r}] is not an amount"
                    ) from exc
        grams = config.get("max_parcel_grams")
        phone = str(config.get("phone_required", "")).lower() in ("1", "true", "yes")
        return cls(
            carrier=carrier,
            max_parcel_grams=int(str(grams)) if grams not in (None, "") else None,
            cod_limits=limits,
            phone_required=phone,
            pickup_required=pickup_required,
            cod_currencies=cod_currencies,
        )

    def problems(self, request: ShipmentRequest) -> list[CarrierError]:
        """Every reason the carrier would refuse `request`, in plain words (none: [])."""
        found: list[CarrierError] = []
        name = self.carrier

        def add(reason: str, message: str) -> None:
            found.append(CarrierError(name, "rejected", message, reason=reason))

        if self.pickup_required and not request.pickup_point:
            add(
                "pickup_point_missing",
                f"the {request.service or 'pickup'} service needs the pickup point the "
                "customer chose, and the order has none",
            )
        if self.max_parcel_grams is not None:
            for parcel in request.parcels:
                if parcel.weight_grams > self.max_parcel_grams:
                    add(
                        "overweight",
                        f"parcel {parcel.box_no} weighs {parcel.weight_grams / 1000:g} kg; "
                        f"{name} takes at most {self.max_parcel_grams / 1000:g} kg per parcel",
                    )
        currency = request.currency.upper()
        cod_refused = False
        if (
            request.cod_amount is not None
            and self.cod_currencies
            and currency not in self.cod_currencies
        ):
            cod_refused = True
            add(
                "cod_not_offered",
                f"{name} collects cash on delivery only in "
                f"{', '.join(sorted(self.cod_currencies))}, not {request.currency or '?'}",
            )
        if request.cod_amount is not None and self.cod_limits and not cod_refused:
            limit = self.cod_limits.get(request.currency.upper())
            if limit is None:
                add(
                    "cod_not_offered",
                    f"{name} collects cash on delivery only in "
                    f"{', '.join(sorted(self.cod_limits))}, not {request.currency or '?'}",
                )
            elif request.cod_amount > limit:
                add(
                    "cod_over_limit",
                    f"cash on delivery of {request.cod_amount} {request.currency} is over "
                    f"{name}'s limit of {limit} {request.currency}",
                )
        if self.phone_required and not request.recipient.phone.strip():
            add("phone_missing", f"{name} needs the recipient's phone number; the order has none")
        return found

    def check(self, request: ShipmentRequest) -> None:
        """Raise the first problem (all of them in its message), before any call is made."""
        found = self.problems(request)
        if found:
            first = found[0]
            message = "; ".join(p.message for p in found)
            raise CarrierError(self.carrier, "rejected", message, reason=first.reason)
