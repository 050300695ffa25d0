"""A local stand-in for the DPD Romania Web API v1, built from its documentation.

Shapes from DPD Romania's "Web API Integration" specification (api.dpd.ro/web-api.html) and
its REST examples: JSON POSTs to `/v1/<service>` with `userName`, `password`, `language` in
the body; a refusal is HTTP 200 `{"error": {"code", "message", "context", "id"}}`.
`shipment` (recipient with `address` or `pickupOfficeId`, `service.additionalServices.cod`,
`content.parcels`) -> `{id, parcels: [{id, seqNo}], price, pickupDate}`; `print` (`parcels:
[{parcel: {id}}]`, `format` pdf/zpl, `paperSize`, `dpi`) -> the label file;
`shipment/cancel {shipmentId, comment}` -> `{}`; `track {parcels: [{id}]}` -> `{parcels:
[{parcelId, operations: [{dateTime, operationCode, description, place}]}]}` (-14 =
delivered). The wording of the refusals, the error codes and a cancel of an already
cancelled shipment answering `{}` are the fake's own.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fake_carrier_labels import pdf_label, zpl_label
from tests.support.loopback_http import serving

_POSTCODES = {642: r"\d{6}", 100: r"\d{4}", 348: r"\d{4}"}


@dataclass
class Shipment:
    id: str
    body: dict[str, Any]
    parcel_ids: list[str]
    cancelled: bool = False
    operations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class FakeDpd:
    """One DPD Romania account: user, password, offices, shipments."""

    def __init__(self) -> None:
        self.username, self.password = "200912345", "dpd-secret"
        self.offices = {77: True, 1139: True, 405: False}  # office / DPDbox id -> open?
        self.shipments: dict[str, Shipment] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: list[str] = []  # "500", "timeout", "label_500"
        self.timeout_seconds = 1.5
        self.url = ""
        self._ids = itertools.count(80147286562)
        self._lock = threading.Lock()

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def parcel(self, parcel_id: str) -> Shipment:
        return next(s for s in self.shipments.values() if parcel_id in s.parcel_ids)

    def operate(self, parcel_id: str, code: int, when: str, text: str, place: str) -> None:
        """DPD scans a parcel: an operation on it; once picked up it cannot be cancelled."""
        self.parcel(parcel_id).operations.setdefault(parcel_id, []).append(
            {"dateTime": when, "operationCode": code, "description": text, "place": place}
        )

    @staticmethod
    def _error(message: str, code: int = 1, context: str = "") -> dict[str, Any]:
        return {"error": {"code": code, "message": message, "context": context, "id": "e1"}}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        to = body.get("recipient") or {}
        if not str((to.get("phone1") or {}).get("number") or "").strip():
            return self._error("Recipient phone is required", 102, "recipient.phone1")
        if "pickupOfficeId" in to:
            office = to["pickupOfficeId"]
            if not self.offices.get(office, False):
                return self._error(f"Office {office} is not active", 104, "pickupOfficeId")
        else:
            address = to.get("address") or {}
            pattern = _POSTCODES.get(int(address.get("countryId") or 0), r".+")
            if not re.fullmatch(pattern, str(address.get("postCode") or "")):
                return self._error(
                    f"Invalid post code {address.get('postCode')!r} for the site",
                    103,
                    "recipient.address.postCode",
                )
        content = body.get("content") or {}
        parcels = content.get("parcels") or [{"seqNo": 1}]
        if len(parcels) != content.get("parcelsCount"):
            return self._error("parcelsCount does not match parcels", 105)
        for p in parcels:
            if float(p.get("weight") or 0) > 31.5:
                return self._error(f"Parcel {p['seqNo']} weight is over 31.5 kg", 106)
        ids = [str(next(self._ids)) for _ in parcels]
        self.shipments[ids[0]] = Shipment(ids[0], body, ids)
        return {
            "id": ids[0],
            "parcels": [{"id": pid, "seqNo": p["seqNo"]} for pid, p in zip(ids, parcels)],
            "price": {"total": 17.5, "currency": "RON"},
            "pickupDate": "2026-12-04",
        }

    def print(self, body: dict[str, Any]) -> tuple[bytes, str] | dict[str, Any]:
        ids = [str((p.get("parcel") or {}).get("id")) for p in body.get("parcels") or []]
        if len(ids) != 1:
            return self._error("the fake prints one parcel at a time")
        try:
            shipment = self.parcel(ids[0])
        except StopIteration:
            return self._error(f"Parcel {ids[0]} not found", 201)
        if shipment.cancelled:
            return self._error(f"Shipment {shipment.id} is cancelled", 202)
        to = shipment.body["recipient"]
        seq = shipment.parcel_ids.index(ids[0]) + 1
        lines = [str(to.get("clientName")), f"{seq}/{len(shipment.parcel_ids)}"]
        if "pickupOfficeId" in to:
            lines.append(f"DPD office {to['pickupOfficeId']}")
        else:
            address = to["address"]
            lines.append(f"{address['streetName']} {address['streetNo']}")
            lines.append(f"{address['postCode']} {address['siteName']}")
        cod = ((shipment.body.get("service") or {}).get("additionalServices") or {}).get("cod")
        if cod:
            lines.append(f"COD {cod['amount']} {cod.get('currencyCode', '')}")
        if body.get("format") == "zpl":
            dpi = 300 if body.get("dpi") == "dpi300" else 203
            return zpl_label(ids[0], lines, dpi=dpi).encode(), "text/plain"
        return pdf_label(ids[0], lines, width_mm=100, height_mm=150), "application/pdf"

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        shipment = self.shipments.get(str(body.get("shipmentId")))
        if shipment is None:
            return self._error(f"Shipment {body.get('shipmentId')} not found", 301)
        if any(ops for ops in shipment.operations.values()):
            return self._error(
                f"Shipment {shipment.id} cannot be cancelled: it has been picked up", 302
            )
        shipment.cancelled = True
        return {}

    def track(self, body: dict[str, Any]) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for item in body.get("parcels") or []:
            pid = str(item.get("id"))
            try:
                ops = self.parcel(pid).operations.get(pid, [])
            except StopIteration:
                out.append({"parcelId": pid, "error": {"code": 201, "message": "Not found"}})
                continue
            out.append({"parcelId": pid, "operations": ops})
        return {"parcels": out}


def _handler(fake: FakeDpd) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, body: Any, ctype: str = "application/json", status: int = 200) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            service = self.path.removeprefix("/v1/").rstrip("/")
            fake.requests.append((service, {k: v for k, v in body.items() if k != "password"}))
            if fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)  # past the client's timeout: dropped
                return
            if fake._fault("500"):
                self._send(b"Internal Server Error", "text/plain", 500)
                return
            if body.get("userName") != fake.username or body.get("password") != fake.password:
                self._send(fake._error("Invalid username or password", 2))
                return
            if service == "shipment":
                self._send(fake.create(body))
            elif service == "print":
                if fake._fault("label_500"):
                    self._send(b"Bad Gateway", "text/plain", 502)
                    return
                answer = fake.print(body)
                if isinstance(answer, dict):
                    self._send(answer)
                else:
                    self._send(answer[0], answer[1])
            elif service == "shipment/cancel":
                self._send(fake.cancel(body))
            elif service == "track":
                self._send(fake.track(body))
            else:
                self._send(fake._error(f"Unknown service {service}", 404), status=404)

    return Handler


@contextmanager
def running_fake_dpd() -> Iterator[FakeDpd]:
    """Start the fake on a free loopback port; its API root is `fake.url + "/v1"`."""
    fake = FakeDpd()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
