"""Cargus (UrgentCargus) through its REST API v3, as Cargus documents it.

Source: the Cargus API v3 documentation (version 3.1.7, urgentcargus.portal.azure-api.net),
as transcribed by public integrations: every call carries `Ocp-Apim-Subscription-Key`, and
all but `LoginUser` a bearer token from `POST LoginUser {UserName, Password}` (valid 24 h).

- create: `POST Awbs` per box (Cargus numbers each AWB; one AWB per box keeps one tracking
  number per label), the sender as the account's pickup location (`Sender.LocationId`),
  COD (ramburs) as `CashRepayment` in RON, Ship & Go delivery as `ServiceId` 38 with
  `DeliveryPudoPoint`; the answer is the AWB barcode;
- label: `GET AwbDocuments?barCodes=[...]&type=PDF&format=1` (label 10x14) -> base64 PDF;
- cancel: `DELETE Awbs?barCode=` (`true`; `false` once the AWB has a checkpoint);
- tracking: `GET AwbTrace?barCode=[...]` -> `[{Code, Event: [{EventId, Description,
  LocalityName, Date}]}]`, EventId 21 = delivered to the recipient.
Documented limits: 31 kg a piece (the default `max_parcel_grams`).

Settings: `location_id` (the pickup location), `service_id` (default 34), `username`,
`pickup_services` (default ["shipgo"]); secrets `subscription_key` and `password` under
`carrier:cargus:<account>:<key>`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session

from service.carriers import account, wire
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

NAME = "cargus"
TITLE = "Cargus"
URLS = {
    "test": "https://urgentcargus.azure-api.net/api",
    "production": "https://urgentcargus.azure-api.net/api",
}
PIECE_MAX_GRAMS = 31000  # documented: "Maximum 31 kg per piece"
SHIP_AND_GO_SERVICE = 38
DELIVERED = 21
CARGUS_TIME = ZoneInfo("Europe/Bucharest")
_WORDS = (
    ("postal", "postcode_rejected"),
    ("cod postal", "postcode_rejected"),
    ("pudo", "pickup_point_closed"),
    ("telefon", "phone_missing"),
    ("phone", "phone_missing"),
    ("greutate", "overweight"),
    ("weight", "overweight"),
    ("ramburs", "cod_over_limit"),
)


def _words(response: httpx.Response) -> str:
    """Cargus's error text: a JSON list of messages, {"Error"}/{"message"}, or plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, list):
        return "; ".join(str(m) for m in body)[:300]
    if isinstance(body, dict):
        return str(body.get("Error") or body.get("message") or body.get("Message") or body)[:300]
    return str(body)[:300]


class CargusCarrier:
    """REST client for one Cargus account."""

    name = NAME
    supports_tracking = True
    supports_pickup_points = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.url = account.base_url(NAME, config, URLS)
        self.timeout = float(config.get("timeout_seconds", 20))
        self.service_id = int(str(config.get("service_id") or 34))
        self.pickup_services = {str(s) for s in config.get("pickup_services") or ["shipgo"]}

    # -- the wire ---------------------------------------------------------------------------

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        """A client signed in with the account's token (`LoginUser`) for one piece of work."""
        key = account.credential(NAME, self.config, "subscription_key")
        login = {
            "UserName": str(self.config.get("username") or ""),
            "Password": account.credential(NAME, self.config, "password"),
        }
        headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json"}
        with httpx.Client(timeout=self.timeout, headers=headers) as client:
            try:
                token = self._checked(client, "POST", "LoginUser", json=login).json()
            except ValueError as exc:
                raise CarrierError(NAME, "unavailable", "Cargus answered LoginUser oddly") from exc
            if not isinstance(token, str) or not token:
                raise CarrierError(NAME, "rejected", "Cargus gave no token", reason="auth_failed")
            client.headers["Authorization"] = f"Bearer {token}"
            yield client

    def _checked(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
        response = wire.call(client, NAME, TITLE, method, f"{self.url}/{path}", **kw)
        if response.status_code >= 400:
            words = _words(response)
            said = words.lower()
            reason = next((r for word, r in _WORDS if word in said), "invalid_data")
            raise CarrierError(
                NAME,
                "rejected",
                f"Cargus refused ({response.status_code}): {words}",
                status=response.status_code,
                reason=reason,
            )
        return response

    # -- create -----------------------------------------------------------------------------

    def rules(self, request: ShipmentRequest) -> CarrierRules:
        """The account's limits (31 kg a piece unless set), a point for Ship & Go."""
        config = {"max_parcel_grams": PIECE_MAX_GRAMS, **dict(self.config)}
        return CarrierRules.from_config(
            NAME, config, pickup_required=request.service in self.pickup_services
        )

    def _awb(self, request: ShipmentRequest, spec: ParcelSpec) -> dict[str, Any]:
        r = request.recipient
        kilos = max(1, -(-spec.weight_grams // 1000))  # Cargus takes whole kilograms, up
        piece: dict[str, Any] = {"Code": "0", "Type": 1, "Weight": kilos}
        if spec.length_mm and spec.width_mm and spec.height_mm:
            piece.update(
                Length=-(-spec.length_mm // 10),
                Width=-(-spec.width_mm // 10),
                Height=-(-spec.height_mm // 10),
            )
        body: dict[str, Any] = {
            "Sender": {"LocationId": int(str(self.config.get("location_id") or 0))},
            "Recipient": {
                "Name": r.company or r.name,
                "CountyName": r.region,
                "LocalityName": r.city,
                "AddressText": " ".join(p for p in (r.street1, r.street2) if p),
                "ContactPerson": r.name,
                "PhoneNumber": r.phone,
                "CodPostal": r.postcode,
                "Email": r.email,
            },
            "Parcels": 1,
            "Envelopes": 0,
            "TotalWeight": kilos,
            "ServiceId": self.service_id,
            "DeclaredValue": 0,
            "CashRepayment": float(request.cod_amount) if request.cod_amount is not None else 0,
            "BankRepayment": 0,
            "OtherRepayment": "",
            "OpenPackage": False,
            "ShipmentPayer": 1,
            "Observations": "",
            "PackageContent": request.order_number,
            "CustomString": f"{request.order_number}/{spec.box_no}",
            "ParcelCodes": [piece],
        }
        if request.pickup_point:
            body["ServiceId"] = SHIP_AND_GO_SERVICE
            body["DeliveryPudoPoint"] = int(request.pickup_point)
        return body

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """One AWB per box, each with its label; all or none (made AWBs are deleted again)."""
        self.rules(request).check(request)
        if request.cod_amount is not None and request.currency.upper() != "RON":
            raise CarrierError(
                NAME,
                "rejected",
                f"Cargus collects cash on delivery in RON, not {request.currency or '?'}",
                reason="cod_not_offered",
            )
        if request.pickup_point and not request.pickup_point.isdigit():
            raise CarrierError(
                NAME,
                "rejected",
                f"{request.pickup_point!r} is not a Ship & Go point id (a number)",
                reason="pickup_point_closed",
            )
        bodies = [self._awb(request, spec) for spec in request.parcels]
        made: list[tuple[ParcelSpec, str]] = []
        with self._client() as client:
            try:
                for spec, body in zip(request.parcels, bodies, strict=True):
                    barcode = str(self._checked(client, "POST", "Awbs", json=body).json())
                    if not barcode.isdigit():
                        raise CarrierError(NAME, "unavailable", f"Cargus answered {barcode!r}")
                    made.append((spec, barcode))
                return [
                    CreatedParcel(
                        spec.box_no, barcode, barcode, "pdf", self._label(client, barcode)
                    )
                    for spec, barcode in made
                ]
            except CarrierError:
                for _spec, barcode in made:
                    self._delete_quietly(client, barcode)
                raise

    def _label(self, client: httpx.Client, barcode: str) -> bytes:
        params = {
            "barCodes": json.dumps([barcode]),
            "type": "PDF",
            "format": 1,
            "printMainOnce": 1,
        }
        encoded = self._checked(client, "GET", "AwbDocuments", params=params).json()
        try:
            pdf = base64.b64decode(str(encoded), validate=True)
        except binascii.Error as exc:
            raise CarrierError(NAME, "unavailable", "the Cargus label is not base64") from exc
        if not pdf.startswith(b"%PDF"):
            raise CarrierError(NAME, "unavailable", "the Cargus label is not a PDF")
        return pdf

    # -- cancel, recount, tracking ---------------------------------------------------------

    def _delete(self, client: httpx.Client, barcode: str) -> None:
        answer = self._checked(client, "DELETE", "Awbs", params={"barCode": barcode}).json()
        if answer is not True:
            raise CarrierError(
                NAME,
                "rejected",
                f"Cargus will not delete AWB {barcode}: it already has a checkpoint",
                reason="already_scanned",
            )

    def _delete_quietly(self, client: httpx.Client, barcode: str) -> None:
        try:
            self._delete(client, barcode)
        except CarrierError as exc:
            log.warning("could not delete Cargus AWB %s: %s", barcode, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Delete one AWB; once it has a checkpoint, reason "already_scanned"."""
        with self._client() as client:
            self._delete(client, parcel.carrier_ref)

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """One AWB per box: its label carries no count of the order's boxes."""
        return None

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The AWB's events (`AwbTrace`), normalised, oldest first."""
        with self._client() as client:
            params = {"barCode": json.dumps([tracking_number])}
            traces = self._checked(client, "GET", "AwbTrace", params=params).json()
        events: list[TrackingEvent] = []
        for trace in traces if isinstance(traces, list) else []:
            if str(trace.get("Code")) != tracking_number:
                continue
            for event in trace.get("Event") or []:
                at = datetime.fromisoformat(str(event.get("Date")))
                events.append(
                    TrackingEvent(
                        tracking_number=tracking_number,
                        status="delivered" if event.get("EventId") == DELIVERED else "in_transit",
                        at=at if at.tzinfo else at.replace(tzinfo=CARGUS_TIME),
                        message=str(event.get("Description") or ""),
                        location=str(event.get("LocalityName") or ""),
                    )
                )
        return sorted(events, key=lambda e: e.at)


@register(NAME)
def _factory(config: Mapping[str, Any]) -> CargusCarrier:
    return CargusCarrier(config)
