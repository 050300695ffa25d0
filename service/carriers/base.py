"""What every carrier adapter offers: create a shipment, cancel it, read its tracking.

Adapters are plain classes registered by name (see `service.carriers.registry`). They
never touch order status; `service.shipping` turns their results into labels, parcels and
order events, and their errors into exceptions a person looks at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.orm import Session

LabelFormat = Literal["zpl", "pdf", "png"]


class CarrierError(Exception):
    """The carrier did not create (or cancel) what was asked; `kind` says why.

    kind: "timeout" (no answer in time), "unavailable" (5xx, connection refused),
    "rejected" (4xx: bad address, bad weight, ...), "config" (credentials, settings).
    `reason` names a rejection a person fixes (see REASONS); it becomes the exception code.
    """

    def __init__(
        self,
        carrier: str,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
    ):
        super().__init__(f"{carrier}: {message}")
        self.carrier = carrier
        self.kind = kind
        self.message = message
        self.status = status
        self.reason = reason

    @property
    def summary(self) -> str:
        """The carrier, the kind of failure and the HTTP status: never the carrier's words,
        which may repeat an address (for job tables and other places without customer data)."""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.carrier}: {self.kind}{status}"

    @property
    def transient(self) -> bool:
        """Whether trying again later may work (the carrier was away, not unwilling)."""
        return self.kind in ("timeout", "unavailable")


# Named rejections (CarrierError.reason): each becomes exception code `carrier_<reason>`.
REASONS = frozenset(
    {
        "auth_failed",  # the carrier refused the account's credentials
        "postcode_rejected",  # the carrier does not know the postcode for the country
        "cod_over_limit",  # the COD amount is above what the carrier collects
        "cod_not_offered",  # the carrier collects no COD in this currency or country
        "pickup_point_missing",  # a pickup-point service without the point the customer chose
        "pickup_point_closed",  # the chosen point is closed or unknown to the carrier
        "pickup_point_unsupported",  # a point was chosen, the carrier delivers to none here
        "overweight",  # a parcel is over the carrier's weight limit
        "phone_missing",  # the carrier needs the recipient's phone and the order has none
        "invalid_data",  # any other field the carrier refused, in its own words
        "already_scanned",  # cancel refused: the carrier already has the parcel
    }
)


@dataclass(frozen=True)
class Address:
    """A postal address as carriers want it."""

    name: str
    street1: str
    postcode: str
    city: str
    country: str
    company: str = ""
    street2: str = ""
    region: str = ""
    email: str = ""
    phone: str = ""

    def lines(self) -> list[str]:
        """The address as printed on a label, empty lines left out."""
        city = f"{self.postcode} {self.city}".strip()
        parts = [self.name, self.company, self.street1, self.street2, city, self.region]
        return [p for p in [*parts, self.country] if p]


@dataclass(frozen=True)
class ParcelSpec:
    """One box to label: its number, weight and (optional) dimensions in millimetres."""

    box_no: int
    weight_grams: int
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None


@dataclass(frozen=True)
class ShipmentRequest:
    """Everything a carrier needs to label the boxes of one order."""

    order_number: str
    sender: Address
    recipient: Address
    parcels: list[ParcelSpec]
    parcel_count: int
    service: str = ""
    label_format: LabelFormat = "zpl"
    options: dict[str, Any] = field(default_factory=dict)
    pickup_point: str = ""  # the carrier's id of the point the customer chose ("" = home)
    cod_amount: Decimal | None = None  # cash to collect, in `currency`; None = prepaid
    currency: str = ""
    value: Decimal | None = None  # the goods' value, for the carrier's insurance
    dpi: int = 203  # the label printer's resolution, for carriers that render ZPL


@dataclass(frozen=True)
class CreatedParcel:
    """A labelled box: tracking number, the carrier's own reference, the label bytes."""

    box_no: int
    tracking_number: str
    carrier_ref: str
    label_format: LabelFormat
    label: bytes


@dataclass(frozen=True)
class TrackingEvent:
    """One scan or status the carrier reports for a tracking number."""

    tracking_number: str
    status: str  # normalised: announced | in_transit | out_for_delivery | delivered | exception
    at: datetime
    message: str = ""
    location: str = ""


@runtime_checkable
class CarrierAdapter(Protocol):
    """A carrier integration. `session` lets local carriers allocate numbers in the DB."""

    name: str
    supports_tracking: bool

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """Label every parcel of the request, all or none (raise CarrierError)."""
        ...

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Cancel one labelled parcel at the carrier (raise CarrierError if refused)."""
        ...

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """The label of the request's one parcel again, now one of `request.parcel_count`.

        Same parcel, same tracking number; None when this carrier's labels do not show the
        number of parcels (nothing to print again).
        """
        ...

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """Every event the carrier knows for a tracking number, oldest first."""
        ...


# Optional, for a carrier that books an order's boxes as ONE shipment of n parcels and fixes
# n when it is booked (GLS): `books_one_shipment = True` and
#     find_parcels(session, reference, since, until) -> list[CreatedParcel]
# (the live parcels it printed for an order reference in that time, label bytes empty).
# When the order's box count grows, `service.shipping.labels.rebook_shipment` deletes its
# unprinted parcels there and books all boxes again as one shipment; `find_parcels` finds a
# shipment booked by an attempt whose answer never arrived, so a retry does not book twice.


@runtime_checkable
class OneShipmentCarrier(CarrierAdapter, Protocol):
    """A carrier adapter that books an order's boxes as one shipment of a fixed count."""

    books_one_shipment: bool

    def find_parcels(
        self, session: Session, reference: str, since: datetime, until: datetime
    ) -> list[CreatedParcel]:
        """The live parcels the carrier printed in [since, until] for an order reference."""
        ...


def books_one_shipment(adapter: object) -> OneShipmentCarrier | None:
    """The adapter, if it books an order's boxes as one shipment of a fixed count."""
    if isinstance(adapter, OneShipmentCarrier) and adapter.books_one_shipment:
        return adapter
    return None


def refuses_pickup_point(adapter: object, request: ShipmentRequest) -> CarrierError | None:
    """A point was chosen but this adapter cannot deliver to one: refuse, never go home."""
    if not request.pickup_point or getattr(adapter, "supports_pickup_points", False):
        return None
    name = str(getattr(adapter, "name", "?"))
    return CarrierError(
        name,
        "rejected",
        f"the customer chose pickup point {request.pickup_point!r}, and {name} cannot deliver "
        "to pickup points here: map the shipping method to a carrier that does "
        "(channel set-shipping)",
        reason="pickup_point_unsupported",
    )
