"""DPD through the DPD Romania Web API v1 (api.dpd.ro; the same platform as Speedy, BG).

Source: DPD Romania's "Web API Integration" specification (https://api.dpd.ro/web-api.html)
and its REST examples (services.dpd.ro/api/api_examples.html), as read by public clients.
Every call is a JSON POST to `BASE_URL/<service>` carrying `userName`, `password` and
`language` in the body; a refusal is HTTP 200 with `{"error": {"code", "message", "context",
"id"}}` (the answer is JSON "but not in any case": `print` answers with the label file).

- create: `POST shipment` with `recipient` (address, or `pickupOfficeId` for a DPD office or
  DPDbox locker), `service` (`serviceId`, `additionalServices.cod` = {amount, currencyCode,
  processingType "CASH"}), `content` (`parcelsCount`, `totalWeight`, `parcels` with each
  box's `seqNo` and weight), `payment`, `ref1`; the answer is `{id, parcels: [{id, seqNo}]}`
  (one shipment of n parcels, numbered by DPD, labels printed "1/2", "2/2");
- label: `POST print` with `parcels: [{parcel: {id}}]`, `paperSize` (A6), `format` "pdf"
  or "zpl" and `dpi` "dpi203"/"dpi300" -> the label file itself (the public clients read
  print PDF only; `format` and `dpi` for ZPL are as the specification's print request has
  them, unconfirmed against a live account);
- cancel: `POST shipment/cancel {shipmentId, comment}` (refused once DPD has picked it up);
- tracking: `POST track {parcels: [{id}]}` -> `parcels: [{parcelId, operations:
  [{dateTime, operationCode, description, place}]}]`, operation -14 = delivered.
Pickup points are DPD's offices and DPDbox lockers (`location/office`), by numeric id.

Settings: `username`, `service_id` (from your contract's `services`, default 2505),
`client_id` (the sending object, when the account has several), `courier_service_payer`
(default SENDER), `pickup_services` (default ["pickup"]), the limits of
`service.carriers.rules` (31.5 kg a parcel and the recipient's phone, DPD's own rules, by
default); the password under secret `carrier:dpd:<account>:password`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.orm import Session

from service.carriers import account, wire
from service.carriers.address_parts import split_street
from service.carriers.base import (
    CarrierError,
    CreatedParcel,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.registry import register
from service.carriers.rules import CarrierRules

log = logging.getLogger(__name__)

NAME = "dpd"
TITLE = "DPD"
# DPD Romania hands out test accounts on the production host: the account decides.
URLS = {"test": "https://api.dpd.ro/v1", "production": "https://api.dpd.ro/v1"}
PARCEL_MAX_GRAMS = 31500  # DPD's parcel limit (Classic/Standard)
DEFAULT_SERVICE = 2505
DELIVERED = -14
OUT_FOR_DELIVERY = frozenset({12, 134})  # with the courier; ready at the office/locker
PROBLEM = frozenset({44, 124, 128, 136, 169, 190})  # refused, returned, cancelled, ...
# DPD's API names countries by their ISO 3166 numeric code.
COUNTRY_IDS = {
    "RO": 642,
    "BG": 100,
    "HU": 348,
    "CZ": 203,
    "SK": 703,
    "PL": 616,
    "IT": 380,
    "GR": 300,
    "HR": 191,
    "SI": 705,
    "AT": 40,
    "DE": 276,
}
# Words of DPD's error message -> the reason a person reads (first match wins).
_WORDS = (
    ("username", "auth_failed"),
    ("password", "auth_failed"),
    ("phone", "phone_missing"),
    ("office", "pickup_point_closed"),
    ("post code", "postcode_rejected"),
    ("postcode", "postcode_rejected"),
    ("site", "postcode_rejected"),
    ("weight", "overweight"),
    ("cod", "cod_over_limit"),
    ("picked up", "already_scanned"),
    ("cannot be cancelled", "already_scanned"),
)


def _reason(words: str) -> str:
    said = words.lower()
    return next((r for word, r in _WORDS if word in said), "invalid_data")


class DpdCarrier:
    """JSON client for one DPD Romania account."""

    name = NAME
    supports_tracking = True
    supports_pickup_points = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.url = account.base_url(NAME, config, URLS)
        self.timeout = float(config.get("timeout_seconds", 20))
        self.service_id = int(str(config.get("service_id") or DEFAULT_SERVICE))
        self.pickup_services = {str(s) for s in config.get("pickup_services") or ["pickup"]}
        self.payer = str(config.get("courier_service_payer") or "SENDER").upper()
        self.language = str(config.get("language") or "EN").upper()

    # -- the wire ---------------------------------------------------------------------------

    def _signed(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "userName": str(self.config.get("username") or ""),
            "password": account.credential(NAME, self.config, "password"),
            "language": self.language,
            **body,
        }

    def _post(self, client: httpx.Client, service: str, body: dict[str, Any]) -> httpx.Response:
        response = wire.call(
            client, NAME, TITLE, "POST", f"{self.url}/{service}", json=self._signed(body)
        )
        if response.status_code >= 400:
            raise CarrierError(
                NAME,
                "rejected",
                f"DPD answered {response.status_code}: {response.text[:200]}",
                status=response.status_code,
                reason="invalid_data",
            )
        if response.headers.get("content-type", "").startswith("application/json"):
            answer = self._json(response)
            error = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(error, Mapping):
                raise self._error(error)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise CarrierError(NAME, "unavailable", "DPD answered with broken JSON") from exc

    @staticmethod
    def _error(error: Mapping[str, Any]) -> CarrierError:
        words = str(error.get("message") or "error")
        if error.get("context"):
            words = f"{words} ({error['context']})"
        return CarrierError(
            NAME,
            "rejected",
            f"DPD refused (code {error.get('code', '?')}): {words}",
            reason=_reason(words),
        )

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout)

    # -- create -----------------------------------------------------------------------------

    def rules(self, request: ShipmentRequest) -> CarrierRules:
        """The account's limits; by default DPD's 31.5 kg a parcel and the recipient's phone."""
        config = {"max_parcel_grams": PARCEL_MAX_GRAMS, "phone_required": True, **self.config}
        return CarrierRules.from_config(
            NAME, config, pickup_required=request.service in self.pickup_services
        )

    def _recipient(self, request: ShipmentRequest) -> dict[str, Any]:
        r = request.recipient
        recipient: dict[str, Any] = {
            "clientName": r.company or r.name,
            "privatePerson": not r.company,
            "phone1": {"number": r.phone},
            "email": r.email,
        }
        if r.company:
            recipient["contactName"] = r.name
        if request.pickup_point:
            recipient["pickupOfficeId"] = int(request.pickup_point)
            return recipient
        country = COUNTRY_IDS.get(r.country.upper())
        if country is None:
            raise CarrierError(
                NAME,
                "rejected",
                f"DPD's API here does not deliver to {r.country or '?'} "
                f"(it knows {', '.join(sorted(COUNTRY_IDS))}): map the method to another carrier",
                reason="invalid_data",
            )
        street, number = split_street(r.street1)
        recipient["address"] = {
            "countryId": country,
            "siteName": r.city,
            "postCode": r.postcode,
            "streetName": street,
            "streetNo": number,
            "addressNote": r.street2,
        }
        return recipient

    def _body(self, request: ShipmentRequest) -> dict[str, Any]:
        service: dict[str, Any] = {"serviceId": self.service_id, "autoAdjustPickupDate": True}
        if request.cod_amount is not None:
            service["additionalServices"] = {
                "cod": {
                    "amount": float(request.cod_amount.quantize(Decimal("0.01"))),
                    "currencyCode": request.currency.upper(),
                    "processingType": "CASH",
                }
            }
        parcels = []
        for seq, spec in enumerate(request.parcels, start=1):
            parcel: dict[str, Any] = {"seqNo": seq, "weight": round(spec.weight_grams / 1000, 3)}
            if spec.length_mm and spec.width_mm and spec.height_mm:
                parcel["size"] = {
                    "depth": -(-spec.length_mm // 10),
                    "width": -(-spec.width_mm // 10),
                    "height": -(-spec.height_mm // 10),
                }
            parcels.append(parcel)
        body: dict[str, Any] = {
            "recipient": self._recipient(request),
            "service": service,
            "content": {
                "parcelsCount": len(request.parcels),
                "totalWeight": round(sum(p.weight_grams for p in request.parcels) / 1000, 3),
                "contents": str(self.config.get("contents") or request.order_number)[:100],
                "package": "BOX",
                "parcels": parcels,
            },
            "payment": {"courierServicePayer": self.payer},
            "ref1": request.order_number[:30],
        }
        if self.config.get("client_id"):
            body["sender"] = {"clientId": int(str(self.config["client_id"]))}
        return body

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """One DPD shipment of n parcels, a label each; all or none (it is cancelled again)."""
        self.rules(request).check(request)
        if request.pickup_point and not request.pickup_point.isdigit():
            raise CarrierError(
                NAME,
                "rejected",
                f"{request.pickup_point!r} is not a DPD office or DPDbox id (a number): "
                "correct the pickup point of the order",
                reason="pickup_point_closed",
            )
        body = self._body(request)
        with self._client() as client:
            answer = self._json(self._post(client, "shipment", body))
            shipment_id = str(answer.get("id") or "") if isinstance(answer, dict) else ""
            if not shipment_id:
                raise CarrierError(NAME, "unavailable", "DPD created no shipment id")
            try:
                made = sorted(answer.get("parcels") or [], key=lambda p: int(p.get("seqNo", 0)))
                if len(made) != len(request.parcels):
                    raise CarrierError(
                        NAME,
                        "unavailable",
                        f"asked for {len(request.parcels)} parcels, DPD made {len(made)}",
                    )
                fmt: Any = "pdf" if request.label_format == "pdf" else "zpl"
                return [
                    CreatedParcel(
                        spec.box_no,
                        str(parcel["id"]),
                        shipment_id,
                        fmt,
                        self._label(client, str(parcel["id"]), request),
                    )
                    for spec, parcel in zip(request.parcels, made, strict=True)
                ]
            except CarrierError:
                self._cancel_quietly(client, shipment_id)
                raise

    def _label(self, client: httpx.Client, parcel_id: str, request: ShipmentRequest) -> bytes:
        pdf = request.label_format == "pdf"
        body = {
            "parcels": [{"parcel": {"id": parcel_id}}],
            "paperSize": str(self.config.get("paper_size") or "A6"),
            "format": "pdf" if pdf else "zpl",
            "dpi": "dpi300" if request.dpi == 300 else "dpi203",
        }
        label = self._post(client, "print", body).content
        if pdf and not label.startswith(b"%PDF"):
            raise CarrierError(NAME, "unavailable", "the DPD label is not a PDF")
        if not pdf and b"^XA" not in label:
            raise CarrierError(NAME, "unavailable", "the DPD label is not ZPL")
        return label

    # -- cancel, recount, tracking ---------------------------------------------------------

    def _cancel(self, client: httpx.Client, shipment_id: str) -> None:
        body = {"shipmentId": shipment_id, "comment": "cancelled in Packbench"}
        try:
            self._post(client, "shipment/cancel", body)
        except CarrierError as exc:
            if exc.reason in ("auth_failed", "already_scanned") or exc.transient:
                raise
            # Any other refusal of a cancel is DPD keeping the shipment: a person must act.
            raise CarrierError(
                NAME, "rejected", exc.message, status=exc.status, reason="already_scanned"
            ) from exc

    def _cancel_quietly(self, client: httpx.Client, shipment_id: str) -> None:
        try:
            self._cancel(client, shipment_id)
        except CarrierError as exc:
            log.warning("could not cancel DPD shipment %s: %s", shipment_id, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Cancel the parcel's shipment (all its parcels); once DPD has it, "already_scanned"."""
        with self._client() as client:
            self._cancel(client, parcel.carrier_ref)

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """DPD fixes a shipment's parcel count when it is created: nothing to print again."""
        return None

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's operations (`track`), normalised, oldest first."""
        with self._client() as client:
            answer = self._json(self._post(client, "track", {"parcels": [{"id": tracking_number}]}))
        events: list[TrackingEvent] = []
        for parcel in answer.get("parcels") or [] if isinstance(answer, dict) else []:
            if isinstance(parcel.get("error"), Mapping):
                raise self._error(parcel["error"])
            for op in parcel.get("operations") or []:
                code = int(op.get("operationCode") or 0)
                status = (
                    "delivered"
                    if code == DELIVERED
                    else "out_for_delivery"
                    if code in OUT_FOR_DELIVERY
                    else "exception"
                    if code in PROBLEM
                    else "in_transit"
                )
                at = datetime.fromisoformat(str(op.get("dateTime")))
                place = op.get("place")
                if isinstance(place, Mapping):
                    place = place.get("siteName") or place.get("name") or ""
                events.append(
                    TrackingEvent(
                        tracking_number=tracking_number,
                        status=status,
                        at=at if at.tzinfo else at.replace(tzinfo=UTC),
                        message=str(op.get("description") or code),
                        location=str(place or ""),
                    )
                )
        return sorted(events, key=lambda e: e.at)


@register(NAME)
def _factory(config: Mapping[str, Any]) -> DpdCarrier:
    return DpdCarrier(config)
