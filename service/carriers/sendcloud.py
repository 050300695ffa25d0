"""Sendcloud's parcels API (v2), as its public documentation describes it.

- create: `POST /parcels` with `{"parcels": [...]}` and `request_label: true` (one parcel per
  box); the answer carries each parcel's `id`, `tracking_number` and `label.label_printer`
  (a URL of the A6 PDF), which is downloaded with the same credentials;
- cancel: `POST /parcels/{id}/cancel` (200 cancelled, 202 queued, 410 deleted);
- tracking: `GET /tracking/{tracking_number}` -> `statuses[]` with `parent_status`;
- errors: `{"error": {"code", "request", "message"}}`; 4xx is a rejection (bad address,
  weight...), 5xx and timeouts are the carrier being away.

Credentials: `public_key` from settings or PACKBENCH_CARRIER_SENDCLOUD_PUBLIC_KEY; the
secret key from PACKBENCH_CARRIER_SENDCLOUD_SECRET_KEY or the keyring entry
`carrier:sendcloud:secret_key` — never from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from service.carriers.base import (
    CarrierError,
    CreatedParcel,
    ParcelSpec,
    ShipmentRequest,
    TrackingEvent,
)
from service.carriers.registry import register
from service.secrets_store import SecretUnavailable, get_secret

log = logging.getLogger(__name__)

NAME = "sendcloud"
DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api/v2"
SECRET_REF = "carrier:sendcloud:secret_key"  # noqa: S105 - a keyring entry name

_STATUS_MAP = {
    "delivered": "delivered",
    "announced": "announced",
    "ready-to-send": "announced",
    "out-for-delivery": "out_for_delivery",
    "exception": "exception",
    "delivery-failed": "exception",
    "unable-to-deliver": "exception",
    "returned-to-sender": "exception",
}


def _credentials(config: Mapping[str, Any]) -> tuple[str, str]:
    public = str(config.get("public_key") or "")
    secret = str(config.get("secret_key") or "")
    if not secret:
        try:
            secret = get_secret(SECRET_REF)
        except SecretUnavailable as exc:
            raise CarrierError(NAME, "config", f"no Sendcloud secret key: {exc}") from exc
    if not public:
        raise CarrierError(NAME, "config", "no Sendcloud public key configured")
    return public, secret


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if body.get("message"):
            return str(body["message"])
    return str(body)[:200]


class SendcloudCarrier:
    """HTTP client for one Sendcloud account."""

    name = NAME
    supports_tracking = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.base_url = str(config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = float(config.get("timeout_seconds", 10))
        self.shipment_id = config.get("shipment_id")
        self.config = config

    def _client(self) -> httpx.Client:
        return httpx.Client(auth=_credentials(self.config), timeout=self.timeout)

    def _call(self, client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            response = client.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise CarrierError(NAME, "timeout", f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise CarrierError(NAME, "unavailable", f"cannot reach Sendcloud: {exc}") from exc
        if response.status_code >= 500:
            raise CarrierError(
                NAME,
                "unavailable",
                f"Sendcloud answered {response.status_code}: {_error_message(response)}",
                status=response.status_code,
            )
        if response.status_code >= 400 and response.status_code != 410:
            raise CarrierError(
                NAME,
                "rejected",
                _error_message(response),
                status=response.status_code,
            )
        return response

    def _parcel_body(self, request: ShipmentRequest, spec: ParcelSpec) -> dict[str, Any]:
        r = request.recipient
        body: dict[str, Any] = {
            "name": r.name,
            "company_name": r.company,
            "address": r.street1,
            "address_2": r.street2,
            "city": r.city,
            "postal_code": r.postcode,
            "country": r.country,
            "country_state": r.region or None,
            "telephone": r.phone,
            "email": r.email,
            "order_number": request.order_number,
            "weight": f"{spec.weight_grams / 1000:.3f}",
            "quantity": 1,
            "request_label": True,
        }
        if spec.length_mm and spec.width_mm and spec.height_mm:
            body.update(
                length=f"{spec.length_mm / 10:.1f}",
                width=f"{spec.width_mm / 10:.1f}",
                height=f"{spec.height_mm / 10:.1f}",
            )
        if self.shipment_id is not None:
            body["shipment"] = {"id": int(self.shipment_id)}
        return body

    def create_shipment(self, session: Session, request: ShipmentRequest) -> list[CreatedParcel]:
        """Announce every box in one request, download each label; all or nothing."""
        payload = {"parcels": [self._parcel_body(request, p) for p in request.parcels]}
        with self._client() as client:
            response = self._call(client, "POST", f"{self.base_url}/parcels", json=payload)
            answered = response.json().get("parcels") or []
            created: list[CreatedParcel] = []
            try:
                if len(answered) != len(request.parcels):
                    raise CarrierError(
                        NAME,
                        "unavailable",
                        f"asked for {len(request.parcels)} parcels, got {len(answered)}",
                    )
                for spec, parcel in zip(request.parcels, answered, strict=True):
                    created.append(self._labelled(client, spec, parcel))
            except CarrierError:
                # Nothing half-created: cancel what Sendcloud already announced.
                for p in answered:
                    self._cancel_quietly(client, str(p.get("id", "")))
                raise
        return created

    def _labelled(
        self, client: httpx.Client, spec: ParcelSpec, parcel: Mapping[str, Any]
    ) -> CreatedParcel:
        tracking = str(parcel.get("tracking_number") or "")
        url = (parcel.get("label") or {}).get("label_printer")
        if not tracking or not url:
            raise CarrierError(NAME, "unavailable", f"parcel {parcel.get('id')} has no label yet")
        pdf = self._call(client, "GET", str(url)).content
        if not pdf.startswith(b"%PDF"):
            raise CarrierError(NAME, "unavailable", "the label download is not a PDF")
        return CreatedParcel(spec.box_no, tracking, str(parcel["id"]), "pdf", pdf)

    def _cancel_quietly(self, client: httpx.Client, parcel_id: str) -> None:
        if not parcel_id:
            return
        try:
            self._call(client, "POST", f"{self.base_url}/parcels/{parcel_id}/cancel")
        except CarrierError as exc:
            log.warning("could not cancel Sendcloud parcel %s: %s", parcel_id, exc)

    def cancel(self, session: Session, parcel: CreatedParcel) -> None:
        """Cancel (or, if never announced, delete) one parcel."""
        with self._client() as client:
            response = self._call(
                client, "POST", f"{self.base_url}/parcels/{parcel.carrier_ref}/cancel"
            )
        if response.status_code not in (200, 202, 410):
            raise CarrierError(NAME, "rejected", _error_message(response))

    def recount(
        self, session: Session, request: ShipmentRequest, tracking_number: str
    ) -> CreatedParcel | None:
        """Sendcloud announces each parcel on its own: its labels carry no parcel count."""
        return None

    def tracking_events(self, tracking_number: str) -> list[TrackingEvent]:
        """The parcel's status history, normalised."""
        with self._client() as client:
            body = self._call(client, "GET", f"{self.base_url}/tracking/{tracking_number}").json()
        events: list[TrackingEvent] = []
        for status in body.get("statuses") or []:
            raw = str(status.get("parent_status") or "")
            at = datetime.fromisoformat(str(status["carrier_update_timestamp"]))
            events.append(
                TrackingEvent(
                    tracking_number=tracking_number,
                    status=_STATUS_MAP.get(raw, "in_transit"),
                    at=at if at.tzinfo else at.replace(tzinfo=UTC),
                    message=str(status.get("carrier_message") or raw),
                )
            )
        return sorted(events, key=lambda e: e.at)


@register(NAME)
def _factory(config: Mapping[str, Any]) -> SendcloudCarrier:
    return SendcloudCarrier(config)
