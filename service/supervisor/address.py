"""Correct an order's shipping address by hand, re-validated like a delivery from the shop.

The edit goes through the ingest rules: the country and postcode are normalised, the address
must pass `address_reasons` (else nothing changes and the caller hears what is still wrong),
and a validation hold made only of fixed problems is lifted by `apply_validation`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.changes import mark_changed
from service.errors import Conflict, ValidationFailed
from service.ingest.model import Address
from service.ingest.normalise import normalise_country, normalise_postcode
from service.ingest.store import DETAILS_EDITABLE, apply_validation
from service.ingest.validate import (
    ADDRESS_INCOMPLETE,
    ADDRESS_MISSING,
    COD_NOT_ALLOWED,
    COUNTRY_INVALID,
    POSTCODE_INVALID,
    address_reasons,
    cod_countries,
)
from service.lifecycle import OrderStatus, record_event
from service.supervisor.actions import Acting, check_unchanged, lock_order

ADDRESS_CODES = frozenset(
    {ADDRESS_MISSING, ADDRESS_INCOMPLETE, COUNTRY_INVALID, POSTCODE_INVALID, COD_NOT_ALLOWED}
)
FIELDS = ("name", "company", "street1", "street2", "postcode", "city", "region", "country")
MAX_LENGTH = {"postcode": 20, "city": 100, "region": 100, "country": 60}


@dataclass(frozen=True)
class AddressEdit:
    """What the edit did: the order's new status and what normalisation changed."""

    order_number: str
    status: str
    version: int
    normalised: dict[str, tuple[str, str]]  # field -> (typed, stored)


def edit_address(
    session: Session,
    order_id: int,
    typed: dict[str, str],
    who: Acting,
    reason: str,
    expected_version: int | None,
) -> AddressEdit:
    """Replace the shipping address; a still-invalid address changes nothing (422)."""
    order = lock_order(session, order_id)
    check_unchanged(session, order, expected_version)
    if OrderStatus(order.status) not in DETAILS_EDITABLE:
        raise Conflict(f"Order {order.number} is {order.status}: its address can no longer change.")
    values = {k: " ".join(str(typed.get(k, "")).split()) for k in FIELDS}
    for key, value in values.items():
        if len(value) > MAX_LENGTH.get(key, 200):
            raise ValidationFailed(f"The {key} is too long.", field=key)
    country = normalise_country(values["country"]) or ""
    postcode = normalise_postcode(country, values["postcode"]) if country else None
    address = Address(
        **{k: values[k] for k in FIELDS if k not in ("country", "postcode")},
        postcode=postcode or values["postcode"],
        country=country,
        country_input=values["country"],
    )
    problems = address_reasons(address)
    if problems:
        raise ValidationFailed(" ".join(p["message"] for p in problems), field="address")
    stored = {
        "name": address.name,
        "company": address.company,
        "street1": address.street1,
        "street2": address.street2,
        "postcode": address.postcode,
        "city": address.city,
        "region": address.region,
        "country": address.country,
    }
    normalised = {k: (values[k], v) for k, v in stored.items() if values[k] != v}
    before = {k: getattr(order, f"ship_{k}") for k in stored}
    for key, value in stored.items():
        setattr(order, f"ship_{key}", value)
    order.version = (order.version or 1) + 1
    record_event(
        session,
        order,
        "address_edited",
        actor=who.actor,
        payload=who.facts(
            "edit_address",
            reason,
            before=before,
            after=stored,
            typed={k: typed for k, (typed, _stored) in normalised.items()},
        ),
        station_id=who.station_id,
    )
    reasons = [r for r in order.hold_reasons if r.get("code") not in ADDRESS_CODES]
    channel_settings = order.channel.settings or {}
    if order.payment_state == "cod" and address.country not in cod_countries(channel_settings):
        reasons.append(
            {
                "code": COD_NOT_ALLOWED,
                "message": f"Cash on delivery is not offered to {address.country}.",
            }
        )
    if order.status == OrderStatus.ON_HOLD or reasons:
        apply_validation(
            session, order, reasons, who.actor, fixed_by=f"an address edit by {who.actor}"
        )
    mark_changed(session, "order", order.id)
    return AddressEdit(order.number, order.status, order.version, normalised)
