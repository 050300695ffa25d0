"""The fake shops (tests.support.fake_shops) plus a Shopify catalogue on the GraphQL Admin API.

Answers `products(first:, after:)` and `product(id:) { variants(first:, after:) }` as
Shopify documents them: connections with `nodes` and `pageInfo { hasNextPage endCursor }`,
opaque cursors, global ids, `status` ACTIVE/ARCHIVED/DRAFT, variant weights under
`inventoryItem.measurement.weight { unit value }` with units GRAMS/KILOGRAMS/OUNCES/POUNDS.
`first` above 250 is refused as Shopify refuses it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.fake_shops import FakeShops, _handler
from tests.support.loopback_http import serving

MAX_PAGE = 250


def _cursor(index: int) -> str:
    return base64.b64encode(f'{{"last_id":{index}}}'.encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return -1
    return int(base64.b64decode(cursor).decode().split(":")[1].rstrip("}"))


def _page(items: list[dict[str, Any]], first: int, after: str | None) -> dict[str, Any]:
    start = _index(after) + 1
    chunk = items[start : start + first]
    end = start + len(chunk) - 1
    return {
        "nodes": chunk,
        "pageInfo": {
            "hasNextPage": end + 1 < len(items),
            "endCursor": _cursor(end) if chunk else None,
        },
    }


def variant(
    vid: int,
    sku: str,
    *,
    barcode: str | None = None,
    title: str = "Default Title",
    weight: tuple[float, str] | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """A ProductVariant node."""
    measured = {"weight": {"unit": weight[1], "value": weight[0]}} if weight else None
    return {
        "id": f"gid://shopify/ProductVariant/{vid}",
        "sku": sku,
        "barcode": barcode,
        "title": title,
        "image": {"url": image} if image else None,
        "inventoryItem": {"measurement": measured},
    }


def product(
    pid: int, title: str, variants: list[dict[str, Any]], *, status: str = "ACTIVE"
) -> dict[str, Any]:
    """A Product node with all its variants (paged when queried)."""
    return {
        "id": f"gid://shopify/Product/{pid}",
        "title": title,
        "status": status,
        "featuredMedia": {
            "preview": {"image": {"url": f"https://cdn.shopify.com/s/files/1/products/{pid}.jpg"}}
        },
        "variants": variants,
    }


class FakeShopifyCatalogue(FakeShops):
    """FakeShops whose Shopify side also serves a product catalogue."""

    def __init__(self) -> None:
        super().__init__()
        self.products: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []  # variables of each catalogue query

    def shopify(self, method: str, parts: list[str], headers: Any, body: Any) -> tuple[int, Any]:
        query = (body or {}).get("query", "")
        if "products(" not in query and "product(id:" not in query:
            return super().shopify(method, parts, headers, body)
        if headers.get("X-Shopify-Access-Token") != self.shopify_token:
            return 401, {"errors": "[API] Invalid API key or access token"}
        if self.graphql_fail_next and self.graphql_fail_next.pop(0) == "throttled":
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
        variables = body.get("variables") or {}
        self.queries.append(variables)
        sizes = [variables.get("first", 0), variables.get("variants", 0)]
        if any(not 0 < n <= MAX_PAGE for n in sizes if n):
            return 200, {"errors": [{"message": "first must be between 1 and 250"}]}
        if "products(" in query:
            page = _page(self.products, variables["first"], variables.get("after"))
            page["nodes"] = [
                {**p, "variants": _page(p["variants"], variables["variants"], None)}
                for p in page["nodes"]
            ]
            return 200, {"data": {"products": page}}
        found = next((p for p in self.products if p["id"] == variables["id"]), None)
        if found is None:
            return 200, {"data": {"product": None}}
        variants = _page(found["variants"], variables["variants"], variables.get("after"))
        return 200, {"data": {"product": {"variants": variants}}}


@contextmanager
def running_fake_catalogue() -> Iterator[FakeShopifyCatalogue]:
    """Start the fake shops with a catalogue on one free loopback port (`fake.url`)."""
    fake = FakeShopifyCatalogue()
    with serving(_handler(fake)) as url:
        fake.url = url
        yield fake
