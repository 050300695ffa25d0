"""A local stand-in for Sendcloud's parcels API v2, built from its public documentation.

Serves on 127.0.0.1 (port 0) in a thread: `POST /api/v2/parcels` (request_label), the
label PDF download, `POST /api/v2/parcels/{id}/cancel`, `GET /api/v2/tracking/{number}`,
HTTP Basic auth, and the documented error body `{"error": {"code", "request", "message"}}`.
Faults for tests: `fail_next` takes "500", "timeout" or "label_500" (the label download of
the next created parcel fails).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback_http import serving


class FakeSendcloud:
    """State of the fake account: parcels, cancellations, tracking, queued faults."""

    def __init__(self, public_key: str = "pk-test", secret_key: str = "sk-test") -> None:
        self.auth = "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        self.parcels: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.cancelled: list[int] = []
        self.tracking: dict[str, list[dict[str, Any]]] = {}
        self.fail_next: list[str] = []
        self.timeout_seconds = 1.5
        self.url = ""
        self._ids = itertools.count(9001)
        self._lock = threading.Lock()

    def add_tracking(self, number: str, parent_status: str, at: str, message: str = "") -> None:
        """Queue a status for a tracking number, as the carrier would report it."""
        self.tracking.setdefault(number, []).append(
            {
                "carrier_update_timestamp": at,
                "parcel_status_history_id": len(self.tracking.get(number, [])) + 1,
                "parent_status": parent_status,
                "carrier_code": parent_status,
                "carrier_message": message or parent_status,
            }
        )

    def _fault(self, *kinds: str) -> str | None:
        with self._lock:
            if self.fail_next and self.fail_next[0] in kinds:
                return self.fail_next.pop(0)
        return None

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        items = body.get("parcels") or ([body["parcel"]] if "parcel" in body else [])
        for item in items:
            for field in ("name", "address", "city", "postal_code", "country"):
                if not str(item.get(field) or "").strip():
                    return 400, _error(
                        400, "api/v2/parcels", f"{field}: 'This field cannot be blank.'"
                    )
            if str(item.get("postal_code")) == "00000":
                return 400, _error(
                    400, "api/v2/parcels", "postal_code: 'Invalid postal code for country'"
                )
        out = []
        for item in items:
            pid = next(self._ids)
            label_url = f"{self.url}/api/v2/labels/label_printer/{pid}"
            parcel = {
                **item,
                "id": pid,
                "tracking_number": f"3SSCL{pid:09d}",
                "status": {"id": 1000, "message": "Ready to send"},
                "label": {"label_printer": label_url, "normal_printer": [label_url]},
            }
            self.parcels[pid] = parcel
            out.append(parcel)
        return 200, {"parcels": out} if "parcels" in body else {"parcel": out[0]}


def _error(code: int, request: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "request": request, "message": message}}


def _handler(fake: FakeSendcloud) -> type[BaseHTTPRequestHandler]:
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

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else None

        def _route(self, method: str) -> None:
            body = self._body()
            path = self.path.split("?")[0]
            fake.requests.append((method, path, body))
            if self.headers.get("Authorization") != fake.auth:
                self._send(401, _error(401, path.lstrip("/"), "Invalid username/password."))
                return
            if fake._fault("timeout"):
                time.sleep(fake.timeout_seconds)
            if fake._fault("500"):
                self._send(500, _error(500, path.lstrip("/"), "Internal server error"))
                return
            parts = path.strip("/").split("/")
            if method == "POST" and parts == ["api", "v2", "parcels"]:
                self._send(*fake.create(body or {}))
            elif method == "GET" and parts[:4] == ["api", "v2", "labels", "label_printer"]:
                if fake._fault("label_500"):
                    self._send(502, b"bad gateway", "text/plain")
                    return
                self._send(200, f"%PDF-1.4 fake label {parts[4]}".encode(), "application/pdf")
            elif (
                method == "POST" and parts[:3] == ["api", "v2", "parcels"] and parts[-1] == "cancel"
            ):
                pid = int(parts[3])
                if pid not in fake.parcels:
                    self._send(404, _error(404, path.lstrip("/"), "Not found"))
                    return
                fake.cancelled.append(pid)
                self._send(200, {"status": "cancelled", "message": "Parcel has been cancelled"})
            elif method == "GET" and parts[:3] == ["api", "v2", "tracking"]:
                number = parts[3]
                if number not in fake.tracking:
                    self._send(404, _error(404, path.lstrip("/"), "No parcel found"))
                    return
                self._send(200, {"tracking_number": number, "statuses": fake.tracking[number]})
            else:
                self._send(404, _error(404, path.lstrip("/"), "Unknown endpoint"))

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


@contextmanager
def running_fake_sendcloud() -> Iterator[FakeSendcloud]:
    """Start the fake on a free loopback port; `fake.url` is its base (no /api/v2)."""
    fake = FakeSendcloud()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
