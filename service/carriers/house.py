"""The house carrier: no outside service, numbers from a DB counter, labels rendered here.

Settings (channel `settings["carriers"]["house"]` or PACKBENCH_CARRIER_HOUSE_*):
`range_start`, `range_end` (the serials this warehouse may use), `prefix` (default PBX),
`sender` (return address dict), `dpi` (203, 300 or 600: the site's label printers; ZPL is
drawn for it). It keeps no tracking feed: events come from the
`tracking import` CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from service.carriers import numbers
from service.carriers.base import (
    CarrierError,
    CreatedParcel,
    ParcelSpec,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.house_labels import (
    DOTS_PER_INCH,
    SUPPORTED_DPI,
    AddressTooLong,
    HouseLabel,
    render_pdf,
    render_zpl,
    routing_code,
)
from service.carriers.registry import register

NAME = "house"


class HouseCarrier:
    """Labels and tracking numbers made locally, inside the caller's transaction."""

    name = NAME
    supports_tracking = False

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.first = int(config.get("range_start", 1))
        self.last = int(config.get("range_end", 10**numbers.DIGITS - 1))
        self.prefix = str(config.get("prefix", numbers.PREFIX))
        self.dpi = int(config.get("dpi", DOTS_PER_INCH))
        if self.dpi not in SUPPORTED_DPI:
            raise CarrierError(NAME, "config", f"dpi must be 203, 300 or 600, not {self.dpi}")
        if not 0 <= self.first <= self.last < 10**numbers.DIGITS:
            raise CarrierError(NAME, "config", f"bad range {self.first}..{self.last}")

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """Allocate one number per parcel and render its label."""
        if not request.recipient.street1 or not request.recipient.city:
            raise CarrierError(NAME, "rejected", "the recipient address has no street or city")
        serials = numbers.allocate(session, NAME, len(request.parcels), self.first, self.last)
        return [
            self._render(request, parcel, numbers.format_tracking(serial, self.prefix))
            for serial, parcel in zip(serials, request.parcels, strict=True)
        ]

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """The same number's label again with the new parcel count ("Parcel 1 of 2")."""
        (parcel,) = request.parcels
        return self._render(request, parcel, tracking_number)

    def _render(self, request: ShipmentRequest, parcel: ParcelSpec, tracking: str) -> CreatedParcel:
        label = HouseLabel(
            tracking_number=tracking,
            sender=request.sender,
            recipient=request.recipient,
            routing=routing_code(request.recipient, request.service),
            weight_grams=parcel.weight_grams,
            parcel_no=parcel.box_no,
            parcel_count=request.parcel_count,
            order_number=request.order_number,
            service=request.service,
        )
        try:
            body = (
                render_pdf(label) if request.label_format == "pdf" else render_zpl(label, self.dpi)
            )
        except AddressTooLong as exc:
            raise CarrierError(NAME, "rejected", str(exc)) from exc
        fmt: Any = "pdf" if request.label_format == "pdf" else "zpl"
        return CreatedParcel(parcel.box_no, tracking, tracking, fmt, body)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Nothing to tell anyone: the number is simply never handed over."""

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The house carrier has no feed (events arrive by CSV import)."""
        return []


@register(NAME)
def _factory(config: Mapping[str, Any]) -> HouseCarrier:
    return HouseCarrier(config)
