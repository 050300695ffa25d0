"""Local stand-ins for the shop APIs the service reports fulfilment to.

One loopback HTTP server answers both:
- Shopify REST Admin: `GET /admin/api/<ver>/orders/<id>/fulfillment_orders.json` and
  `POST /admin/api/<ver>/fulfillments.json` (header `X-Shopify-Access-Token`);
- WooCommerce REST v3: `POST /wp-json/wc/v3/orders/<id>/notes` and
  `PUT /wp-json/wc/v3/orders/<id>` (HTTP Basic with consumer key/secret).
`fail_next` holds HTTP statuses to answer the next requests with (e.g. [503, 503] or [400]).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback_http import serving


class FakeShops:
    """Recorded requests, fulfilment state and queued faults of both fake shops."""

    def __init__(self, shopify_token: str = "shpat-test", woo: tuple[str, str] = ("ck", "cs")):
        self.shopify_token = shopify_token
        self.woo_auth = "Basic " + base64.b64encode(f"{woo[0]}:{woo[1]}".encode()).decode()
        self.requests: list[tuple[str, str, Any]] = []
        self.fail_next: list[int] = []
        self.fulfilled: dict[str, dict[str, Any]] = {}  # shopify order id -> fulfillment
        self.woo_orders: dict[str, dict[str, Any]] = {}  # woo order id -> {status, notes}
        self.url = ""
        self._ids = itertools.count(255858046)

    def shopify(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        if headers.get("X-Shopify-Access-Token") != self.shopify_token:
            return 401, {"errors": "[API] Invalid API key or access token"}
        if method == "GET" and parts[-1] == "fulfillment_orders.json":
            oid = parts[-2]
            status = "closed" if oid in self.fulfilled else "open"
            return 200, {
                "fulfillment_orders": [
                    {"id": int(oid) * 10 + 1, "order_id": int(oid), "status": status}
                ]
            }
        if method == "POST" and parts[-1] == "fulfillments.json":
            f = body["fulfillment"]
            fo_id = f["line_items_by_fulfillment_order"][0]["fulfillment_order_id"]
            fid = next(self._ids)
            self.fulfilled[str(fo_id // 10)] = f
            return 201, {"fulfillment": {"id": fid, "status": "success", **f["tracking_info"]}}
        return 404, {"errors": "Not Found"}

    def woo(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        if headers.get("Authorization") != self.woo_auth:
            return 401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry."}
        oid = parts[4]
        order = self.woo_orders.setdefault(oid, {"status": "processing", "notes": []})
        if method == "POST" and parts[-1] == "notes":
            note = {"id": len(order["notes"]) + 1, **body}
            order["notes"].append(note)
            return 201, note
        if method == "PUT" and len(parts) == 5:
            order.update(body)
            return 200, {"id": int(oid), "status": order["status"]}
        return 404, {"code": "rest_no_route", "message": "No route."}


def _handler(fake: FakeShops) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?")[0]
            fake.requests.append((method, path, body))
            parts = path.strip("/").split("/")
            if fake.fail_next:
                status, answer = fake.fail_next.pop(0), {"errors": "injected"}
            elif parts[:2] == ["admin", "api"]:
                status, answer = fake.shopify(method, parts, self.headers, body)
            elif parts[:3] == ["wp-json", "wc", "v3"]:
                status, answer = fake.woo(method, parts, self.headers, body)
            else:
                status, answer = 404, {"errors": "Not Found"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PUT(self) -> None:
            self._route("PUT")

    return Handler


@contextmanager
def running_fake_shops() -> Iterator[FakeShops]:
    """Start both fake shops on one free loopback port (`fake.url`)."""
    fake = FakeShops()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
