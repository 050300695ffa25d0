"""WooCommerce adapter: the REST v3 order object (as sent by order.* webhooks) -> NormalisedOrder.

Field names in errors are WooCommerce's own. Amounts arrive as strings, except a line's
`price`, which is a JSON number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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

KIND = "woocommerce"
SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
WEBHOOK_ID_HEADER = "x-wc-webhook-delivery-id"

TOPICS: dict[str, str] = {
    "order.created": "upsert",
    "order.updated": "upsert",
    "order.restored": "upsert",
    "order.deleted": "delete",  # the body is only {"id": ...}
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WooAddress(_Model):
    """billing / shipping (billing also carries email and phone)."""

    first_name: str | None = ""
    last_name: str | None = ""
    company: str | None = ""
    address_1: str | None = ""
    address_2: str | None = ""
    city: str | None = ""
    state: str | None = ""
    postcode: str | None = ""
    country: str | None = ""
    email: str | None = Field(default="", max_length=200)
    phone: str | None = ""

    def normalised(self, fallback_phone: str | None = None) -> Address:
        """As an internal Address."""
        return make_address(
            name=f"{self.first_name or ''} {self.last_name or ''}",
            company=self.company,
            street1=self.address_1,
            street2=self.address_2,
            postcode=self.postcode,
            city=self.city,
            region=self.state,
            country=self.country,
            phone=self.phone or fallback_phone,
        )

    def is_empty(self) -> bool:
        """Woo sends an all-empty shipping object for orders without shipping."""
        return not any((self.address_1, self.city, self.postcode, self.country))


class WooLineItem(_Model):
    """line_items[]: `total` is after discounts, `subtotal` before."""

    id: int | str
    name: str = ""
    sku: str | None = Field(default="", max_length=64)
    quantity: Quantity
    price: Money
    subtotal: Money | None = None
    total: Money = Decimal("0")
    total_tax: Money = Decimal("0")


class WooMeta(_Model):
    """meta_data[]: what plugins store on an order or a line (a chosen pickup point)."""

    key: str = ""
    value: Any = None


class WooShippingLine(_Model):
    """shipping_lines[]."""

    method_id: str = ""
    method_title: str = ""
    meta_data: list[WooMeta] = []


class WooOrder(_Model):
    """The WooCommerce REST v3 order, as far as the warehouse reads it."""

    id: int | str
    number: str | int = ""
    status: str
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    total: Money
    payment_method: str = ""
    set_paid: bool = False
    date_paid_gmt: datetime | None = None
    date_paid: datetime | None = None
    date_created_gmt: datetime | None = None
    date_modified_gmt: datetime | None = None
    billing: WooAddress = WooAddress()
    shipping: WooAddress = WooAddress()
    line_items: list[WooLineItem] = Field(min_length=1)
    shipping_lines: list[WooShippingLine] = []
    meta_data: list[WooMeta] = []


class WooDeleted(_Model):
    """The order.deleted body."""

    id: int | str


def payment_state(order: WooOrder) -> PaymentState:
    """Woo's status, payment method and paid date as the warehouse's payment state.

    COD orders go straight to `processing` without a paid date, so `cod` is checked before
    the status; `on-hold` (awaiting a bank transfer) and `failed` are not paid.
    """
    status = order.status.lower()
    paid = order.set_paid or order.date_paid_gmt is not None or order.date_paid is not None
    if status == "refunded":
        return PaymentState.REFUNDED
    if order.payment_method.lower() == "cod" and not paid:
        return PaymentState.COD
    if paid or status in {"processing", "completed"}:
        return PaymentState.PAID
    return PaymentState.PENDING


def _utc(value: datetime | None) -> datetime | None:
    # *_gmt fields carry no offset but are UTC by definition.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _line(item: WooLineItem) -> NormalisedLine:
    discount = max((item.subtotal or item.total) - item.total, Decimal("0"))
    return NormalisedLine(
        sku=item.sku or "",
        name=item.name,
        quantity=item.quantity,
        unit_price=item.price,
        tax=item.total_tax,
        discount=discount,
        channel_line_id=str(item.id),
    )


# Order meta where multilingual plugins keep the language the customer shopped in (WPML,
# Polylang, TranslatePress and shops that store WordPress's locale themselves), in order.
LOCALE_META_KEYS = (
    "wpml_language",
    "_wpml_language",
    "pll_language",
    "trp_language",
    "customer_locale",
    "_customer_locale",
    "locale",
    "_locale",
)


def _locale(order: WooOrder) -> object:
    """The shop's locale for the order, if a plugin stored one in its meta (None: none)."""
    metas = {m.key: m.value for m in order.meta_data}
    for key in LOCALE_META_KEYS:
        if metas.get(key) not in (None, ""):
            return metas[key]
    return None


def to_normalised(order: WooOrder, settings: Mapping[str, Any]) -> NormalisedOrder:
    """Map a parsed WooCommerce order into the internal model."""
    billing = order.billing.normalised()
    ship_src = order.billing if order.shipping.is_empty() else order.shipping
    ship = ship_src.normalised(fallback_phone=order.billing.phone)
    method = order.shipping_lines[0] if order.shipping_lines else WooShippingLine()
    choice = shipping_choice(method.method_id, method.method_title, settings)
    ordered_at = _utc(order.date_created_gmt)
    spec = pickup_spec(settings)
    metas = {"meta_data": order.meta_data, "shipping_line_meta": method.meta_data}
    source = metas.get(str(spec.get("from")), [])
    point, point_name = pickup_from_pairs(((m.key, m.value) for m in source), spec)
    return NormalisedOrder(
        channel_order_id=str(order.id),
        channel_order_name=str(order.number or order.id)[:64],
        currency=order.currency,
        total=order.total,
        payment_state=payment_state(order),
        payment_method=order.payment_method,
        email=order.billing.email or "",
        phone=normalise_phone(order.billing.phone, ship.country or billing.country) or "",
        shipping_address=None if ship_src.is_empty() else ship,
        billing_address=billing,
        priority=choice.priority,
        cutoff_at=cutoff_for(ordered_at, settings),
        carrier=choice.carrier,
        shipping_method=(method.method_id, method.method_title),
        service=choice.service,
        pickup_point=point,
        pickup_point_name=point_name,
        language=shop_language(_locale(order)),
        ordered_at=ordered_at,
        channel_updated_at=_utc(order.date_modified_gmt),
        cancelled=order.status.lower() in {"cancelled", "trash"},
        lines=tuple(_line(i) for i in order.line_items),
    )


def parse(payload: Any, settings: Mapping[str, Any]) -> NormalisedOrder:
    """A decoded webhook body -> NormalisedOrder, or PayloadInvalid naming the field."""
    try:
        return to_normalised(WooOrder.model_validate(payload), settings)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def parse_deleted(payload: Any) -> str:
    """The channel order id in an order.deleted body."""
    try:
        return str(WooDeleted.model_validate(payload).id)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
