"""Local stand-ins for the shop APIs the service reports fulfilment to.

One loopback HTTP server answers both:
- Shopify GraphQL Admin: `POST /admin/api/<ver>/graphql.json` (header
  `X-Shopify-Access-Token`) answering the order's `fulfillmentOrders` and `fulfillmentCreate`
  as Shopify documents them: 200 with `data`, top-level `errors` (e.g. THROTTLED) or
  `userErrors`, global ids (`gid://shopify/FulfillmentOrder/...`), enum statuses;
  Stock: `product(id:)` with its variants' SKUs and inventory items, and
  `inventorySetQuantities` as API 2026-04 and later take it: an `@idempotent(key:)` directive
  is required (the same key again answers the first result and changes nothing), every
  quantity must carry `changeFromQuantity` (null opts out of the compare, a number that
  differs from the shop's is CHANGE_FROM_QUANTITY_STALE), the name is `available` or
  `on_hand`, unknown locations and inventory items are userErrors;
  Returns: `return(id:)` with its `reverseFulfillmentOrders` -> `lineItems` (id, totalQuantity,
  fulfillmentLineItem.lineItem.id, dispositions) and `reverseFulfillmentOrderDispose`: all
  inputs are checked before any is applied; an unknown line item, a quantity below 1 or above
  what is left to dispose, RESTOCKED without a location or an unknown location are
  userErrors; RESTOCKED adds the units to the variant's available quantity at the location,
  as Shopify restocks;
- WooCommerce REST v3: `GET|PUT /wp-json/wc/v3/orders/<id>`,
  `GET|POST /wp-json/wc/v3/orders/<id>/notes`, `GET|POST /wp-json/wc/v3/orders/<id>/refunds`
  (amount above what is left to refund is refused as WooCommerce does, 500
  `woocommerce_rest_cannot_create_order_refund`), `GET|PUT /wp-json/wc/v3/products/<id>`,
  `GET /wp-json/wc/v3/products/<id>/variations?sku=` and
  `PUT /wp-json/wc/v3/products/<id>/variations/<vid>` (HTTP Basic with consumer key/secret).
`fail_next` holds HTTP statuses to answer the next requests with (e.g. [503, 503] or [400]);
`graphql_fail_next` GraphQL-level faults for the next Shopify calls ("throttled");
`delay_seconds` makes every answer slow.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
        self.lock = threading.Lock()  # requests are served on threads
        # Shopify stock: product id -> variants [{"sku", "inventory_item"}]; locations;
        # (inventory item gid, location gid) -> available; every set applied, in order.
        self.shopify_products: dict[str, list[dict[str, str]]] = {}
        self.locations: set[str] = {"gid://shopify/Location/655441491"}
        self.inventory: dict[tuple[str, str], int] = {}
        self.stock_sets: list[tuple[str, str, int]] = []
        self._idempotent: dict[str, dict[str, Any]] = {}
        # Shopify returns: return id -> reverse fulfilment order line items
        # [{"id", "line_item", "sku", "total", "dispositions": [{"quantity", "type", ...}]}];
        # every dispose call applied: its inputs.
        self.shopify_returns: dict[str, list[dict[str, Any]]] = {}
        self.disposals: list[list[dict[str, Any]]] = []
        # WooCommerce stock: product id -> {"sku", "type", "manage_stock", "stock_quantity",
        # "variations": {vid: {...}}}; every stock PUT applied: (path, body).
        self.woo_products: dict[str, dict[str, Any]] = {}
        self.woo_stock_puts: list[tuple[str, dict[str, Any]]] = []

    def shopify(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        if headers.get("X-Shopify-Access-Token") != self.shopify_token:
            return 401, {"errors": "[API] Invalid API key or access token"}
        if method != "POST" or parts[-1] != "graphql.json":
            return 404, {"errors": "Not Found"}
        if self.graphql_fail_next and self.graphql_fail_next.pop(0) == "throttled":
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "reverseFulfillmentOrderDispose(" in query:
            answer = self._dispose(variables.get("dispositionInputs") or [])
            return 200, {"data": {"reverseFulfillmentOrderDispose": answer}}
        if "return(id:" in query:
            return 200, {"data": {"return": self._return(variables["id"])}}
        if "inventorySetQuantities(" in query:
            return self._set_quantities(parts[2], query, variables)
        if "product(id:" in query:
            pid = variables["id"].removeprefix("gid://shopify/Product/")
            if pid not in self.shopify_products:
                return 200, {"data": {"product": None}}
            nodes = [
                {"sku": v["sku"], "inventoryItem": {"id": v["inventory_item"]}}
                for v in self.shopify_products[pid]
            ]
            return 200, {"data": {"product": {"variants": {"nodes": nodes}}}}
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

    def add_return(self, return_id: str, lines: list[tuple[str, str, int]]) -> None:
        """A Shopify return of (order line item id, SKU, quantity), one reverse fulfilment
        order line item each."""
        self.shopify_returns[str(return_id)] = [
            {
                "id": f"gid://shopify/ReverseFulfillmentOrderLineItem/{next(self._ids)}",
                "line_item": str(line_item),
                "sku": sku,
                "total": quantity,
                "dispositions": [],
            }
            for line_item, sku, quantity in lines
        ]

    def _return(self, gid: str) -> dict[str, Any] | None:
        rid = str(gid).removeprefix("gid://shopify/Return/")
        items = self.shopify_returns.get(rid)
        if items is None:
            return None
        nodes = [
            {
                "id": it["id"],
                "totalQuantity": it["total"],
                "fulfillmentLineItem": {
                    "lineItem": {"id": f"gid://shopify/LineItem/{it['line_item']}"}
                },
                "dispositions": [
                    {"quantity": d["quantity"], "type": d["type"]} for d in it["dispositions"]
                ],
            }
            for it in items
        ]
        rfo = {"id": f"gid://shopify/ReverseFulfillmentOrder/{rid}1", "lineItems": {"nodes": nodes}}
        return {"id": gid, "reverseFulfillmentOrders": {"nodes": [rfo]}}

    def _dispose(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        items = {it["id"]: it for its in self.shopify_returns.values() for it in its}

        def refused(i: int, field: str, message: str) -> dict[str, Any]:
            where = ["dispositionInputs", str(i), field]
            errors = [{"code": "INVALID", "field": where, "message": message}]
            return {"reverseFulfillmentOrderLineItems": None, "userErrors": errors}

        left = {k: it["total"] - sum(d["quantity"] for d in it["dispositions"])
                for k, it in items.items()}  # fmt: skip
        for i, d in enumerate(inputs):
            item_id = d.get("reverseFulfillmentOrderLineItemId")
            if item_id not in items:
                return refused(i, "reverseFulfillmentOrderLineItemId", "Line item not found.")
            kind = d.get("dispositionType")
            if kind not in ("RESTOCKED", "NOT_RESTOCKED", "PROCESSING_REQUIRED", "MISSING"):
                return refused(i, "dispositionType", "Disposition type is invalid.")
            quantity = int(d.get("quantity") or 0)
            if quantity < 1 or quantity > left[item_id]:
                return refused(i, "quantity", f"Quantity must be between 1 and {left[item_id]}.")
            if kind == "RESTOCKED" and d.get("locationId") is None:
                return refused(i, "locationId", "Location is required to restock.")
            if d.get("locationId") is not None and d["locationId"] not in self.locations:
                return refused(i, "locationId", "Location not found.")
            left[item_id] -= quantity
        for d in inputs:
            item = items[d["reverseFulfillmentOrderLineItemId"]]
            item["dispositions"].append(
                {"quantity": int(d["quantity"]), "type": d["dispositionType"],
                 "location": d.get("locationId")}
            )  # fmt: skip
            if d["dispositionType"] == "RESTOCKED":
                stock = [
                    v["inventory_item"]
                    for vs in self.shopify_products.values()
                    for v in vs
                    if v["sku"] == item["sku"]
                ]
                for inventory_item in stock[:1]:
                    key = (inventory_item, d["locationId"])
                    self.inventory[key] = self.inventory.get(key, 0) + int(d["quantity"])
        self.disposals.append([dict(d) for d in inputs])
        nodes = [{"id": d["reverseFulfillmentOrderLineItemId"]} for d in inputs]
        return {"reverseFulfillmentOrderLineItems": nodes, "userErrors": []}

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

    def _set_quantities(
        self, version: str, query: str, variables: dict[str, Any]
    ) -> tuple[int, Any]:
        def refused(code: str, field: list[str], message: str) -> tuple[int, Any]:
            errors = [{"code": code, "field": field, "message": message}]
            payload = {"inventoryAdjustmentGroup": None, "userErrors": errors}
            return 200, {"data": {"inventorySetQuantities": payload}}

        keyed = "@idempotent(key: $key)" in query and variables.get("key")
        if not keyed and version >= "2026-04":
            message = "The @idempotent directive is required for this mutation."
            return 200, {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
        key = str(variables.get("key") or "")
        if key and key in self._idempotent:
            return 200, {"data": {"inventorySetQuantities": self._idempotent[key]}}
        data = variables.get("input") or {}
        if data.get("name") not in ("available", "on_hand"):
            return refused(
                "INVALID_NAME", ["input", "name"], "The quantity name must be available or on_hand."
            )
        if data.get("reason") not in ("correction", "cycle_count_available", "received"):
            return refused("INVALID_REASON", ["input", "reason"], "The reason is invalid.")
        quantities = data.get("quantities") or []
        for i, q in enumerate(quantities):
            where = ["input", "quantities", str(i)]
            if version >= "2026-04" and "changeFromQuantity" not in q:
                return refused(
                    "CHANGE_FROM_QUANTITY_REQUIRED",
                    [*where, "changeFromQuantity"],
                    "changeFromQuantity is required; pass null to opt out of the check.",
                )
            if q["locationId"] not in self.locations:
                return refused(
                    "INVALID_LOCATION",
                    [*where, "locationId"],
                    "The specified location could not be found.",
                )
            items = {v["inventory_item"] for vs in self.shopify_products.values() for v in vs}
            if q["inventoryItemId"] not in items:
                return refused(
                    "INVALID_INVENTORY_ITEM",
                    [*where, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                )
            current = self.inventory.get((q["inventoryItemId"], q["locationId"]), 0)
            compared = version < "2026-01" and not data.get("ignoreCompareQuantity")
            if compared and q.get("compareQuantity") != current:
                return refused(
                    "COMPARE_QUANTITY_STALE",
                    [*where, "compareQuantity"],
                    "The compareQuantity argument no longer matches the persisted quantity.",
                )
            if q.get("changeFromQuantity") is not None and q["changeFromQuantity"] != current:
                return refused(
                    "CHANGE_FROM_QUANTITY_STALE",
                    [*where, "changeFromQuantity"],
                    "The specified compare quantity does not match the current quantity.",
                )
        for q in quantities:
            self.inventory[(q["inventoryItemId"], q["locationId"])] = int(q["quantity"])
            self.stock_sets.append((q["inventoryItemId"], q["locationId"], int(q["quantity"])))
        gid = f"gid://shopify/InventoryAdjustmentGroup/{next(self._ids)}"
        answer = {"inventoryAdjustmentGroup": {"id": gid}, "userErrors": []}
        if key:
            self._idempotent[key] = answer
        return 200, {"data": {"inventorySetQuantities": answer}}

    def woo(
        self, method: str, parts: list[str], headers: Any, body: Any, query: str = ""
    ) -> tuple[int, Any]:
        if headers.get("Authorization") != self.woo_auth:
            return 401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry."}
        if len(parts) >= 5 and parts[3] == "products":
            return self._woo_product(method, parts, body, parse_qs(query))
        oid = parts[4]
        order = self.woo_orders.setdefault(oid, {"status": "processing", "notes": []})
        order.setdefault("total", "100.00")
        order.setdefault("refunds", [])
        if parts[-1] == "refunds":
            return self._woo_refund(method, order, body)
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

    def _woo_refund(self, method: str, order: dict[str, Any], body: Any) -> tuple[int, Any]:
        if method == "GET":
            return 200, list(reversed(order["refunds"]))  # newest first
        if method != "POST":
            return 404, {"code": "rest_no_route", "message": "No route."}
        try:
            amount = Decimal(str(body.get("amount") or "0"))
        except InvalidOperation:
            return 400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): amount"}
        if amount <= 0:
            return 400, {
                "code": "woocommerce_rest_invalid_order_refund",
                "message": "Refund amount must be greater than zero.",
            }
        refunded = sum((Decimal(r["amount"]) for r in order["refunds"]), Decimal("0"))
        if amount > Decimal(order["total"]) - refunded:
            return 500, {
                "code": "woocommerce_rest_cannot_create_order_refund",
                "message": "Invalid refund amount.",
            }
        refund = {
            "id": next(self._ids),
            "amount": f"{amount:.2f}",
            "reason": body.get("reason") or "",
            "refunded_by": 1,
            "refunded_payment": bool(body.get("api_refund", True)),
            "meta_data": [{"id": i + 1, **m} for i, m in enumerate(body.get("meta_data") or [])],
            "line_items": [
                {
                    "id": next(self._ids),
                    "quantity": -int(li.get("quantity", 0)),
                    "total": f"-{Decimal(str(li.get('refund_total', '0'))):.2f}",
                    "meta_data": [{"key": "_refunded_item_id", "value": str(li["id"])}],
                }
                for li in body.get("line_items") or []
            ],
            "api_restock": bool(body.get("api_restock", True)),  # kept for the tests to read
        }
        order["refunds"].append(refund)
        if refunded + amount == Decimal(order["total"]):
            order["status"] = "refunded"
        return 201, refund

    def _woo_product(
        self, method: str, parts: list[str], body: Any, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        product = self.woo_products.get(parts[4])
        if product is None:
            return 404, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}
        shown = {k: v for k, v in product.items() if k != "variations"}
        variations: dict[str, dict[str, Any]] = product.get("variations") or {}
        if len(parts) == 5 and method == "GET":
            return 200, {"id": int(parts[4]), **shown, "variations": [int(v) for v in variations]}
        if len(parts) == 5 and method == "PUT":
            return self._woo_stock(product, "/".join(parts[3:]), body, int(parts[4]))
        if len(parts) == 6 and parts[5] == "variations" and method == "GET":
            wanted = set((query.get("sku") or [""])[0].split(",")) - {""}
            found = [
                {"id": int(vid), "parent_id": int(parts[4]), **v}
                for vid, v in variations.items()
                if not wanted or v.get("sku") in wanted
            ]
            return 200, found
        if len(parts) == 7 and parts[5] == "variations" and method == "PUT":
            variation = variations.get(parts[6])
            if variation is None:
                return 404, {
                    "code": "woocommerce_rest_product_variation_invalid_id",
                    "message": "Invalid ID.",
                }
            return self._woo_stock(variation, "/".join(parts[3:]), body, int(parts[6]))
        return 404, {"code": "rest_no_route", "message": "No route."}

    def _woo_stock(
        self, item: dict[str, Any], where: str, body: Any, item_id: int
    ) -> tuple[int, Any]:
        quantity = body.get("stock_quantity")
        if quantity is not None and not isinstance(quantity, int):
            return 400, {
                "code": "rest_invalid_param",
                "message": "Invalid parameter(s): stock_quantity",
            }
        item.update({k: body[k] for k in ("manage_stock", "stock_quantity") if k in body})
        self.woo_stock_puts.append((where, dict(body)))
        return 200, {"id": item_id, **{k: v for k, v in item.items() if k != "variations"}}


def _handler(fake: FakeShops) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _route(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            split = urlsplit(self.path)
            path = split.path
            fake.requests.append((method, path, body))
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            parts = path.strip("/").split("/")
            with fake.lock:
                if fake.fail_next:
                    status, answer = fake.fail_next.pop(0), {"errors": "injected"}
                elif parts[:2] == ["admin", "api"]:
                    status, answer = fake.shopify(method, parts, self.headers, body)
                elif parts[:3] == ["wp-json", "wc", "v3"]:
                    status, answer = fake.woo(method, parts, self.headers, body, split.query)
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
