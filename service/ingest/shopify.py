"""Shopify adapter: the REST Order object (as sent by orders/* webhooks) -> NormalisedOrder.

Only the fields the warehouse needs are declared; Shopify adds fields with every API
version and those are ignored. Field names in errors are Shopify's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.ingest.errors import from_validation_error
from service.ingest.model import (
    Address,
    Money,
    NormalisedLine,
    NormalisedOrder,
    PaymentState,
    Quantity,
    make_address,
)
from service.ingest.normalise import normalise_phone, shop_language
from service.ingest.pickup import pickup_from_pairs, pickup_spec
from service.ingest.shipping import cutoff_for, shipping_choice

KIND = "shopify"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"

# Topic -> what to do with the order in the body.
TOPICS: dict[str, str] = {
    "orders/create": "upsert",
    "orders/updated": "upsert",
    "orders/paid": "upsert",
    "orders/cancelled": "upsert",  # the body is the order with cancelled_at set
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyAddress(_Model):
    """shipping_address / billing_address."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None

    def normalised(self) -> Address:
        """As an internal Address (country_code preferred over the country's name)."""
        name = self.name or " ".join(p for p in (self.first_name, self.last_name) if p)
        return make_address(
            name=name,
            company=self.company,
            street1=self.address1,
            street2=self.address2,
            postcode=self.zip,
            city=self.city,
            region=self.province_code or self.province,
            country=self.country_code or self.country,
            phone=self.phone,
        )


class ShopifyTaxLine(_Model):
    """One tax on a line item; `price` is the tax amount for the whole line."""

    price: Money = Decimal("0")


class ShopifyLineItem(_Model):
    """line_items[]."""

    id: int | str
    sku: str | None = Field(default=None, max_length=64)
    title: str = ""
    quantity: Quantity
    price: Money
    total_discount: Money = Decimal("0")
    tax_lines: list[ShopifyTaxLine] = []
    requires_shipping: bool = True


class ShopifyShippingLine(_Model):
    """shipping_lines[]: the method the customer chose at checkout."""

    title: str = ""
    code: str | None = None


class ShopifyNoteAttribute(_Model):
    """note_attributes[]: cart attributes a checkout app set (a chosen pickup point)."""

    name: str = ""
    value: Any = None


class ShopifyOrder(_Model):
    """The REST Admin API Order object, as far as the warehouse reads it."""

    id: int | str
    name: str = ""
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = None
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    total_price: Money
    financial_status: str | None = None
    gateway: str | None = None
    payment_gateway_names: list[str] = []
    created_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    line_items: list[ShopifyLineItem] = Field(min_length=1)
    shipping_lines: list[ShopifyShippingLine] = []
    note_attributes: list[ShopifyNoteAttribute] = []
    # The language the customer shopped in ("cs-CZ", "de"); anything else is not an error.
    customer_locale: Any = None


def _is_cod(order: ShopifyOrder) -> bool:
    gateways = [*order.payment_gateway_names, order.gateway or ""]
    return any("cash on delivery" in g.lower() or "(cod)" in g.lower() for g in gateways)


def payment_state(order: ShopifyOrder) -> PaymentState:
    """financial_status (+ gateway for COD) as the warehouse's payment state.

    `authorized` counts as paid: Shopify captures at fulfilment, so holding it would mean
    never shipping it. A COD order stays `pending` in Shopify until the carrier pays out.
    """
    status = (order.financial_status or "pending").lower()
    if status in {"paid", "authorized", "partially_refunded"}:
        return PaymentState.PAID
    if status == "refunded":
        return PaymentState.REFUNDED
    if status == "voided":
        return PaymentState.VOIDED
    return PaymentState.COD if _is_cod(order) else PaymentState.PENDING


def _line(item: ShopifyLineItem) -> NormalisedLine:
    return NormalisedLine(
        sku=item.sku or "",
        name=item.title,
        quantity=item.quantity,
        unit_price=item.price,
        tax=sum((t.price for t in item.tax_lines), Decimal("0")),
        discount=item.total_discount,
        channel_line_id=str(item.id),
    )


def to_normalised(order: ShopifyOrder, settings: Mapping[str, Any]) -> NormalisedOrder:
    """Map a parsed Shopify order into the internal model."""
    ship = order.shipping_address.normalised() if order.shipping_address else None
    method = order.shipping_lines[0] if order.shipping_lines else ShopifyShippingLine()
    choice = shipping_choice(method.code or "", method.title, settings)
    # Gift cards and digital goods are not shipped, so they never reach a packing bench.
    items = [i for i in order.line_items if i.requires_shipping] or order.line_items
    region = ship.country if ship else None
    spec = pickup_spec(settings)
    point, point_name = (
        pickup_from_pairs(((a.name, a.value) for a in order.note_attributes), spec)
        if spec.get("from") == "note_attributes"
        else ("", "")
    )
    return NormalisedOrder(
        channel_order_id=str(order.id),
        channel_order_name=order.name[:64],
        currency=order.currency,
        total=order.total_price,
        payment_state=payment_state(order),
        payment_method=(order.payment_gateway_names or [order.gateway or ""])[0],
        email=order.email or "",
        phone=normalise_phone(order.phone, region) or "",
        shipping_address=ship,
        billing_address=order.billing_address.normalised() if order.billing_address else None,
        priority=choice.priority,
        cutoff_at=cutoff_for(order.created_at, settings),
        carrier=choice.carrier,
        shipping_method=(method.code or "", method.title),
        service=choice.service,
        pickup_point=point,
        pickup_point_name=point_name,
        language=shop_language(order.customer_locale),
        ordered_at=order.created_at,
        channel_updated_at=order.updated_at,
        cancelled=order.cancelled_at is not None,
        lines=tuple(_line(i) for i in items),
    )


def parse(payload: Any, settings: Mapping[str, Any]) -> NormalisedOrder:
    """A decoded webhook body -> NormalisedOrder, or PayloadInvalid naming the field."""
    try:
        return to_normalised(ShopifyOrder.model_validate(payload), settings)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
