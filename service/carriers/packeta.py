"""Packeta (Zásilkovna) through its REST/XML API, as Packeta documents it.

Source: https://github.com/Packeta/api-documentation (docs/api-reference/*, getting-started/
packeta-api.mdx). One POST of an XML document per call to `.../api/rest`, root element =
method name, first child `apiPassword`; the answer is `<response><status>ok</status>
<result>...</result></response>` or `<status>fault</status><fault>Name</fault>
<string>words</string><detail>...</detail>` (HTTP 200 either way).

- create: `createPacket` per box (Packeta numbers each packet; its labels carry no
  "n of m"), `addressId` = the pickup point the customer chose, or for home delivery the
  id of Packeta's carrier for the country (setting `home_address_ids`, e.g. {"CZ": 106});
  a carrier's own pickup point is given as "<carrier id>:<point code>";
- label: `packetLabelPdf` (base64 PDF, setting `pdf_format`, default "A6 on A6") or
  `packetLabelZpl` at 203 or 300 dpi (HTML-escaped ZPL);
- cancel: `cancelPacket` (`CancelNotAllowedFault` once Packeta has the packet);
- tracking: `packetTracking` -> `<record>` list with `statusCode`.

Settings: `eshop` (sender label), `home_address_ids`, `label_format`, `pickup_services`
(service names that deliver to a point, default ["pickup"]), the limits of
`service.carriers.rules`; the API password under secret `carrier:packeta:<account>:api_password`.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring
from zoneinfo import ZoneInfo

import httpx
from defusedxml.ElementTree import ParseError, fromstring
from sqlalchemy.orm import Session

from service.carriers import account, wire
from service.carriers.address_parts import split_name, split_street
from service.carriers.base import (
    CarrierError,
    CreatedParcel,
    ParcelSpec,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.registry import register
from service.carriers.rules import CarrierRules

log = logging.getLogger(__name__)

NAME = "packeta"
TITLE = "Packeta"
# Packeta has one endpoint; it advises testing with a (separate) ordinary account.
URLS = {
    "test": "https://www.zasilkovna.cz/api/rest",
    "production": "https://www.zasilkovna.cz/api/rest",
}
PACKETA_TIME = ZoneInfo("Europe/Prague")

# Documented tracking status codes (docs/packet_tracking/status-codes.mdx).
_STATUS = {
    1: "announced",
    2: "in_transit",
    3: "in_transit",
    4: "in_transit",
    5: "out_for_delivery",  # ready for pickup at the destination point
    6: "in_transit",
    7: "delivered",
    9: "exception",
    10: "exception",
    11: "exception",
    12: "in_transit",
    14: "in_transit",
    16: "exception",
    17: "exception",
}
# Which packet attribute a PacketAttributesFault names -> the reason a person reads.
_ATTRIBUTE_REASONS = {
    "addressId": "pickup_point_closed",
    "carrierPickupPoint": "pickup_point_closed",
    "zip": "postcode_rejected",
    "weight": "overweight",
    "phone": "phone_missing",
}


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def _add(parent: Element, tag: str, value: object) -> None:
    if value not in (None, ""):
        SubElement(parent, tag).text = str(value)


class PacketaFault(CarrierError):
    """A `<status>fault</status>` answer: Packeta's fault name and its own words."""

    def __init__(self, fault: str, words: str, attributes: list[tuple[str, str]]) -> None:
        self.fault = fault
        self.attributes = attributes
        detail = "; ".join(f"{name}: {text}" for name, text in attributes)
        message = f"Packeta refused ({fault}): {words}" + (f" - {detail}" if detail else "")
        kind, reason = "rejected", "invalid_data"
        if fault == "IncorrectApiPasswordFault":
            reason = "auth_failed"
        elif fault == "CancelNotAllowedFault":
            reason = "already_scanned"
        elif fault == "ExternalGatewayFault":
            kind, reason = "unavailable", ""
        elif attributes:
            reason = _ATTRIBUTE_REASONS.get(attributes[0][0], "invalid_data")
        super().__init__(NAME, kind, message, reason=reason)


class PacketaCarrier:
    """REST/XML client for one Packeta account."""

    name = NAME
    supports_tracking = True
    supports_pickup_points = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.url = account.base_url(NAME, config, URLS)
        self.timeout = float(config.get("timeout_seconds", 10))
        self.eshop = str(config.get("eshop") or "")
        self.pdf_format = str(config.get("pdf_format") or "A6 on A6")
        self.pickup_services = {str(s) for s in config.get("pickup_services") or ["pickup"]}
        raw_home = config.get("home_address_ids") or {}
        self.home_ids = {str(k).upper(): str(v) for k, v in dict(raw_home).items()}

    # -- the wire ---------------------------------------------------------------------------

    def _request(self, client: httpx.Client, method: str, **args: object) -> Element | None:
        root = Element(method)
        _add(root, "apiPassword", account.credential(NAME, self.config, "api_password"))
        for key, value in args.items():
            if isinstance(value, Element):
                root.append(value)
            else:
                _add(root, key, value)
        body = tostring(root, encoding="utf-8", xml_declaration=True)
        response = wire.call(
            client,
            NAME,
            TITLE,
            "POST",
            self.url,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        try:
            answer = fromstring(response.content)
        except ParseError as exc:
            raise CarrierError(
                NAME, "unavailable", f"Packeta answered {response.status_code} without XML"
            ) from exc
        status = answer.findtext("status", "")
        if status == "ok":
            return answer.find("result")
        if status == "fault":
            attributes = [
                (f.findtext("name", ""), f.findtext("fault", ""))
                for f in answer.findall("./detail/attributes/fault")
            ]
            raise PacketaFault(
                answer.findtext("fault", "?"), answer.findtext("string", ""), attributes
            )
        raise CarrierError(NAME, "unavailable", f"Packeta answered status {status!r}")

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout)

    # -- create -----------------------------------------------------------------------------

    def rules(self, request: ShipmentRequest) -> CarrierRules:
        """The account's limits, with a point required for a pickup service."""
        return CarrierRules.from_config(
            NAME, self.config, pickup_required=request.service in self.pickup_services
        )

    def _attributes(self, request: ShipmentRequest, spec: ParcelSpec) -> Element:
        r = request.recipient
        attrs = Element("packetAttributes")
        number = request.order_number
        if request.parcel_count > 1:
            number = f"{number}-{spec.box_no}"  # Packeta wants each packet's number unique
        name, surname = split_name(r.name or r.company)
        for tag, value in (
            ("number", number),
            ("name", name),
            ("surname", surname),
            ("company", r.company),
            ("email", r.email),
            ("phone", r.phone),
        ):
            _add(attrs, tag, value)
        point = request.pickup_point.strip()
        if point:
            address_id, _, carrier_point = point.partition(":")
            _add(attrs, "addressId", address_id)
            _add(attrs, "carrierPickupPoint", carrier_point)
        else:
            home = self.home_ids.get(r.country.upper())
            if home is None:
                raise CarrierError(
                    NAME,
                    "config",
                    f"no Packeta home-delivery carrier set for {r.country} (home_address_ids)",
                )
            _add(attrs, "addressId", home)
        if request.currency:
            _add(attrs, "currency", request.currency.upper())
        if request.cod_amount is not None:
            _add(attrs, "cod", _money(request.cod_amount))
        worth = request.value if request.value is not None else request.cod_amount
        _add(attrs, "value", _money(worth if worth is not None else Decimal(0)))
        _add(attrs, "weight", f"{spec.weight_grams / 1000:.3f}")
        _add(attrs, "eshop", self.eshop)
        if not point:
            street, number_part = split_street(r.street1)
            for tag, v in (
                ("street", street),
                ("houseNumber", number_part),
                ("city", r.city),
                ("zip", r.postcode),
            ):
                _add(attrs, tag, v)
        if spec.length_mm and spec.width_mm and spec.height_mm:
            size = SubElement(attrs, "size")
            _add(size, "length", spec.length_mm)
            _add(size, "width", spec.width_mm)
            _add(size, "height", spec.height_mm)
        return attrs

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """One packet per box, each with its label; all or none (created ones are cancelled)."""
        self.rules(request).check(request)
        cod = request.cod_amount
        if request.currency.upper() == "CZK" and cod is not None and cod != int(cod):
            raise CarrierError(
                NAME,
                "rejected",
                f"Packeta collects CZK in whole crowns; {cod} CZK cannot be collected: "
                "correct the order's COD amount",
                reason="cod_not_offered",
            )
        bodies = [self._attributes(request, spec) for spec in request.parcels]
        created: list[tuple[ParcelSpec, str, str]] = []
        labelled: list[CreatedParcel] = []
        with self._client() as client:
            try:
                for spec, attrs in zip(request.parcels, bodies, strict=True):
                    result = self._request(client, "createPacket", packetAttributes=attrs)
                    packet_id = result.findtext("id", "") if result is not None else ""
                    barcode = result.findtext("barcode", "") if result is not None else ""
                    if not packet_id:
                        raise CarrierError(NAME, "unavailable", "Packeta created no packet id")
                    created.append((spec, packet_id, barcode or f"Z{packet_id}"))
                for spec, packet_id, barcode in created:
                    fmt, label = self._label(client, packet_id, request)
                    labelled.append(CreatedParcel(spec.box_no, barcode, packet_id, fmt, label))
            except CarrierError:
                for _spec, packet_id, _barcode in created:
                    self._cancel_quietly(client, packet_id)
                raise
        return labelled

    def _label(
        self, client: httpx.Client, packet_id: str, request: ShipmentRequest
    ) -> tuple[Any, bytes]:
        if request.label_format == "pdf":
            result = self._request(
                client, "packetLabelPdf", packetId=packet_id, format=self.pdf_format, offset=0
            )
            try:
                pdf = base64.b64decode(
                    (result.text or "") if result is not None else "", validate=True
                )
            except binascii.Error as exc:
                raise CarrierError(NAME, "unavailable", "the Packeta label is not base64") from exc
            if not pdf.startswith(b"%PDF"):
                raise CarrierError(NAME, "unavailable", "the Packeta label is not a PDF")
            return "pdf", pdf
        dpi = request.dpi if request.dpi in (203, 300) else 203
        result = self._request(client, "packetLabelZpl", packetId=packet_id, dpi=dpi)
        zpl = html.unescape((result.text or "") if result is not None else "")
        if "^XA" not in zpl:
            raise CarrierError(NAME, "unavailable", "the Packeta label is not ZPL")
        return "zpl", zpl.encode("utf-8")

    # -- cancel, recount, tracking ---------------------------------------------------------

    def _cancel_quietly(self, client: httpx.Client, packet_id: str) -> None:
        try:
            self._request(client, "cancelPacket", packetId=packet_id)
        except CarrierError as exc:
            log.warning("could not cancel Packeta packet %s: %s", packet_id, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Cancel one packet; once Packeta has it, CarrierError(reason="already_scanned")."""
        with self._client() as client:
            self._request(client, "cancelPacket", packetId=parcel.carrier_ref)

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """Packeta's labels carry no parcel count: nothing to print again."""
        return None

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The packet's status history (`packetTracking`), normalised, oldest first."""
        packet_id = tracking_number.removeprefix("Z").replace(" ", "")
        with self._client() as client:
            result = self._request(client, "packetTracking", packetId=packet_id)
        events: list[TrackingEvent] = []
        for record in result.findall("record") if result is not None else []:
            code = int(record.findtext("statusCode", "999") or 999)
            if code not in _STATUS:
                continue
            at = datetime.fromisoformat(record.findtext("dateTime", ""))
            events.append(
                TrackingEvent(
                    tracking_number=tracking_number,
                    status=_STATUS[code],
                    at=at if at.tzinfo else at.replace(tzinfo=PACKETA_TIME),
                    message=record.findtext("statusText", "") or record.findtext("codeText", ""),
                    location=record.findtext("branchId", "") or "",
                )
            )
        return sorted(events, key=lambda e: e.at)


@register(NAME)
def _factory(config: Mapping[str, Any]) -> PacketaCarrier:
    return PacketaCarrier(config)
