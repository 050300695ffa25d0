"""Operator adapter: phone, email and B2B orders typed in by a person (POST /v1/orders).

The request schema is the service's own, close to the internal model; `reference` (a ticket
or purchase-order number) is the channel order id, so a retried POST updates instead of
doubling the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.ingest.errors import from_validation_error
from service.ingest.model import (
    Money,
    NormalisedLine,
    NormalisedOrder,
    PaymentState,
    Priority,
    Quantity,
    make_address,
)
from service.ingest.normalise import normalise_phone
from service.ingest.shipping import cutoff_for

KIND = "operator"

# "invoice" is B2B payment on account: the customer has credit terms, so it ships.
OperatorPayment = Literal["paid", "pending", "cod", "invoice"]


class OperatorAddress(BaseModel):
    """A postal address as the operator typed it; country accepts codes and common names."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    street1: str = Field(max_length=200)
    street2: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=20)
    city: str = Field(max_length=100)
    region: str = Field(default="", max_length=100)
    country: str = Field(min_length=2, max_length=60)
    phone: str = Field(default="", max_length=40)


class OperatorLine(BaseModel):
    """One line as the operator entered it."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: Quantity
    unit_price: Money = Decimal("0")
    tax: Money = Decimal("0")
    discount: Money = Decimal("0")


class OperatorOrderIn(BaseModel):
    """POST /v1/orders body."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(default="operator", min_length=1, max_length=64)
    reference: str | None = Field(default=None, min_length=1, max_length=64)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    payment: OperatorPayment
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    shipping_address: OperatorAddress
    billing_address: OperatorAddress | None = None
    priority: int = Field(default=Priority.NORMAL, ge=0, le=2)
    cutoff_at: datetime | None = None
    carrier: str = Field(default="", max_length=40)
    service: str = Field(default="", max_length=40)
    total: Money | None = None
    cancelled: bool = False
    # Bounded by PACKBENCH_MAX_ORDER_LINES when normalised (a 422 naming the limit).
    lines: list[OperatorLine] = Field(min_length=1)


def _address(a: OperatorAddress) -> Any:
    return make_address(**a.model_dump())


def to_normalised(body: OperatorOrderIn, settings: Mapping[str, Any]) -> NormalisedOrder:
    """Map an operator's order into the internal model."""
    ship = _address(body.shipping_address)
    lines = tuple(NormalisedLine(**line.model_dump()) for line in body.lines)
    total = body.total
    if total is None:
        total = sum(
            (ln.unit_price * ln.quantity + ln.tax - ln.discount for ln in lines), Decimal("0")
        )
    payment = PaymentState.PAID if body.payment == "invoice" else PaymentState(body.payment)
    reference = body.reference or f"OP-{uuid.uuid4().hex[:20]}"
    return NormalisedOrder(
        channel_order_id=reference,
        channel_order_name=reference,
        currency=body.currency,
        total=max(total, Decimal("0")),
        payment_state=payment,
        payment_method=body.payment,
        email=body.email,
        phone=normalise_phone(body.phone, ship.country) or ship.phone,
        shipping_address=ship,
        billing_address=_address(body.billing_address) if body.billing_address else None,
        priority=body.priority,
        cutoff_at=body.cutoff_at or cutoff_for(None, settings),
        carrier=body.carrier,
        service=body.service,
        cancelled=body.cancelled,
        lines=lines,
    )


def parse(payload: Any, settings: Mapping[str, Any]) -> NormalisedOrder:
    """A decoded request body -> NormalisedOrder, or PayloadInvalid naming the field."""
    try:
        return to_normalised(OperatorOrderIn.model_validate(payload), settings)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
