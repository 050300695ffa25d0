"""Local stand-ins for the shop APIs the service reports fulfilment to.

One loopback HTTP server answers both:
- Shopify GraphQL Admin: `POST /admin/api/<ver>/graphql.json` (header
  `X-Shopify-Access-Token`) answering the order's `fulfillmentOrders` and `fulfillmentCreate`
  as Shopify documents them: 200 with `data`, top-level `errors` (e.g. THROTTLED) or
  `userErrors`, global ids (`gid://shopify/FulfillmentOrder/...`), enum statuses;
- WooCommerce REST v3: `GET|PUT /wp-json/wc/v3/orders/<id>` and
  `GET|POST /wp-json/wc/v3/orders/<id>/notes` (HTTP Basic with consumer key/secret).
`fail_next` holds HTTP statuses to answer the next requests with (e.g. [503, 503] or [400]);
`graphql_fail_next` GraphQL-level faults for the next Shopify calls ("throttled");
`delay_seconds` makes every answer slow.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
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
        self.delay_seconds = 0.0  # how long every answer takes (a slow shop)
        self.graphql_fail_next: list[str] = []
        self.unknown_orders: set[str] = set()  # Shopify order ids the shop does not have
        self.refuse_create = ""  # a userErrors message for the next fulfillmentCreate
        self.fulfilled: dict[str, dict[str, Any]] = {}  # shopify order id -> fulfillment
        self.woo_orders: dict[str, dict[str, Any]] = {}  # woo order id -> {status, notes}
        self.url = ""
        self._ids = itertools.count(255858046)

    def shopify(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        if headers.get("X-Shopify-Access-Token") != self.shopify_token:
            return 401, {"errors": "[API] Invalid API key or access token"}
        if method != "POST" or parts[-1] != "graphql.json":
            return 404, {"errors": "Not Found"}
        if self.graphql_fail_next and self.graphql_fail_next.pop(0) == "throttled":
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "fulfillmentCreate(" in query:
            return 200, {"data": {"fulfillmentCreate": self._create(variables["fulfillment"])}}
        if "fulfillmentOrders(" in query:
            oid = variables["id"].removeprefix("gid://shopify/Order/")
            if oid in self.unknown_orders:
                return 200, {"data": {"order": None}}
            status = "CLOSED" if oid in self.fulfilled else "OPEN"
            node = {"id": f"gid://shopify/FulfillmentOrder/{int(oid) * 10 + 1}", "status": status}
            return 200, {"data": {"order": {"fulfillmentOrders": {"nodes": [node]}}}}
        return 200, {"errors": [{"message": "Field doesn't exist on type 'QueryRoot'"}]}

    def _create(self, f: dict[str, Any]) -> dict[str, Any]:
        def refused(field: list[str], message: str) -> dict[str, Any]:
            return {"fulfillment": None, "userErrors": [{"field": field, "message": message}]}

        if self.refuse_create:
            message, self.refuse_create = self.refuse_create, ""
            return refused(["fulfillment", "trackingInfo", "company"], message)
        tracking = f.get("trackingInfo") or {}
        if "number" in tracking and "numbers" in tracking:
            return refused(["fulfillment", "trackingInfo"], "Provide number or numbers, not both.")
        fo_gid = f["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderId"]
        oid = str(int(fo_gid.removeprefix("gid://shopify/FulfillmentOrder/")) // 10)
        if oid in self.fulfilled:
            return refused(
                ["fulfillment"], "Fulfillment order has an unfulfillable status= closed."
            )
        self.fulfilled[oid] = f
        fid = f"gid://shopify/Fulfillment/{next(self._ids)}"
        return {"fulfillment": {"id": fid, "status": "SUCCESS"}, "userErrors": []}

    def woo(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        if headers.get("Authorization") != self.woo_auth:
            return 401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry."}
        oid = parts[4]
        order = self.woo_orders.setdefault(oid, {"status": "processing", "notes": []})
        if method == "POST" and parts[-1] == "notes":
            note = {"id": len(order["notes"]) + 1, **body}
            order["notes"].append(note)
            return 201, note
        if method == "GET" and parts[-1] == "notes":
            return 200, list(reversed(order["notes"]))  # newest first, as WooCommerce lists
        if method == "GET" and len(parts) == 5:
            return 200, {"id": int(oid), "status": order["status"]}
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
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
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
