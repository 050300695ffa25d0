"""A local stand-in for the Cargus (UrgentCargus) REST API v3, built from its documentation.

Shapes from the Cargus API v3 documentation (version 3.1.7) as public integrations
transcribe it: `Ocp-Apim-Subscription-Key` on every call, `POST LoginUser {UserName,
Password}` -> a JSON string token (24 h) for `Authorization: Bearer`; `POST Awbs` (Sender
LocationId, Recipient, Parcels, TotalWeight, ServiceId 34 / 38 with DeliveryPudoPoint,
CashRepayment, ParcelCodes) -> the AWB barcode; `GET AwbDocuments?barCodes=[..]&type=PDF
&format=1` -> a JSON string of base64 PDF; `DELETE Awbs?barCode=` -> true, or false once the
AWB has a checkpoint; `GET AwbTrace?barCode=[..]` -> [{Code, Event: [{EventId, Description,
LocalityName, Date}]}] with EventId 21 = delivered. Refusals are a 400 with a JSON list of
messages (as integrations report); their wording here is the fake's own. Limits: 31 kg a
piece (documented).
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
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_carrier_labels import pdf_label
from tests.support.loopback_http import serving


@dataclass
class Awb:
    barcode: str
    body: dict[str, Any]
    deleted: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


class FakeCargus:
    """One Cargus account: subscription key, user, pickup location, Ship & Go points, AWBs."""

    def __init__(self) -> None:
        self.subscription_key = "cargus-primary-key"
        self.username, self.password = "shop.integration", "cargus-pass"
        self.location_id = 201165677
        self.pudo_points = {114142: True, 114999: False}  # Ship & Go id -> open?
        self.awbs: dict[str, Awb] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.fail_next: list[str] = []  # "500", "timeout", "label_500"
        self.timeout_seconds = 1.5
        self.url = ""
        self._tokens: set[str] = set()
        self._barcodes = itertools.count(1112223330)
        self._lock = threading.Lock()

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def checkpoint(self, barcode: str, event_id: int, when: str, text: str, city: str) -> None:
        """Cargus scans the AWB: an event, and it can no longer be deleted."""
        self.awbs[barcode].events.append(
            {"EventId": event_id, "Description": text, "LocalityName": city, "Date": when}
        )

    def create(self, body: dict[str, Any]) -> tuple[int, Any]:
        problems: list[str] = []
        if (body.get("Sender") or {}).get("LocationId") != self.location_id:
            problems.append("Punctul de ridicare nu exista (Sender.LocationId)")
        to = body.get("Recipient") or {}
        for key in ("Name", "LocalityName", "AddressText"):
            if not str(to.get(key) or "").strip():
                problems.append(f"Recipient.{key} este obligatoriu")
        if not re.fullmatch(r"\d{6}", str(to.get("CodPostal") or "")):
            problems.append(f"Cod postal invalid: {to.get('CodPostal')}")
        if not str(to.get("PhoneNumber") or "").strip():
            problems.append("Numarul de telefon al destinatarului este obligatoriu")
        for piece in body.get("ParcelCodes") or []:
            if piece.get("Weight", 0) > 31:
                problems.append("Greutatea maxima a unui colet este 31 kg")
        if body.get("ServiceId") == 38:
            point = body.get("DeliveryPudoPoint")
            if not self.pudo_points.get(point, False):
                problems.append(f"Punctul PUDO {point} nu este activ")
        if problems:
            return 400, problems
        barcode = str(next(self._barcodes))
        self.awbs[barcode] = Awb(barcode, body)
        return 200, int(barcode)

    def label(self, barcodes: list[str]) -> tuple[int, Any]:
        import base64

        awb = self.awbs.get(barcodes[0]) if barcodes else None
        if awb is None or awb.deleted:
            return 404, ["AWB inexistent"]
        to = awb.body["Recipient"]
        lines = [to["Name"], to["AddressText"], f"{to['CodPostal']} {to['LocalityName']}"]
        if awb.body.get("DeliveryPudoPoint"):
            lines.append(f"Ship & Go {awb.body['DeliveryPudoPoint']}")
        if awb.body.get("CashRepayment"):
            lines.append(f"Ramburs {awb.body['CashRepayment']} RON")
        pdf = pdf_label(awb.barcode, lines, width_mm=100, height_mm=140)
        return 200, base64.b64encode(pdf).decode()

    def delete(self, barcode: str) -> tuple[int, Any]:
        awb = self.awbs.get(barcode)
        if awb is None:
            return 404, ["AWB inexistent"]
        if awb.events:
            return 200, False
        awb.deleted = True
        return 200, True

    def trace(self, barcodes: list[str]) -> tuple[int, Any]:
        found = [self.awbs[b] for b in barcodes if b in self.awbs]
        return 200, [{"Code": a.barcode, "Type": "PARCEL", "Event": a.events} for a in found]


def _handler(fake: FakeCargus) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            path = url.path.removeprefix("/api/")
            fake.requests.append((method, path, body if path != "LoginUser" else None))
            if self.headers.get("Ocp-Apim-Subscription-Key") != fake.subscription_key:
                self._send(
                    401,
                    {
                        "statusCode": 401,
                        "message": "Access denied due to invalid subscription key.",
                    },
                )
                return
            if fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)
            if fake._fault("500"):
                self._send(500, b"Internal Server Error", "text/plain")
                return
            if path == "LoginUser" and method == "POST":
                if (body or {}).get("UserName") != fake.username or body.get(
                    "Password"
                ) != fake.password:
                    self._send(401, ["Nume de utilizator sau parola incorecte"])
                    return
                token = f"token-{len(fake._tokens) + 1}"
                fake._tokens.add(token)
                self._send(200, token)
                return
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in fake._tokens:
                self._send(401, ["Token invalid"])
                return
            if path == "Awbs" and method == "POST":
                self._send(*fake.create(body or {}))
            elif path == "Awbs" and method == "DELETE":
                self._send(*fake.delete(query.get("barCode", "")))
            elif path == "AwbDocuments" and method == "GET":
                if fake._fault("label_500"):
                    self._send(502, b"Bad Gateway", "text/plain")
                    return
                self._send(*fake.label([str(b) for b in json.loads(query.get("barCodes", "[]"))]))
            elif path == "AwbTrace" and method == "GET":
                self._send(*fake.trace([str(b) for b in json.loads(query.get("barCode", "[]"))]))
            else:
                self._send(404, ["Metoda necunoscuta"])

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


@contextmanager
def running_fake_cargus() -> Iterator[FakeCargus]:
    """Start the fake on a free loopback port; its API root is `fake.url + "/api"`."""
    fake = FakeCargus()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
