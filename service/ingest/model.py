"""The one internal shape every order source maps into before it touches the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from service.ingest.normalise import (
    normalise_country,
    normalise_phone,
    normalise_postcode,
    normalise_sku,
)
from service.limits import max_order_lines

MAX_LINE_QUANTITY = 10_000  # more than this of one SKU is a typo or an attack, not an order

# Amounts fit orders' Numeric(12, 2); NaN and infinity are refused outright.
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), allow_inf_nan=False)]


def _not_a_boolean(value: Any) -> Any:
    # JSON `true` would otherwise count as 1 (bool is an int in Python).
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


Quantity = Annotated[int, BeforeValidator(_not_a_boolean), Field(gt=0, le=MAX_LINE_QUANTITY)]


class PaymentState(StrEnum):
    """What the warehouse needs to know about payment (stored in orders.payment_state)."""

    PENDING = "pending"  # not paid yet: do not ship
    PAID = "paid"  # captured, or authorised and captured at fulfilment
    COD = "cod"  # cash on delivery: the carrier collects
    REFUNDED = "refunded"
    VOIDED = "voided"


class Priority:
    """orders.priority values."""

    NORMAL = 0
    HIGH = 1
    EXPRESS = 2


class Address(BaseModel):
    """A postal address, normalised as far as possible (validation reports what is left)."""

    model_config = ConfigDict(frozen=True)

    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO alpha-2, or "" when not recognised
    country_input: str = ""  # what the customer typed, kept when it was not recognised
    phone: str = ""  # E.164 when valid, else ""

    def as_dict(self) -> dict[str, Any]:
        """The address as JSON for orders.billing_address."""
        return self.model_dump(exclude={"country_input"})


class NormalisedLine(BaseModel):
    """One line: a normalised SKU and a sane quantity."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: Quantity
    unit_price: Money = Decimal("0")
    tax: Money = Decimal("0")
    discount: Money = Decimal("0")
    channel_line_id: str = Field(default="", max_length=64)

    @field_validator("sku")
    @classmethod
    def _normalise_sku(cls, value: str) -> str:
        return normalise_sku(value)

    @field_validator("name")
    @classmethod
    def _trim_name(cls, value: str) -> str:
        return value.strip()[:200]


class NormalisedOrder(BaseModel):
    """A customer order from any source, in the service's terms."""

    model_config = ConfigDict(frozen=True)

    channel_order_id: str = Field(min_length=1, max_length=64)
    channel_order_name: str = Field(default="", max_length=64)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: Money = Decimal("0")
    payment_state: PaymentState
    payment_method: str = ""
    email: str = Field(default="", max_length=200)
    phone: str = ""  # E.164 or ""
    shipping_address: Address | None
    billing_address: Address | None = None
    priority: int = Field(default=Priority.NORMAL, ge=0, le=2)
    cutoff_at: datetime | None = None
    carrier: str = Field(default="", max_length=40)
    service: str = Field(default="", max_length=40)
    # The shop's shipping method as the customer chose it (code and title), for the
    # carrier_unmapped hold and for mapping it later.
    shipping_method: tuple[str, str] = ("", "")
    # The carrier's id of the pickup point or locker the customer chose, and its name.
    pickup_point: str = Field(default="", max_length=64)
    pickup_point_name: str = Field(default="", max_length=200)
    # The language of the shop's locale for the order ("cs"; "" when the shop gave none we
    # print in): the customer's packing slip uses it, else the destination country's.
    language: str = Field(default="", max_length=8)
    ordered_at: datetime | None = None
    # When the channel last changed the order (Shopify updated_at, Woo date_modified_gmt):
    # deliveries can arrive out of order, and an older one must not undo a newer one.
    channel_updated_at: datetime | None = None
    cancelled: bool = False
    lines: tuple[NormalisedLine, ...] = Field(min_length=1)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper_currency(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("lines")
    @classmethod
    def _bounded_lines(cls, value: tuple[NormalisedLine, ...]) -> tuple[NormalisedLine, ...]:
        limit = max_order_lines()
        if len(value) > limit:
            raise ValueError(
                f"the order has {len(value)} lines; the service takes at most {limit} per order"
            )
        return value

    @field_validator("email")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.strip().lower()


def make_address(
    *,
    name: str | None = "",
    company: str | None = "",
    street1: str | None = "",
    street2: str | None = "",
    postcode: str | None = "",
    city: str | None = "",
    region: str | None = "",
    country: str | None = "",
    phone: str | None = "",
) -> Address:
    """An Address with country, postcode and phone normalised where they can be.

    What cannot be normalised is kept as typed (trimmed) so the validator can name it in a
    hold reason instead of the order silently losing it.
    """
    raw_country = (country or "").strip()
    iso = normalise_country(raw_country)
    raw_postcode = " ".join((postcode or "").split()).upper()
    pc = normalise_postcode(iso, raw_postcode) if iso else None
    return Address(
        name=" ".join((name or "").split())[:200],
        company=(company or "").strip()[:200],
        street1=(street1 or "").strip()[:200],
        street2=(street2 or "").strip()[:200],
        postcode=(pc if pc is not None else raw_postcode)[:20],
        city=(city or "").strip()[:100],
        region=(region or "").strip()[:100],
        country=iso or "",
        country_input="" if iso else raw_country[:100],
        phone=normalise_phone(phone, iso) or "",
    )
