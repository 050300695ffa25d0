"""Shipping method -> carrier, service, priority; and the dispatch cut-off of an order.

A channel maps its own method codes in settings["shipping_methods"]:
`{"express_de": {"carrier": "dhl", "service": "express", "priority": 2}}` (keys match the
method code or title, case-insensitive). Without a mapping the carrier is guessed from the
method's name and the code becomes the service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from service.ingest.model import Priority
from sync.clock import utcnow

_KNOWN_CARRIERS = (
    "dhl",
    "dpd",
    "ups",
    "gls",
    "fedex",
    "postnl",
    "royal mail",
    "inpost",
    "hermes",
    "evri",
    "colissimo",
    "bpost",
    "usps",
    "ppl",
    "brt",
)
_EXPRESS = re.compile(r"\b(express|next[- ]day|overnight|same[- ]day|priority)\b", re.I)


@dataclass(frozen=True)
class ShippingChoice:
    """What the warehouse needs from the customer's chosen shipping method."""

    carrier: str = ""
    service: str = ""
    priority: int = Priority.NORMAL


def shipping_choice(code: str, title: str, settings: Mapping[str, Any]) -> ShippingChoice:
    """The carrier/service/priority for a method, from the channel's map or a guess."""
    methods = settings.get("shipping_methods")
    if isinstance(methods, Mapping):
        for key in (code, title):
            for name, mapped in methods.items():
                if key and str(name).lower() == key.lower() and isinstance(mapped, Mapping):
                    return ShippingChoice(
                        carrier=str(mapped.get("carrier", ""))[:40],
                        service=str(mapped.get("service", code or title))[:40],
                        priority=min(max(int(mapped.get("priority", 0)), 0), 2),
                    )
    text = f"{code} {title}".lower()
    carrier = next((c for c in _KNOWN_CARRIERS if c in text), "")
    priority = Priority.EXPRESS if _EXPRESS.search(text) else Priority.NORMAL
    return ShippingChoice(
        carrier=carrier.replace(" ", "_"), service=(code or title)[:40], priority=priority
    )


def cutoff_for(ordered_at: datetime | None, settings: Mapping[str, Any]) -> datetime | None:
    """The next daily dispatch cut-off (settings["cutoff_utc"] = "HH:MM") after the order."""
    raw = settings.get("cutoff_utc")
    if not isinstance(raw, str):
        return None
    try:
        at = time.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        return None
    base = (ordered_at or utcnow()).astimezone(UTC)
    candidate = datetime.combine(base.date(), at)
    return candidate if candidate > base else candidate + timedelta(days=1)
