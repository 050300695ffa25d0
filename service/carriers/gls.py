"""GLS through the MyGLS API (HU, RO, CZ, SK, SI, HR, RS), as GLS documents it.

Source: the MyGLS API documentation (api.mygls.<cc>/docs/MyGLS_API.pdf, ver. 25.12.11) as
read by public clients (node-mygls; the MyGLS WooCommerce plugin): JSON POSTs to
`https://api[.test].mygls.<cc>/ParcelService.svc/json/<Method>`, each body carrying
`Username` and `Password` (the SHA-512 digest of the password as a list of byte values).
Errors arrive with HTTP 200 in `...ErrorList` entries `{ErrorCode, ErrorDescription,
ClientReferenceList, ParcelIdList}` (Appendix A: -1 unauthorised, 4 no such parcel, 6 not in
PRINTED state any more, 16/19/20/21/1000/1001 GLS-side failures).

- create: `PrintLabels` with one ParcelList entry, `Count` = boxes (GLS numbers each box and
  prints "1/2", "2/2"); COD as `CODAmount` + `CODReference`; ParcelShop/locker delivery as
  service `PSD` with the shop id; `TypeOfPrinter` ThermoZPL (203 dpi), ThermoZPL_300DPI or
  Thermo (PDF); `Labels` is the label file as a list of byte values, one page per box;
- reprint: `GetPrintedLabels`; cancel: `DeleteLabels` (only before GLS scans the parcel);
- tracking: `GetParcelStatuses` by parcel number -> `ParcelStatusList`;
- the account's parcels printed in a date range: `GetParcelList` (`PrintDateFrom`,
  `PrintDateTo`) -> `PrintDataInfoList` [{ParcelId, ParcelNumber, ClientReference, Parcel}],
  `GetParcelListErrors`; used to find a shipment of an order that GLS made while we did not
  hear its answer (a timeout), so that a retry does not book the order twice.

Because GLS fixes `Count` when a shipment is made, `books_one_shipment` tells the service to
book an order's boxes again as one shipment when their number grows (see
`service.shipping.labels.rebook_shipment`).

Settings: `country` (the MyGLS country of the account), `client_number`, `username`,
`pickup_services` (default ["parcelshop"]), the limits of `service.carriers.rules`; the
password under secret `carrier:gls:<account>:password`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy.orm import Session

from service.carriers import account, wire
from service.carriers.address_parts import split_street
from service.carriers.base import (
    Address,
    CarrierError,
    CreatedParcel,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.labelfiles import split_pdf, split_zpl
from service.carriers.registry import register
from service.carriers.rules import CarrierRules

log = logging.getLogger(__name__)

NAME = "gls"
TITLE = "GLS"
COUNTRIES = ("HU", "RO", "CZ", "SK", "SI", "HR", "RS")
TRANSIENT_CODES = frozenset({16, 19, 20, 21, 31, 1000, 1001})
NOT_FOUND, NOT_PRINTED_ANY_MORE, UNAUTHORISED = 4, 6, -1
# GLS status codes: 04 out for delivery, 05 delivered; the rest are on the way.
_DELIVERED = {"05"}
_OUT_FOR_DELIVERY = {"04"}
_DOTNET_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
# Words in GLS's error description -> the reason a person reads.
# First match wins: "PSD service needs ContactPhone" is about the phone, not the shop.
_WORDS = (
    (re.compile(r"zip", re.I), "postcode_rejected"),
    (re.compile(r"phone", re.I), "phone_missing"),
    (re.compile(r"weight", re.I), "overweight"),
    (re.compile(r"\bCOD(?!e)", re.I), "cod_over_limit"),
    (re.compile(r"parcel ?shop|\bPSD\b", re.I), "pickup_point_closed"),
)


def password_digest(password: str) -> list[int]:
    """What MyGLS wants as `Password`: SHA-512 of the UTF-8 password, as byte values."""
    return list(hashlib.sha512(password.encode("utf-8")).digest())


def parse_gls_date(raw: str) -> datetime:
    """A WCF JSON date ("/Date(1733300000000+0100)/") or ISO text, as an aware datetime."""
    match = _DOTNET_DATE.fullmatch(raw.strip())
    if match is None:
        at = datetime.fromisoformat(raw)
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    at = datetime.fromtimestamp(int(match[1]) / 1000, tz=UTC)
    if match[2]:
        sign = 1 if match[2][0] == "+" else -1
        offset = timedelta(hours=int(match[2][1:3]), minutes=int(match[2][3:5])) * sign
        at = at.astimezone(timezone(offset))
    return at


def wcf_date(at: datetime) -> str:
    """A datetime as a WCF JSON date ("/Date(1733300000000)/", milliseconds; naive = UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return f"/Date({int(at.timestamp() * 1000)})/"


def _error(errors: list[Mapping[str, Any]], *, creating: bool) -> CarrierError:
    code = int(errors[0].get("ErrorCode") or 0)
    words = "; ".join(
        f"{e.get('ErrorDescription') or 'error'} (code {e.get('ErrorCode')})" for e in errors
    )
    message = f"GLS refused: {words}"
    if code == UNAUTHORISED:
        return CarrierError(NAME, "rejected", message, reason="auth_failed")
    if code in TRANSIENT_CODES:
        return CarrierError(NAME, "unavailable", message)
    if code == NOT_PRINTED_ANY_MORE and not creating:
        return CarrierError(NAME, "rejected", message, reason="already_scanned")
    said = " ".join(str(e.get("ErrorDescription") or "") for e in errors)
    reason = next((r for pattern, r in _WORDS if pattern.search(said)), "invalid_data")
    return CarrierError(NAME, "rejected", message, reason=reason)


def _address(address: Address) -> dict[str, Any]:
    street, number = split_street(address.street1)
    return {
        "Name": address.company or address.name,
        "Street": street,
        "HouseNumber": number,
        "HouseNumberInfo": address.street2,
        "City": address.city,
        "ZipCode": address.postcode,
        "CountryIsoCode": address.country.upper(),
        "ContactName": address.name,
        "ContactPhone": address.phone,
        "ContactEmail": address.email,
    }


class GlsCarrier:
    """JSON client for one MyGLS account."""

    name = NAME
    supports_tracking = True
    supports_pickup_points = True
    books_one_shipment = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        country = str(config.get("country") or "HU").upper()
        if country not in COUNTRIES:
            raise CarrierError(
                NAME, "config", f"MyGLS serves {', '.join(COUNTRIES)}, not {country}"
            )
        urls = {
            "test": f"https://api.test.mygls.{country.lower()}",
            "production": f"https://api.mygls.{country.lower()}",
        }
        self.url = account.base_url(NAME, config, urls) + "/ParcelService.svc/json"
        self.timeout = float(config.get("timeout_seconds", 30))
        self.pickup_services = {str(s) for s in config.get("pickup_services") or ["parcelshop"]}

    def _post(self, client: httpx.Client, method: str, body: dict[str, Any]) -> dict[str, Any]:
        signed = {
            "Username": str(self.config.get("username") or ""),
            "Password": password_digest(account.credential(NAME, self.config, "password")),
            **body,
        }
        response = wire.call(client, NAME, TITLE, "POST", f"{self.url}/{method}", json=signed)
        if response.status_code >= 400:
            raise CarrierError(
                NAME,
                "rejected",
                f"GLS answered {response.status_code}: {response.text[:200]}",
                status=response.status_code,
                reason="invalid_data",
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise CarrierError(NAME, "unavailable", "GLS answered without JSON") from exc
        if not isinstance(answer, dict):
            raise CarrierError(NAME, "unavailable", "GLS answered something unexpected")
        if int(answer.get("ErrorCode") or 0) != 0:
            raise _error([answer], creating=method == "PrintLabels")
        return answer

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout)

    def _printer(self, request: ShipmentRequest) -> str:
        if request.label_format == "pdf":
            return "Thermo"
        return "ThermoZPL_300DPI" if request.dpi == 300 else "ThermoZPL"

    def rules(self, request: ShipmentRequest) -> CarrierRules:
        """The account's limits, with a shop id required for ParcelShop delivery."""
        return CarrierRules.from_config(
            NAME, self.config, pickup_required=request.service in self.pickup_services
        )

    def _parcel(self, request: ShipmentRequest, sender: Address) -> dict[str, Any]:
        parcel: dict[str, Any] = {
            "ClientNumber": int(str(self.config.get("client_number") or 0)),
            "ClientReference": request.order_number,
            "Count": len(request.parcels),
            "Content": str(self.config.get("content") or request.order_number),
            "PickupAddress": _address(sender),
            "DeliveryAddress": _address(request.recipient),
            "ServiceList": [],
        }
        if request.cod_amount is not None:
            parcel["CODAmount"] = float(request.cod_amount)
            parcel["CODReference"] = request.order_number
        if request.pickup_point:
            parcel["ServiceList"].append(
                {"Code": "PSD", "PSDParameter": {"StringValue": request.pickup_point}}
            )
        return parcel

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """One GLS shipment of n parcels, a label each; all or none."""
        self.rules(request).check(request)
        body = {
            "ParcelList": [self._parcel(request, request.sender)],
            "TypeOfPrinter": self._printer(request),
            "ShowPrintDialog": False,
        }
        with self._client() as client:
            answer = self._post(client, "PrintLabels", body)
            infos = list(answer.get("PrintLabelsInfoList") or [])
            errors = list(answer.get("PrintLabelsErrorList") or [])
            try:
                if errors:
                    raise _error(errors, creating=True)
                labels = self._split(request, bytes(answer.get("Labels") or []))
                if len(infos) != len(request.parcels) or len(labels) != len(infos):
                    raise CarrierError(
                        NAME,
                        "unavailable",
                        f"asked for {len(request.parcels)} labels, GLS gave {len(infos)} parcels "
                        f"and {len(labels)} labels",
                    )
            except CarrierError:
                self._delete_quietly(
                    client, [int(i["ParcelId"]) for i in infos if i.get("ParcelId")]
                )
                raise
        fmt: Any = "pdf" if request.label_format == "pdf" else "zpl"
        return [
            CreatedParcel(spec.box_no, str(info["ParcelNumber"]), str(info["ParcelId"]), fmt, label)
            for spec, info, label in zip(request.parcels, infos, labels, strict=True)
        ]

    def _split(self, request: ShipmentRequest, data: bytes) -> list[bytes]:
        if request.label_format == "pdf":
            return split_pdf(NAME, data) if data else []
        return split_zpl(data)

    def reprint(self, parcel: CreatedParcel, request: ShipmentRequest) -> bytes:
        """The label of an existing parcel again (`GetPrintedLabels`), e.g. a damaged one."""
        body = {
            "ParcelIdList": [int(parcel.carrier_ref)],
            "TypeOfPrinter": self._printer(request),
            "ShowPrintDialog": False,
        }
        with self._client() as client:
            answer = self._post(client, "GetPrintedLabels", body)
        errors = list(answer.get("GetPrintedLabelsErrorList") or [])
        if errors:
            raise _error(errors, creating=False)
        labels = self._split(request, bytes(answer.get("Labels") or []))
        if len(labels) != 1:
            raise CarrierError(NAME, "unavailable", f"GLS reprinted {len(labels)} labels, not 1")
        return labels[0]

    def _delete(self, client: httpx.Client, parcel_ids: list[int]) -> None:
        answer = self._post(client, "DeleteLabels", {"ParcelIdList": parcel_ids})
        errors = [
            e
            for e in answer.get("DeleteLabelsErrorList") or []
            if int(e.get("ErrorCode") or 0) != NOT_FOUND  # gone already: that is cancelled
        ]
        if errors:
            raise _error(errors, creating=False)

    def _delete_quietly(self, client: httpx.Client, parcel_ids: list[int]) -> None:
        if not parcel_ids:
            return
        try:
            self._delete(client, parcel_ids)
        except CarrierError as exc:
            log.warning("could not delete GLS parcels %s: %s", parcel_ids, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Delete one parcel's label; once GLS scanned it, reason "already_scanned"."""
        with self._client() as client:
            self._delete(client, [int(parcel.carrier_ref)])

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """GLS fixes a shipment's parcel count when it is created: nothing to print again."""
        return None

    def find_parcels(
        self, session: Session, reference: str, since: datetime, until: datetime
    ) -> list[CreatedParcel]:
        """Parcels GLS printed between `since` and `until` under `ClientReference` `reference`
        (`GetParcelList` by print date); no label bytes, box numbers 1..n as GLS lists them."""
        body = {
            "PickupDateFrom": None,
            "PickupDateTo": None,
            "PrintDateFrom": wcf_date(since),
            "PrintDateTo": wcf_date(until),
        }
        with self._client() as client:
            answer = self._post(client, "GetParcelList", body)
        errors = list(answer.get("GetParcelListErrors") or [])
        if errors:
            raise _error(errors, creating=False)
        found = []
        for info in answer.get("PrintDataInfoList") or []:
            parcel = info.get("Parcel") or {}
            ref = info.get("ClientReference") or parcel.get("ClientReference")
            if str(ref or "") != reference or not info.get("ParcelId"):
                continue
            found.append((str(info["ParcelNumber"]), str(info["ParcelId"])))
        return [
            CreatedParcel(box, number, parcel_id, "zpl", b"")
            for box, (number, parcel_id) in enumerate(found, start=1)
        ]

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's statuses (`GetParcelStatuses`), normalised, oldest first."""
        body = {"ParcelNumber": int(tracking_number), "ReturnPOD": False, "LanguageIsoCode": "EN"}
        with self._client() as client:
            answer = self._post(client, "GetParcelStatuses", body)
        errors = list(answer.get("GetParcelStatusErrors") or [])
        if errors:
            raise _error(errors, creating=False)
        events = []
        for status in answer.get("ParcelStatusList") or []:
            code = str(status.get("StatusCode") or "")
            normal = (
                "delivered"
                if code in _DELIVERED
                else "out_for_delivery"
                if code in _OUT_FOR_DELIVERY
                else "in_transit"
            )
            events.append(
                TrackingEvent(
                    tracking_number=tracking_number,
                    status=normal,
                    at=parse_gls_date(str(status.get("StatusDate") or "")),
                    message=str(status.get("StatusDescription") or code),
                    location=str(status.get("DepotCity") or ""),
                )
            )
        return sorted(events, key=lambda e: e.at)


@register(NAME)
def _factory(config: Mapping[str, Any]) -> GlsCarrier:
    return GlsCarrier(config)
