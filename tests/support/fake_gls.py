"""A local stand-in for the MyGLS ParcelService JSON API, built from GLS's documentation.

Shapes from the MyGLS API documentation (api.mygls.<cc>/docs/MyGLS_API.pdf, ver. 25.12.11)
as public clients quote it (node-mygls's GlsService.ts and ParcelList.ts; a Romanian MyGLS
client citing pages 6-29 and Appendix A): POST `/ParcelService.svc/json/<Method>` with
`Username` and `Password` = SHA-512 byte values; `PrintLabels` (ParcelList entries with
ClientNumber, ClientReference, Count, CODAmount, CODReference, PickupAddress,
DeliveryAddress, ServiceList [{"Code": "PSD", "PSDParameter": {"StringValue": id}}];
TypeOfPrinter) -> Labels (byte values), PrintLabelsInfoList [{ClientReference, ParcelId,
ParcelNumber}], PrintLabelsErrorList [{ErrorCode, ErrorDescription, ClientReferenceList,
ParcelIdList}]; `GetPrintedLabels`; `DeleteLabels` -> SuccessfullyDeletedList /
DeleteLabelsErrorList (4: no such parcel, 6: not PRINTED any more); `GetParcelStatuses` ->
ParcelStatusList [{StatusCode, StatusDate "/Date(ms+zzzz)/", StatusDescription, DepotCity}];
`GetParcelList` (PickupDateFrom/To or PrintDateFrom/To, WCF dates) -> PrintDataInfoList
[{Parcel (the ParcelList entry), ParcelId, ParcelNumber, ClientReference}], GetParcelListErrors
(the shapes quoted by the MyGLS sample clients and the WSDL-generated GetParcelListResponse).
The documentation we read does not say whether a deleted parcel is still listed; the fake
lists only parcels that are not deleted unless `lists_deleted` is set.
Error codes are Appendix A's; their sentences here are the fake's own words. MyGLS takes no
parcel weight (GLS weighs at the depot), so the fake checks none.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fake_carrier_labels import pdf_label, zpl_label
from tests.support.loopback_http import serving

ZIP = {"HU": r"^\d{4}$", "RO": r"^\d{6}$", "CZ": r"^\d{3} ?\d{2}$", "SK": r"^\d{3} ?\d{2}$"}
NOT_PRINTED = "Parcel with this ID has different status than PRINTED."
PRINTERS = {"A4_2x2", "A4_4x1", "Connect", "Thermo", "ThermoZPL", "ThermoZPL_300DPI"}


@dataclass
class GlsParcel:
    parcel_id: int
    number: int
    request: dict[str, Any]
    index: int
    count: int
    state: str = "PRINTED"  # PRINTED | DELETED | SCANNED
    printed_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    statuses: list[tuple[str, int, str, str]] = field(default_factory=list)


class FakeGls:
    """One MyGLS account: its parcels, ParcelShops, limits and queued faults."""

    def __init__(self, username: str = "api@shop.example", password: str = "gls-secret") -> None:
        self.username = username
        self.digest = list(hashlib.sha512(password.encode()).digest())
        self.client_number = 100023
        self.parcel_shops = {"HU0123-CSOMAGPONT01": True, "HU0999-CLOSED": False}
        self.cod_limits = {"HUF": Decimal("1000000"), "RON": Decimal("10000")}
        self.parcels: dict[int, GlsParcel] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: list[str] = []  # "500", "timeout", "1001"
        self.fail_method = ""  # when set, the faults above hit only this method
        self.lists_deleted = False  # GetParcelList also lists deleted parcels (undocumented)
        self.timeout_seconds = 1.5
        self.url = ""
        self._ids = itertools.count(702000001)
        self._numbers = itertools.count(50012345001)
        self._lock = threading.Lock()

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def live_shipments(self) -> list[list[GlsParcel]]:
        """The shipments GLS holds (one per PrintLabels entry), deleted parcels left out."""
        shipments: dict[int, list[GlsParcel]] = {}
        for parcel in self.parcels.values():
            if parcel.state != "DELETED":
                shipments.setdefault(id(parcel.request), []).append(parcel)
        return list(shipments.values())

    def scan(
        self, number: int, code: str, epoch_ms: int, text: str, depot: str = "Budapest"
    ) -> None:
        """GLS scans the parcel: it can no longer be deleted and a status is reported."""
        parcel = next(p for p in self.parcels.values() if p.number == number)
        parcel.state = "SCANNED"
        parcel.statuses.append((code, epoch_ms, text, depot))

    # -- methods ----------------------------------------------------------------------------

    def _label(self, parcel: GlsParcel, printer: str) -> bytes:
        entry = parcel.request
        to = entry.get("DeliveryAddress") or {}
        lines = [
            f"{to.get('Name', '')}",
            f"{to.get('Street', '')} {to.get('HouseNumber', '')}",
            f"{to.get('ZipCode', '')} {to.get('City', '')} {to.get('CountryIsoCode', '')}",
            f"Ref {entry.get('ClientReference', '')}   {parcel.index}/{parcel.count}",
        ]
        for service in entry.get("ServiceList") or []:
            if service.get("Code") == "PSD":
                lines.append(f"ParcelShop {service['PSDParameter']['StringValue']}")
        if entry.get("CODAmount"):
            lines.append(f"COD {entry['CODAmount']}")
        if printer.startswith("ThermoZPL"):
            dpi = 300 if printer.endswith("300DPI") else 203
            return zpl_label(str(parcel.number), lines, dpi=dpi).encode()
        return pdf_label(str(parcel.number), lines, width_mm=100, height_mm=150)

    def _document(self, parcels: list[GlsParcel], printer: str) -> list[int]:
        if printer.startswith("ThermoZPL"):
            return list(b"\n".join(self._label(p, printer) for p in parcels))
        import io

        import pypdfium2 as pdfium

        merged = pdfium.PdfDocument.new()
        for parcel in parcels:
            single = pdfium.PdfDocument(self._label(parcel, printer))
            merged.import_pages(single)
            single.close()
        buf = io.BytesIO()
        merged.save(buf)
        merged.close()
        return list(buf.getvalue())

    def _validate(self, entry: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        if entry.get("ClientNumber") != self.client_number:
            problems.append("ClientNumber is not the account's")
        to = entry.get("DeliveryAddress") or {}
        for key in ("Name", "Street", "City", "ZipCode", "CountryIsoCode"):
            if not str(to.get(key) or "").strip():
                problems.append(f"DeliveryAddress.{key} is required")
        country = str(to.get("CountryIsoCode") or "")
        pattern = ZIP.get(country)
        if pattern and to.get("ZipCode") and not re.match(pattern, str(to["ZipCode"])):
            problems.append(f"Invalid ZipCode for {country}: {to['ZipCode']}")
        for service in entry.get("ServiceList") or []:
            if service.get("Code") == "PSD":
                shop = str((service.get("PSDParameter") or {}).get("StringValue") or "")
                if not self.parcel_shops.get(shop, False):
                    problems.append(f"PSD: ParcelShop {shop} is closed or unknown")
                if not to.get("ContactPhone") or not to.get("ContactEmail"):
                    problems.append("PSD service needs ContactPhone and ContactEmail")
        if entry.get("CODAmount"):
            currency = {"HU": "HUF", "RO": "RON"}.get(country, "EUR")
            limit = self.cod_limits.get(currency)
            if limit is not None and Decimal(str(entry["CODAmount"])) > limit:
                problems.append(f"CODAmount is over the limit of {limit} {currency}")
        return problems

    def print_labels(self, body: dict[str, Any]) -> dict[str, Any]:
        printer = str(body.get("TypeOfPrinter") or "A4_2x2")
        if printer not in PRINTERS:
            return _errors("PrintLabelsErrorList", 34, "Value of TypeOfPrinter is invalid.")
        made: list[GlsParcel] = []
        errors: list[dict[str, Any]] = []
        for entry in body.get("ParcelList") or []:
            problems = self._validate(entry)
            if problems:
                errors.append(
                    {
                        "ErrorCode": 13,
                        "ErrorDescription": "Parcel validation issue: " + "; ".join(problems),
                        "ClientReferenceList": [entry.get("ClientReference")],
                        "ParcelIdList": [],
                    }
                )
                continue
            count = int(entry.get("Count") or 1)
            for index in range(1, count + 1):
                parcel = GlsParcel(next(self._ids), next(self._numbers), entry, index, count)
                self.parcels[parcel.parcel_id] = parcel
                made.append(parcel)
        if errors:
            for parcel in made:  # MyGLS makes nothing of a request it refuses
                del self.parcels[parcel.parcel_id]
            return {"Labels": [], "PrintLabelsInfoList": [], "PrintLabelsErrorList": errors}
        return {
            "Labels": self._document(made, printer),
            "PrintLabelsInfoList": [
                {
                    "ClientReference": p.request.get("ClientReference"),
                    "ParcelId": p.parcel_id,
                    "ParcelNumber": p.number,
                }
                for p in made
            ],
            "PrintLabelsErrorList": [],
        }

    def get_printed_labels(self, body: dict[str, Any]) -> dict[str, Any]:
        found = [self.parcels[i] for i in body.get("ParcelIdList") or [] if i in self.parcels]
        missing = [i for i in body.get("ParcelIdList") or [] if i not in self.parcels]
        errors = (
            [
                {
                    "ErrorCode": 4,
                    "ErrorDescription": "Parcel does not exist.",
                    "ParcelIdList": missing,
                }
            ]
            if missing
            else []
        )
        printer = str(body.get("TypeOfPrinter") or "A4_2x2")
        return {
            "Labels": self._document(found, printer) if found else [],
            "GetPrintedLabelsErrorList": errors,
            "PrintDataInfoList": [
                {"ParcelId": p.parcel_id, "ParcelNumber": p.number} for p in found
            ],
        }

    def delete_labels(self, body: dict[str, Any]) -> dict[str, Any]:
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for parcel_id in body.get("ParcelIdList") or []:
            parcel = self.parcels.get(parcel_id)
            if parcel is None:
                errors.append(
                    {
                        "ErrorCode": 4,
                        "ErrorDescription": "Parcel does not exist.",
                        "ParcelIdList": [parcel_id],
                    }
                )
            elif parcel.state != "PRINTED":
                errors.append(
                    {
                        "ErrorCode": 6,
                        "ErrorDescription": NOT_PRINTED,
                        "ParcelIdList": [parcel_id],
                    }
                )
            else:
                parcel.state = "DELETED"
                deleted.append({"ParcelId": parcel_id, "SubParcelIdList": []})
        return {"SuccessfullyDeletedList": deleted, "DeleteLabelsErrorList": errors}

    def parcel_list(self, body: dict[str, Any]) -> dict[str, Any]:
        low, high = _ms(body.get("PrintDateFrom")), _ms(body.get("PrintDateTo"))
        if low is None or high is None:
            return _errors("GetParcelListErrors", 13, "PrintDateFrom and PrintDateTo are required.")
        return {
            "PrintDataInfoList": [
                {
                    "Parcel": p.request,
                    "ParcelId": p.parcel_id,
                    "ParcelNumber": p.number,
                    "ClientReference": p.request.get("ClientReference"),
                }
                for p in self.parcels.values()
                if (self.lists_deleted or p.state != "DELETED") and low <= p.printed_ms <= high
            ],
            "GetParcelListErrors": [],
        }

    def parcel_statuses(self, body: dict[str, Any]) -> dict[str, Any]:
        number = body.get("ParcelNumber")
        parcel = next((p for p in self.parcels.values() if p.number == number), None)
        if parcel is None:
            return _errors("GetParcelStatusErrors", 4, "Parcel does not exist.")
        return {
            "ParcelNumber": number,
            "ParcelStatusList": [
                {
                    "StatusCode": code,
                    "StatusDate": f"/Date({ms}+0100)/",
                    "StatusDescription": text,
                    "DepotCity": depot,
                    "DepotNumber": "HU01",
                }
                for code, ms, text, depot in reversed(parcel.statuses)  # newest first
            ],
            "GetParcelStatusErrors": [],
        }


def _ms(raw: Any) -> int | None:
    """A WCF JSON date ("/Date(ms)/", "/Date(ms+zzzz)/") as epoch milliseconds."""
    match = re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", str(raw or ""))
    return int(match[1]) if match else None


def _errors(list_name: str, code: int, text: str) -> dict[str, Any]:
    return {list_name: [{"ErrorCode": code, "ErrorDescription": text, "ParcelIdList": []}]}


_METHODS = {
    "PrintLabels": ("print_labels", "PrintLabelsErrorList"),
    "GetPrintedLabels": ("get_printed_labels", "GetPrintedLabelsErrorList"),
    "DeleteLabels": ("delete_labels", "DeleteLabelsErrorList"),
    "GetParcelStatuses": ("parcel_statuses", "GetParcelStatusErrors"),
    "GetParcelList": ("parcel_list", "GetParcelListErrors"),
}


def _handler(fake: FakeGls) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            prefix = "/ParcelService.svc/json/"
            method = self.path.removeprefix(prefix)
            if not self.path.startswith(prefix) or method not in _METHODS:
                self._send(404, b"Endpoint not found.", "text/html")
                return
            body = json.loads(raw)
            fake.requests.append(
                (method, {k: v for k, v in body.items() if k not in ("Username", "Password")})
            )
            faulty = fake.fail_method in ("", method)
            if faulty and fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)  # then answers: GLS made it, nobody heard
            if faulty and fake._fault("500"):
                self._send(500, b"<html>Request Error</html>", "text/html")
                return
            handler, error_list = _METHODS[method]
            if body.get("Username") != fake.username or body.get("Password") != fake.digest:
                answer = _errors(error_list, -1, "Unauthorized.")
            elif faulty and fake._fault("1001"):
                answer = _errors(error_list, 1001, "Internal Problem.")
            else:
                answer = getattr(fake, handler)(body)
            self._send(200, json.dumps(answer).encode())

    return Handler


@contextmanager
def running_fake_gls() -> Iterator[FakeGls]:
    """Start the fake on a free loopback port; `fake.url` is the account's API root."""
    fake = FakeGls()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
