"""A local stand-in for the BRT REST API (shipments and tracking), built from its documentation.

Shapes from BRT's RestShipmentProd documentation (SwaggerViewerShipment.json) as public
integrations transcribe it: `POST /rest/v1/shipments/shipment {account {userID, password},
createData, isLabelRequired, labelParameters}` -> `{createResponse: {executionMessage,
parcelNumberFrom, parcelNumberTo, numberOfParcels, labels: {label: [{parcelID,
trackingByParcelID, stream}]}}}`; `PUT .../shipment {account, confirmData}` ->
`{confirmResponse}`; `PUT .../delete {account, deleteData}` -> `{deleteResponse}`;
`GET /rest/v1/tracking/parcelID/<id>` with `userID`/`password` headers ->
`{ttParcelIdResponse: {executionMessage, lista_eventi: [{evento: {data, ora, descrizione,
filiale}}]}}`. Every answer is HTTP 200 with `executionMessage.code` (documented codes:
-7 login failed, -63 routing error, -68 wrong or inconsistent data, -69 pudoId not valid,
-102 already confirmed, -151 not found, -152 being handled at the depot, -154 several
shipments match). The wording of the messages after the code description, the event date
format (dd.mm.yyyy, hh.mm) and a timed-out request being dropped are the fake's own.
"""

from __future__ import annotations

import base64
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

CODE_DESC = {
    -7: "LOGIN FAILED",
    -63: "ROUTING CALCULATION ERROR",
    -68: "WRONG OR INCONSISTENT DATA",
    -69: "PUDO NOT VALID",
    -102: "SHIPMENT ALREADY CONFIRMED",
    -151: "SHIPMENT NOT FOUND",
    -152: "SHIPMENT BEING HANDLED",
    -154: "MULTIPLE SHIPMENTS FOUND",
}


@dataclass
class Shipment:
    numeric: int
    alpha: str
    data: dict[str, Any]
    parcels: list[tuple[str, str]]  # (parcelID, trackingByParcelID)
    confirmed: bool = False
    deleted: bool = False
    handled: bool = False
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class FakeBrt:
    """One BRT account: user, password, customer code, depot, fermopoints, shipments."""

    def __init__(self) -> None:
        self.user_id, self.password = "1020103", "brt-secret"
        self.customer_code, self.depot = 1020103, 131
        self.pudos = {"IT07632": True, "IT00001": False}  # BRT-fermopoint id -> open?
        self.shipments: list[Shipment] = []
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_next: list[str] = []  # "500", "timeout", "confirm_500", "lost_502"
        self.timeout_seconds = 1.5
        self.url = ""
        self._serial = itertools.count(1)
        self._lock = threading.Lock()

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def live(self) -> list[Shipment]:
        return [s for s in self.shipments if not s.deleted]

    def by_tracking(self, tracking: str) -> Shipment | None:
        return next((s for s in self.shipments if any(t == tracking for _p, t in s.parcels)), None)

    def scan(self, tracking: str, day: str, hour: str, text: str, branch: str) -> None:
        """BRT's depot handles the parcel: an event, and the shipment can no longer be deleted."""
        shipment = self.by_tracking(tracking)
        assert shipment is not None
        shipment.handled = True
        shipment.events.setdefault(tracking, []).append(
            {"evento": {"data": day, "ora": hour, "descrizione": text, "filiale": branch}}
        )

    @staticmethod
    def _message(code: int = 0, message: str = "") -> dict[str, Any]:
        severity = "ERROR" if code < 0 else "WARNING" if code > 0 else "INFO"
        return {
            "code": code,
            "severity": severity,
            "codeDesc": CODE_DESC.get(code, "OK" if code == 0 else ""),
            "message": message,
        }

    def _matching(self, ref: dict[str, Any]) -> list[Shipment]:
        return [
            s
            for s in self.live()
            if s.numeric == ref.get("numericSenderReference")
            and s.alpha == ref.get("alphanumericSenderReference", s.alpha)
        ]

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        data = body.get("createData") or {}

        def refused(code: int, message: str) -> dict[str, Any]:
            return {"createResponse": {"executionMessage": self._message(code, message)}}

        if data.get("senderCustomerCode") != self.customer_code:
            return refused(-67, "senderCustomerCode is not linked to the userID")
        if data.get("departureDepot") != self.depot:
            return refused(-68, "departureDepot is not valid")
        if len(str(data.get("consigneeAddress") or "")) > 35:
            return refused(-68, "consigneeAddress longer than 35 characters")
        if data.get("consigneeCountryAbbreviationISOAlpha2") == "IT" and not re.fullmatch(
            r"\d{5}", str(data.get("consigneeZIPCode") or "")
        ):
            return refused(-63, f"ZIP code {data.get('consigneeZIPCode')} not consistent")
        if data.get("pudoId"):
            if not self.pudos.get(str(data["pudoId"]), False):
                return refused(-69, f"pudoId {data['pudoId']} not valid")
            if not data.get("consigneeMobilePhoneNumber") and not data.get("consigneeEMail"):
                return refused(-68, "consigneeMobilePhoneNumber or EMail needed for a pudo")
        if data.get("isCODMandatory") == "1" and not data.get("cashOnDelivery"):
            return refused(-68, "cashOnDelivery missing with isCODMandatory")
        count = int(data.get("numberOfParcels") or 0)
        if not 1 <= count <= 30:
            return refused(-68, f"numberOfParcels {count} not valid")
        serial = next(self._serial)
        parcels = [
            (f"{self.depot:03d}0{serial:07d}{n:07d}", f"{self.depot:03d}{serial:07d}{n:05d}")
            for n in range(1, count + 1)
        ]
        shipment = Shipment(
            int(data["numericSenderReference"]),
            str(data.get("alphanumericSenderReference") or ""),
            data,
            parcels,
        )
        self.shipments.append(shipment)
        zpl = (body.get("labelParameters") or {}).get("outputType") == "ZPL"
        labels = []
        for n, (parcel_id, tracking) in enumerate(parcels, start=1):
            lines = [
                str(data["consigneeCompanyName"]),
                str(data["consigneeAddress"]),
                f"{data['consigneeZIPCode']} {data['consigneeCity']}",
                f"{n}/{count}",
            ]
            if data.get("pudoId"):
                lines.append(f"BRT-fermopoint {data['pudoId']}")
            if data.get("isCODMandatory") == "1":
                lines.append(f"Contrassegno {data['cashOnDelivery']} {data.get('codCurrency')}")
            label = (
                zpl_label(parcel_id, lines).encode()
                if zpl
                else pdf_label(parcel_id, lines, width_mm=100, height_mm=70)
            )
            labels.append(
                {
                    "dataLength": len(label),
                    "parcelID": parcel_id,
                    "trackingByParcelID": tracking,
                    "stream": base64.b64encode(label).decode(),
                }
            )
        warning = 5 if data.get("pudoId") else 0
        return {
            "createResponse": {
                "currentTimeUTC": "2026-12-04 10:00:00",
                "executionMessage": self._message(warning, "address replaced" if warning else ""),
                "parcelNumberFrom": parcels[0][0],
                "parcelNumberTo": parcels[-1][0],
                "numberOfParcels": count,
                "labels": {"label": labels},
            }
        }

    def confirm(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self._matching(body.get("confirmData") or {})
        shipment = found[0] if len(found) == 1 else None
        if len(found) > 1:
            message = self._message(-154, "more shipments with these references")
        elif shipment is None:
            message = self._message(-151, "shipment never created or older than 40 days")
        elif shipment.confirmed:
            message = self._message(-102, "")
        else:
            shipment.confirmed = True
            message = self._message()
        return {"confirmResponse": {"executionMessage": message}}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        found = self._matching(body.get("deleteData") or {})
        shipment = found[0] if len(found) == 1 else None
        if len(found) > 1:
            message = self._message(-154, "more shipments with these references")
        elif shipment is None:
            message = self._message(-151, "shipment never created or older than 40 days")
        elif shipment.handled:
            message = self._message(-152, "the shipment is already being handled at the depot")
        else:
            shipment.deleted = True
            message = self._message()
        return {"deleteResponse": {"executionMessage": message}}

    def track(self, tracking: str) -> dict[str, Any]:
        shipment = self.by_tracking(tracking)
        if shipment is None:
            return {"ttParcelIdResponse": {"executionMessage": self._message(-151, "")}}
        return {
            "ttParcelIdResponse": {
                "executionMessage": self._message(),
                "lista_eventi": list(reversed(shipment.events.get(tracking, []))),
            }
        }


def _handler(fake: FakeBrt) -> type[BaseHTTPRequestHandler]:
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

        def _route(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            path = self.path.removeprefix("/rest/v1/")
            shown = {k: v for k, v in body.items() if k != "account"}
            fake.requests.append((method, path, shown))
            if fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)  # past the client's timeout: dropped
                return
            if fake._fault("500"):
                self._send(b"Internal Server Error", "text/plain", 500)
                return
            if method == "GET" and path.startswith("tracking/parcelID/"):
                user, password = self.headers.get("userID"), self.headers.get("password")
                if (user, password) != (fake.user_id, fake.password):
                    failed = {"executionMessage": fake._message(-7, "")}
                    self._send({"ttParcelIdResponse": failed})
                    return
                self._send(fake.track(path.removeprefix("tracking/parcelID/")))
                return
            acct = body.get("account") or {}
            wrapper = {
                ("POST", "shipments/shipment"): "createResponse",
                ("PUT", "shipments/shipment"): "confirmResponse",
                ("PUT", "shipments/delete"): "deleteResponse",
            }.get((method, path))
            if wrapper is None:
                self._send({"message": f"no resource {method} {path}"}, status=404)
                return
            if (acct.get("userID"), acct.get("password")) != (fake.user_id, fake.password):
                self._send({wrapper: {"executionMessage": fake._message(-7, "")}})
                return
            if wrapper == "createResponse":
                created = fake.create(body)
                if fake._fault("lost_502"):  # made here, the answer lost on the way back
                    self._send(b"Bad Gateway", "text/plain", 502)
                    return
                self._send(created)
            elif wrapper == "confirmResponse":
                if fake._fault("confirm_500"):
                    self._send(b"Service Unavailable", "text/plain", 503)
                    return
                self._send(fake.confirm(body))
            else:
                self._send(fake.delete(body))

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

    return Handler


@contextmanager
def running_fake_brt() -> Iterator[FakeBrt]:
    """Start the fake on a free loopback port; its API root is `fake.url + "/rest/v1"`."""
    fake = FakeBrt()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
