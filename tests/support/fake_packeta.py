"""A local stand-in for Packeta's REST/XML API, built from Packeta's public documentation.

Shapes from https://github.com/Packeta/api-documentation: getting-started/packeta-api.mdx
(POST an XML document to /api/rest, root = method, `apiPassword` first; answer
`<response><status>ok|fault</status>...`), api-reference/api-methods-reference.mdx
(createPacket, packetLabelPdf [base64 PDF], packetLabelZpl [HTML-escaped ZPL, dpi 203|300],
packetTracking), data-structures-reference.mdx (PacketAttributes constraints: name and
surname required, email or phone, addressId an active branch or carrier, currency CZK/EUR/
HUF/PLN/RON, COD an integer for CZK and a multiple of 5 for HUF; PacketIdDetail; StatusRecord),
errors-reference.mdx (fault names; PacketAttributesFault's detail is a list of
`<fault><name/><fault/></fault>`). `cancelPacket` and its CancelNotAllowedFault are from
Packeta's API reference at docs.packeta.com and its WooCommerce plugin. The fault texts are
the fake's own words: the documentation gives the fault names, not their sentences.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from xml.etree.ElementTree import Element, SubElement, fromstring, tostring

from tests.support.fake_carrier_labels import pdf_label, zpl_label
from tests.support.loopback_http import serving

CURRENCIES = {"CZK", "EUR", "HUF", "PLN", "RON"}


@dataclass
class HomeCarrier:
    """One of Packeta's home-delivery carriers (an addressId that is not a point)."""

    country: str
    zip_pattern: str
    max_kg: Decimal
    phone_required: bool = False


@dataclass
class Packet:
    id: int
    attributes: dict[str, str]
    status: int = 1
    history: list[tuple[str, int, str]] = field(default_factory=list)


class FakePacketa:
    """The fake account: pickup points, home carriers, packets, faults to inject."""

    def __init__(self, api_password: str = "0123456789abcdef0123456789abcdef") -> None:
        self.api_password = api_password
        # pickup point id -> open?; carriers' own points: "carrier id:code" -> open?
        self.points: dict[str, bool] = {"95": True, "79": True, "4321": False}
        self.carrier_points: dict[str, bool] = {"3060:KRA010": True}
        self.home: dict[str, HomeCarrier] = {
            "106": HomeCarrier("CZ", r"^\d{3} ?\d{2}$", Decimal("30")),
            "4159": HomeCarrier("HU", r"^\d{4}$", Decimal("30"), phone_required=True),
            "3060": HomeCarrier("PL", r"^\d{2}-\d{3}$", Decimal("25")),
        }
        self.point_max_kg = Decimal("10")
        self.packets: dict[int, Packet] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail_next: list[str] = []  # "500", "timeout", "label_500", "gateway"
        self.timeout_seconds = 1.5
        self.url = ""
        self._ids = itertools.count(1000000001)
        self._lock = threading.Lock()

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def set_status(self, packet_id: int, code: int, at: str, text: str) -> None:
        """Packeta scans the packet: a new StatusRecord (e.g. 2 arrived, 7 delivered)."""
        packet = self.packets[packet_id]
        packet.status = code
        packet.history.append((at, code, text))

    # -- methods ----------------------------------------------------------------------------

    def create_packet(self, attrs: dict[str, str]) -> Element:
        faults: list[tuple[str, str]] = []
        for key in ("number", "name", "surname", "addressId", "value", "weight"):
            if not attrs.get(key, "").strip():
                faults.append((key, "Required attribute is missing."))
        if not attrs.get("email") and not attrs.get("phone"):
            faults.append(("email", "Either e-mail or phone must be filled."))
        currency = attrs.get("currency", "CZK")
        if currency not in CURRENCIES:
            faults.append(("currency", f"Unsupported currency {currency}."))
        weight = Decimal(attrs.get("weight") or "0")
        address_id = attrs.get("addressId", "")
        carrier_point = attrs.get("carrierPickupPoint", "")
        if carrier_point:
            if not self.carrier_points.get(f"{address_id}:{carrier_point}", False):
                faults.append(("carrierPickupPoint", "Pickup point is closed or unknown."))
        elif address_id in self.home:
            home = self.home[address_id]
            if not re.match(home.zip_pattern, attrs.get("zip", "")):
                faults.append(("zip", f"Invalid ZIP code for {home.country}."))
            if weight > home.max_kg:
                faults.append(("weight", f"Maximum weight is {home.max_kg} kg."))
            if home.phone_required and not attrs.get("phone"):
                faults.append(("phone", "Carrier requires recipient's phone number."))
            for key in ("street", "city"):
                if not attrs.get(key):
                    faults.append((key, "Required for address delivery."))
        elif address_id and not self.points.get(address_id, False):
            faults.append(("addressId", "Pickup point is closed or does not exist."))
        elif weight > self.point_max_kg:
            faults.append(("weight", f"Maximum weight is {self.point_max_kg} kg."))
        if attrs.get("cod"):
            cod = Decimal(attrs["cod"])
            if currency == "CZK" and cod != int(cod):
                faults.append(("cod", "COD in CZK must be an integer."))
            if currency == "HUF" and cod % 5:
                faults.append(("cod", "COD in HUF must be a multiple of 5."))
        if faults:
            raise _Fault("PacketAttributesFault", "Invalid packet attributes.", faults)
        packet = Packet(next(self._ids), attrs)
        packet.history.append(("2026-11-30T08:00:00", 1, "We have received the packet data."))
        self.packets[packet.id] = packet
        result = Element("result")
        SubElement(result, "id").text = str(packet.id)
        SubElement(result, "barcode").text = f"Z{packet.id}"
        digits = str(packet.id)
        SubElement(result, "barcodeText").text = f"Z {digits[:3]} {digits[3:7]} {digits[7:]}"
        return result

    def _packet(self, raw: str) -> Packet:
        packet = self.packets.get(int(raw)) if raw.isdigit() else None
        if packet is None:
            raise _Fault("PacketIdFault", "Packet id is not valid.")
        return packet

    def label_lines(self, packet: Packet) -> list[str]:
        a = packet.attributes
        point = a.get("carrierPickupPoint") or a.get("addressId", "")
        lines = [f"{a.get('name', '')} {a.get('surname', '')}", f"Order {a.get('number', '')}"]
        if a.get("addressId") in self.home and not a.get("carrierPickupPoint"):
            lines.append(f"{a.get('street', '')} {a.get('houseNumber', '')}, {a.get('zip', '')}")
        else:
            lines.append(f"Pickup point {point}")
        if a.get("cod"):
            lines.append(f"COD {a['cod']} {a.get('currency', 'CZK')}")
        return lines

    def call(self, method: str, args: dict[str, Any]) -> Element | None:
        if method == "createPacket":
            return self.create_packet(args["packetAttributes"])
        if method == "packetLabelPdf":
            packet = self._packet(args.get("packetId", ""))
            if args.get("format") not in ("A6 on A6", "A7 on A7", "A6 on A4", "A7 on A4"):
                raise _Fault("UnknownLabelFormatFault", "Unknown label format.")
            result = Element("result")
            pdf = pdf_label(f"Z{packet.id}", self.label_lines(packet))
            result.text = base64.b64encode(pdf).decode()
            return result
        if method == "packetLabelZpl":
            packet = self._packet(args.get("packetId", ""))
            dpi = args.get("dpi", "")
            if dpi not in ("203", "300"):
                raise _Fault("UnknownLabelFormatFault", "Unknown dpi.")
            result = Element("result")
            result.text = html.escape(
                zpl_label(f"Z{packet.id}", self.label_lines(packet), dpi=int(dpi))
            )
            return result
        if method == "cancelPacket":
            packet = self._packet(args.get("packetId", ""))
            if packet.status not in (1, 11):
                raise _Fault("CancelNotAllowedFault", "Packet state does not allow cancel.")
            packet.status = 11
            packet.history.append(("2026-11-30T09:00:00", 11, "Packet has been cancelled."))
            return None
        if method == "packetTracking":
            packet = self._packet(args.get("packetId", ""))
            result = Element("result")
            for at, code, text in packet.history:
                record = SubElement(result, "record")
                SubElement(record, "dateTime").text = at
                SubElement(record, "statusCode").text = str(code)
                SubElement(record, "codeText").text = str(code)
                SubElement(record, "statusText").text = text
                SubElement(record, "branchId").text = packet.attributes.get("addressId", "0")
            return result
        raise _Fault("UnknownMethodFault", f"Unknown method {method}.")


class _Fault(Exception):
    def __init__(self, fault: str, text: str, attributes: list[tuple[str, str]] | None = None):
        super().__init__(text)
        self.fault, self.text, self.attributes = fault, text, attributes or []

    def xml(self) -> bytes:
        root = Element("response")
        SubElement(root, "status").text = "fault"
        SubElement(root, "fault").text = self.fault
        SubElement(root, "string").text = self.text
        detail = SubElement(root, "detail")
        if self.attributes:
            attributes = SubElement(detail, "attributes")
            for name, text in self.attributes:
                fault = SubElement(attributes, "fault")
                SubElement(fault, "name").text = name
                SubElement(fault, "fault").text = text
        return tostring(root, encoding="utf-8", xml_declaration=True)


def _args(root: Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in root:
        if len(child):
            out[child.tag] = {g.tag: (g.text or "") for g in child if not len(g)}
        else:
            out[child.tag] = child.text or ""
    return out


def _handler(fake: FakePacketa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, data: bytes, ctype: str = "text/xml; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/api/rest":
                self._send(404, b"not found", "text/plain")
                return
            root = fromstring(raw)
            args = _args(root)
            fake.requests.append((root.tag, {k: v for k, v in args.items() if k != "apiPassword"}))
            if fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)
            if fake._fault("500"):
                self._send(500, b"<html>Internal Server Error</html>", "text/html")
                return
            if root.tag.startswith("packetLabel") and fake._fault("label_500"):
                self._send(502, b"<html>Bad Gateway</html>", "text/html")
                return
            try:
                if args.get("apiPassword") != fake.api_password:
                    raise _Fault("IncorrectApiPasswordFault", "Incorrect API password.")
                if fake._fault("gateway"):
                    raise _Fault("ExternalGatewayFault", "Error while communicating with carrier.")
                result = fake.call(root.tag, args)
            except _Fault as fault:
                self._send(200, fault.xml())
                return
            response = Element("response")
            SubElement(response, "status").text = "ok"
            if result is not None:
                response.append(result)
            self._send(200, tostring(response, encoding="utf-8", xml_declaration=True))

    return Handler


@contextmanager
def running_fake_packeta() -> Iterator[FakePacketa]:
    """Start the fake on a free loopback port; its API root is `fake.url + "/api/rest"`."""
    fake = FakePacketa()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
