"""BRT (Italy) through the BRT REST API, as BRT documents it.

Source: BRT's "RestShipmentProd" documentation (Swagger `SwaggerViewerShipment.json`, the
ShipmentApiV00 pages) as transcribed by public integrations: JSON to
`https://api.brt.it/rest/v1/shipments/...`, each body carrying `account {userID, password}`;
every answer carries `executionMessage {code, severity, codeDesc, message}` with HTTP 200:
0 = done, > 0 = done with a warning (4 data normalised, 5 address replaced by the
BRT-fermopoint's), < 0 = refused (-7 login failed, -57 login parameter missing, -63
routing error (postcode/city), -64 numbering, -65 label printing, -67 account error,
-68 wrong or inconsistent data, -69 pudoId not valid, -101 not confirmable, -102 already
confirmed, -151 never created or over 40 days old, -152 already being handled at the depot,
-153 being processed: try again, -154 several shipments match, -155 allocated for deletion).

- create: `POST shipments/shipment` with `createData` (one shipment of `numberOfParcels`
  boxes, at most 30, `weightKG` in total; COD as `cashOnDelivery` + `isCODMandatory` "1" +
  `codCurrency`; a BRT-fermopoint as `pudoId`), `isLabelRequired` 1 and `labelParameters
  {outputType PDF|ZPL}`; the answer's `labels.label[]` has per box `parcelID` (the label's
  18-character number), `trackingByParcelID` (the 15-character number for tracking) and
  `stream` (the label, base64);
- confirm: `PUT shipments/shipment {confirmData}` (BRT takes in charge only confirmed
  shipments; setting `confirm`, default true);
- cancel: `PUT shipments/delete {deleteData}` by the sender references (-152 once the depot
  handles it);
- tracking: `GET tracking/parcelID/<trackingByParcelID>` with `userID`/`password` headers ->
  `ttParcelIdResponse.lista_eventi[].evento {data, ora, descrizione, filiale}`.

A shipment is found again by `numericSenderReference` (the order number's digits) and
`alphanumericSenderReference` (the order number, 15 characters; "/<box>" for boxes labelled
later), kept in each parcel's `carrier_ref` as "numeric|alphanumeric|parcelID". A create
that timed out or failed with a 5xx is deleted again by these references before the jobs
try once more, so the retry does not leave a second shipment of the same references.

Settings: `user_id`, `sender_customer_code` (default the user id), `departure_depot`,
`pricing_condition_code`, `service_type` ("" standard, "E" priority, "H" 10:30),
`cod_payment_type` ("" cash), `confirm`, `pickup_services` (default ["fermopoint"]), the
limits of `service.carriers.rules` (COD in EUR only: BRT's `codCurrency`); the password
under secret `carrier:brt:<account>:password`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session

from service.carriers import account, wire
from service.carriers.base import (
    CarrierError,
    CreatedParcel,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.registry import register
from service.carriers.rules import CarrierRules

log = logging.getLogger(__name__)

NAME = "brt"
TITLE = "BRT"
# BRT gives test credentials for the one host: the account decides.
URLS = {"test": "https://api.brt.it/rest/v1", "production": "https://api.brt.it/rest/v1"}
MAX_PARCELS = 30
MAX_ADDRESS = 35  # consigneeAddress maxLength
BRT_TIME = ZoneInfo("Europe/Rome")
AUTH_CODES = frozenset({-7, -57})
TRANSIENT_CODES = frozenset({-64, -65, -153})
HANDLED_CODES = frozenset({-101, -102, -152, -155})  # cancel/confirm refused: BRT has it
GONE = -151
_CODE_REASONS = {-63: "postcode_rejected", -69: "pickup_point_closed", -67: "auth_failed"}
_WORDS = (
    (re.compile(r"phone|telefon|cellular", re.I), "phone_missing"),
    (re.compile(r"weight|peso", re.I), "overweight"),
    (re.compile(r"cashOnDelivery|contrassegno|\bCOD\b", re.I), "cod_over_limit"),
    (re.compile(r"zip|\bcap\b", re.I), "postcode_rejected"),
    (re.compile(r"pudo", re.I), "pickup_point_closed"),
)
_DELIVERED = re.compile(r"\bCONSEGNAT[AO]\b|\bDELIVERED\b", re.I)
_OUT = re.compile(r"IN CONSEGNA|OUT FOR DELIVERY|DISPONIBILE.*FERMOPOINT", re.I)


@dataclass(frozen=True)
class BrtRef:
    """How BRT finds a shipment again: the sender's two references (and the label number)."""

    numeric: int
    alpha: str
    parcel_id: str = ""

    def __str__(self) -> str:
        return f"{self.numeric}|{self.alpha}|{self.parcel_id}"

    @classmethod
    def parse(cls, raw: str) -> BrtRef:
        numeric, _, rest = raw.partition("|")
        alpha, _, parcel_id = rest.partition("|")
        return cls(int(numeric), alpha, parcel_id)


def sender_references(order_number: str, first_box: int = 1) -> tuple[int, str]:
    """numericSenderReference (the order number's digits, at most 15) and the alphanumeric one.

    An order number without digits gets a stable number from its CRC-32, so a retry of the
    same order finds the same shipment. Boxes labelled later (a box added after the
    label-ahead) are a shipment of their own, told apart by "/<first box>".
    """
    digits = "".join(ch for ch in order_number if ch.isdigit())[-15:]
    numeric = int(digits) if digits and int(digits) else zlib.crc32(order_number.encode()) or 1
    suffix = f"/{first_box}" if first_box > 1 else ""
    return numeric, order_number[: 15 - len(suffix)] + suffix


def _message(answer: Mapping[str, Any]) -> tuple[int, str]:
    em = answer.get("executionMessage") or {}
    code = int(em.get("code") or 0)
    words = " - ".join(str(w) for w in (em.get("codeDesc"), em.get("message")) if w)
    return code, words or "no message"


def _error(code: int, words: str, *, cancelling: bool = False) -> CarrierError:
    message = f"BRT refused (code {code}): {words}"
    if code in AUTH_CODES:
        return CarrierError(NAME, "rejected", message, reason="auth_failed")
    if code in TRANSIENT_CODES:
        return CarrierError(NAME, "unavailable", message)
    if cancelling and code in HANDLED_CODES:
        return CarrierError(NAME, "rejected", message, reason="already_scanned")
    reason = _CODE_REASONS.get(code) or next(
        (r for pattern, r in _WORDS if pattern.search(words)), "invalid_data"
    )
    return CarrierError(NAME, "rejected", message, reason=reason)


class BrtCarrier:
    """REST client for one BRT account."""

    name = NAME
    supports_tracking = True
    supports_pickup_points = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.url = account.base_url(NAME, config, URLS)
        self.timeout = float(config.get("timeout_seconds", 30))
        self.user_id = str(config.get("user_id") or "")
        self.customer_code = int(str(config.get("sender_customer_code") or self.user_id or 0))
        self.depot = int(str(config.get("departure_depot") or 0))
        self.pickup_services = {str(s) for s in config.get("pickup_services") or ["fermopoint"]}
        self.confirm = str(config.get("confirm", True)).lower() not in ("0", "false", "no")

    # -- the wire ---------------------------------------------------------------------------

    def _account(self) -> dict[str, str]:
        return {
            "userID": self.user_id,
            "password": account.credential(NAME, self.config, "password"),
        }

    def _call(
        self, client: httpx.Client, method: str, path: str, wrapper: str, **kw: Any
    ) -> dict[str, Any]:
        response = wire.call(client, NAME, TITLE, method, f"{self.url}/{path}", **kw)
        try:
            answer = response.json()
        except ValueError as exc:
            raise CarrierError(
                NAME,
                "unavailable" if response.status_code < 400 else "rejected",
                f"BRT answered {response.status_code} without JSON: {response.text[:200]}",
                status=response.status_code,
                reason="" if response.status_code < 400 else "invalid_data",
            ) from exc
        inner = answer.get(wrapper) if isinstance(answer, dict) else None
        if not isinstance(inner, dict):
            raise CarrierError(
                NAME,
                "unavailable" if response.status_code < 400 else "rejected",
                f"BRT answered {response.status_code} without {wrapper}: {response.text[:200]}",
                status=response.status_code,
                reason="" if response.status_code < 400 else "invalid_data",
            )
        return inner

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout)

    # -- create -----------------------------------------------------------------------------

    def rules(self, request: ShipmentRequest) -> CarrierRules:
        """The account's limits; COD in EUR (BRT's `codCurrency`); a point for fermopoint."""
        return CarrierRules.from_config(
            NAME,
            self.config,
            pickup_required=request.service in self.pickup_services,
            cod_currencies=frozenset({"EUR"}),
        )

    def _create_data(self, request: ShipmentRequest) -> dict[str, Any]:
        r = request.recipient
        numeric, alpha = sender_references(request.order_number, request.parcels[0].box_no)
        grams = sum(p.weight_grams for p in request.parcels)
        data: dict[str, Any] = {
            "network": "",
            "departureDepot": self.depot,
            "senderCustomerCode": self.customer_code,
            "deliveryFreightTypeCode": "DAP",
            "consigneeCompanyName": (r.company or r.name)[:70],
            "consigneeAddress": " ".join(p for p in (r.street1, r.street2) if p),
            "consigneeZIPCode": r.postcode,
            "consigneeCity": r.city,
            "consigneeProvinceAbbreviation": r.region[:2].upper() if len(r.region) == 2 else "",
            "consigneeCountryAbbreviationISOAlpha2": r.country.upper(),
            "consigneeContactName": r.name[:35],
            "consigneeMobilePhoneNumber": r.phone,
            "consigneeEMail": r.email,
            "isAlertRequired": "1" if r.email or r.phone else "0",
            "pricingConditionCode": str(self.config.get("pricing_condition_code") or ""),
            "serviceType": str(self.config.get("service_type") or ""),
            "numberOfParcels": len(request.parcels),
            "weightKG": round(grams / 1000, 1) or 0.1,
            "numericSenderReference": numeric,
            "alphanumericSenderReference": alpha,
            "isCODMandatory": "0",
        }
        if request.cod_amount is not None:
            data.update(
                cashOnDelivery=float(request.cod_amount.quantize(Decimal("0.01"))),
                isCODMandatory="1",
                codCurrency=request.currency.upper(),
                codPaymentType=str(self.config.get("cod_payment_type") or ""),
            )
        if request.pickup_point:
            data["pudoId"] = request.pickup_point
        return data

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """One BRT shipment of n parcels with its labels, confirmed; all or none."""
        self.rules(request).check(request)
        if len(request.parcels) > MAX_PARCELS:
            raise CarrierError(
                NAME,
                "rejected",
                f"BRT takes at most {MAX_PARCELS} parcels in one shipment, not "
                f"{len(request.parcels)}: split the order",
                reason="invalid_data",
            )
        if request.pickup_point and len(request.pickup_point) > 20:
            raise CarrierError(
                NAME,
                "rejected",
                f"{request.pickup_point!r} is not a BRT-fermopoint id (at most 20 characters)",
                reason="pickup_point_closed",
            )
        street = " ".join(p for p in (request.recipient.street1, request.recipient.street2) if p)
        if len(street) > MAX_ADDRESS:
            raise CarrierError(
                NAME,
                "rejected",
                f"BRT takes at most {MAX_ADDRESS} characters of street ({street!r} has "
                f"{len(street)}): shorten the order's address",
                reason="invalid_data",
            )
        zpl = request.label_format != "pdf" and request.dpi != 300  # BRT's ZPL is 203 dpi
        create_data = self._create_data(request)
        body = {
            "account": self._account(),
            "createData": create_data,
            "isLabelRequired": "1",
            "labelParameters": {
                "outputType": "ZPL" if zpl else "PDF",
                "offsetX": 0,
                "offsetY": 0,
                "isBorderRequired": "0",
                "isLogoRequired": "0",
                "isBarcodeControlRowRequired": "0",
            },
        }
        ref = BrtRef(
            int(create_data["numericSenderReference"]),
            str(create_data["alphanumericSenderReference"]),
        )
        with self._client() as client:
            try:
                answer = self._call(
                    client, "POST", "shipments/shipment", "createResponse", json=body
                )
            except CarrierError as exc:
                if exc.transient:  # BRT may have made it before the answer was lost
                    self._delete_quietly(client, ref)
                raise
            code, words = _message(answer)
            if code < 0:
                raise _error(code, words)
            try:
                labels = list((answer.get("labels") or {}).get("label") or [])
                if len(labels) != len(request.parcels):
                    raise CarrierError(
                        NAME,
                        "unavailable",
                        f"asked for {len(request.parcels)} labels, BRT gave {len(labels)}",
                    )
                made = [
                    CreatedParcel(
                        spec.box_no,
                        str(label.get("trackingByParcelID") or label.get("parcelID")),
                        str(BrtRef(ref.numeric, ref.alpha, str(label.get("parcelID") or ""))),
                        "zpl" if zpl else "pdf",
                        self._stream(label, zpl),
                    )
                    for spec, label in zip(request.parcels, labels, strict=True)
                ]
                if self.confirm:
                    self._confirm(client, ref)
            except CarrierError:
                self._delete_quietly(client, ref)
                raise
        return made

    @staticmethod
    def _stream(label: Mapping[str, Any], zpl: bool) -> bytes:
        try:
            data = base64.b64decode(str(label.get("stream") or ""), validate=True)
        except binascii.Error as exc:
            raise CarrierError(NAME, "unavailable", "the BRT label is not base64") from exc
        if zpl and b"^XA" not in data:
            raise CarrierError(NAME, "unavailable", "the BRT label is not ZPL")
        if not zpl and not data.startswith(b"%PDF"):
            raise CarrierError(NAME, "unavailable", "the BRT label is not a PDF")
        return data

    def _confirm(self, client: httpx.Client, ref: BrtRef) -> None:
        body = {
            "account": self._account(),
            "confirmData": {
                "senderCustomerCode": self.customer_code,
                "numericSenderReference": ref.numeric,
                "alphanumericSenderReference": ref.alpha,
            },
        }
        answer = self._call(client, "PUT", "shipments/shipment", "confirmResponse", json=body)
        code, words = _message(answer)
        if code < 0 and code != -102:  # already confirmed (a retry): that is confirmed
            raise _error(code, words)

    # -- cancel, recount, tracking ---------------------------------------------------------

    def _delete(self, client: httpx.Client, ref: BrtRef) -> None:
        body = {
            "account": self._account(),
            "deleteData": {
                "senderCustomerCode": self.customer_code,
                "numericSenderReference": ref.numeric,
                "alphanumericSenderReference": ref.alpha,
            },
        }
        answer = self._call(client, "PUT", "shipments/delete", "deleteResponse", json=body)
        code, words = _message(answer)
        if code < 0 and code != GONE:  # gone: deleted with an earlier parcel of the order
            raise _error(code, words, cancelling=True)

    def _delete_quietly(self, client: httpx.Client, ref: BrtRef) -> None:
        try:
            self._delete(client, ref)
        except CarrierError as exc:
            log.warning("could not delete BRT shipment %s: %s", ref, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Delete the parcel's shipment (all its parcels); once the depot has it, refused."""
        with self._client() as client:
            self._delete(client, BrtRef.parse(parcel.carrier_ref))

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """BRT fixes a shipment's parcel count when it is created: nothing to print again."""
        return None

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's events (`tracking/parcelID`), normalised, oldest first."""
        secret = self._account()
        headers = {"userID": secret["userID"], "password": secret["password"]}
        with self._client() as client:
            answer = self._call(
                client,
                "GET",
                f"tracking/parcelID/{tracking_number}",
                "ttParcelIdResponse",
                headers=headers,
            )
        code, words = _message(answer)
        if code < 0:
            raise _error(code, words)
        events: list[TrackingEvent] = []
        for item in answer.get("lista_eventi") or []:
            event = item.get("evento") if isinstance(item, Mapping) else None
            if not isinstance(event, Mapping) or not event.get("data"):
                continue
            text = str(event.get("descrizione") or "")
            status = (
                "delivered"
                if _DELIVERED.search(text)
                else "out_for_delivery"
                if _OUT.search(text)
                else "in_transit"
            )
            events.append(
                TrackingEvent(
                    tracking_number=tracking_number,
                    status=status,
                    at=parse_brt_time(str(event["data"]), str(event.get("ora") or "")),
                    message=text,
                    location=str(event.get("filiale") or ""),
                )
            )
        return sorted(events, key=lambda e: e.at)


def parse_brt_time(day: str, time: str) -> datetime:
    """BRT's `data` ("dd.mm.yyyy" or ISO) and `ora` ("hh.mm" or "hh:mm"), in Italian time."""
    day, time = day.strip(), (time.strip() or "00:00").replace(".", ":")
    for pattern in ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(f"{day} {time[:5]}", pattern).replace(tzinfo=BRT_TIME)
        except ValueError:
            continue
    raise CarrierError(NAME, "unavailable", f"BRT gave an event date {day!r} {time!r}")


@register(NAME)
def _factory(config: Mapping[str, Any]) -> BrtCarrier:
    return BrtCarrier(config)
