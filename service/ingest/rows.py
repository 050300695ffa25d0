"""What an ingested order looks like as table rows, and what the ingest path answers.

Shared by the insert path (service.ingest.create, Core statements) and the update path
(service.ingest.store, ORM objects), so both write exactly the same column values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from service.ingest.model import NormalisedOrder
from service.ingest.validate import Reason, exception_params
from sync.languages import customer_language

CENT = Decimal("0.01")

# orders.number = ORDER_NUMBER_PREFIX + (ORDER_NUMBER_BASE + orders.id); the insert path
# computes the same in SQL (service.ingest.create).
ORDER_NUMBER_PREFIX = "ORD-"
ORDER_NUMBER_BASE = 100000


def order_number(order_id: int) -> str:
    """The warehouse-facing number printed on barcodes: ORD- and at least six digits."""
    return f"{ORDER_NUMBER_PREFIX}{ORDER_NUMBER_BASE + order_id}"


@dataclass(frozen=True)
class IngestResult:
    """What happened to one incoming order."""

    # created | updated | unchanged | stale | cancelled | cancel_refused | change_refused
    outcome: str
    order_id: int | None = None
    number: str | None = None
    status: str | None = None
    hold_reasons: list[Reason] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The result as an API response body."""
        return {
            "status": self.outcome,
            "order": self.number,
            "order_status": self.status,
            "hold_reasons": self.hold_reasons,
        }


def order_columns(incoming: NormalisedOrder) -> dict[str, Any]:
    """The orders columns the channel owns (everything but identity, status and bookkeeping)."""
    ship = incoming.shipping_address
    return {
        "channel_order_name": incoming.channel_order_name,
        "currency": incoming.currency,
        "total_amount": incoming.total.quantize(CENT),
        "payment_state": incoming.payment_state.value,
        "payment_method": incoming.payment_method[:40],
        "email": incoming.email,
        "phone": incoming.phone or (ship.phone if ship else ""),
        "ship_name": ship.name if ship else "",
        "ship_company": ship.company if ship else "",
        "ship_street1": ship.street1 if ship else "",
        "ship_street2": ship.street2 if ship else "",
        "ship_postcode": ship.postcode if ship else "",
        "ship_city": ship.city if ship else "",
        "ship_region": ship.region if ship else "",
        "ship_country": ship.country if ship else "",
        "billing_address": incoming.billing_address.as_dict() if incoming.billing_address else {},
        "priority": incoming.priority,
        "cutoff_at": incoming.cutoff_at,
        "carrier": incoming.carrier,
        "service": incoming.service,
        "pickup_point": incoming.pickup_point,
        "pickup_point_name": incoming.pickup_point_name,
        "language": customer_language(incoming.language, ship.country if ship else ""),
        "ordered_at": incoming.ordered_at,
    }


def line_columns(incoming: NormalisedOrder, products: dict[str, int]) -> list[dict[str, Any]]:
    """The order_lines columns of every line (without order_id), numbered from 1."""
    return [
        {
            "line_no": i,
            "sku": line.sku,
            "product_id": products.get(line.sku),
            "name": line.name,
            "quantity": line.quantity,
            "unit_price": line.unit_price.quantize(CENT),
            "tax": line.tax.quantize(CENT),
            "discount": line.discount.quantize(CENT),
            "channel_line_id": line.channel_line_id,
        }
        for i, line in enumerate(incoming.lines, start=1)
    ]


def validation_exception_columns(number: str, reason: Reason) -> dict[str, Any]:
    """The order_exceptions columns (without order_id) for one validation hold reason."""
    return {
        "kind": "validation",
        "code": reason["code"],
        "message": reason["message"],
        "details": {"order": number, **exception_params(reason)},
    }
