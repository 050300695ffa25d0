"""The parts of the single order view beyond the order row: parcels, labels, open exceptions.

One place answers "where is my order": who the customer is and how to reach them, where it
goes, how it was paid (and what the courier must collect), what was packed in which box with
which tracking number, which labels exist, and what is still wrong with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Label, Order, OrderException, Parcel


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AddressOut(BaseModel):
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    phone: str = ""


class ParcelOut(_Out):
    box_no: int
    status: str
    box_type: str
    weight_grams: int | None
    tracking_number: str | None
    closed_at: datetime | None


class LabelOut(_Out):
    id: int
    parcel_no: int
    parcel_count: int
    carrier: str
    tracking_number: str
    format: str
    status: str
    weight_min_grams: int
    weight_max_grams: int
    created_at: datetime


class OpenExceptionOut(_Out):
    id: int
    kind: str
    code: str
    message: str
    created_at: datetime
    # read for the console's sentence (details["say"]); not part of the API's answer
    details: dict[str, Any] = Field(default_factory=dict, exclude=True)


def order_extras(session: Session, order: Order) -> dict[str, Any]:
    """The order view's fields that come from other tables or are derived."""
    parcels = session.scalars(
        select(Parcel).where(Parcel.order_id == order.id).order_by(Parcel.box_no)
    ).all()
    labels = session.scalars(
        select(Label).where(Label.order_id == order.id).order_by(Label.parcel_no, Label.id)
    ).all()
    exceptions = session.scalars(
        select(OrderException)
        .where(OrderException.order_id == order.id, OrderException.resolved_at.is_(None))
        .order_by(OrderException.id)
    ).all()
    return {
        "shipping_address": AddressOut(
            name=order.ship_name,
            company=order.ship_company,
            street1=order.ship_street1,
            street2=order.ship_street2,
            postcode=order.ship_postcode,
            city=order.ship_city,
            region=order.ship_region,
            country=order.ship_country,
            phone=order.phone,
        ),
        "billing_address": _billing(order.billing_address),
        "cod_amount": order.total_amount if order.payment_state == "cod" else None,
        "parcels": [ParcelOut.model_validate(p) for p in parcels],
        "labels": [LabelOut.model_validate(lb) for lb in labels],
        "open_exceptions": [OpenExceptionOut.model_validate(e) for e in exceptions],
    }


def _billing(raw: dict[str, Any] | None) -> AddressOut | None:
    if not raw:
        return None
    known = AddressOut.model_fields
    return AddressOut(**{k: str(v) for k, v in raw.items() if k in known and v is not None})
