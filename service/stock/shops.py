"""Sending one product's available stock to one shop (the `stock_publish` job's call).

The figure is read when the job runs, never when it is queued, so a burst of movements sends
the latest figure once. What is sent is an absolute quantity, so sending it again is harmless.

- Shopify (GraphQL Admin API): the listed product's variants give the SKU's inventory item;
  `inventorySetQuantities` sets its `available` quantity at the channel's `location_id`
  (setting), with an `@idempotent` key (required from API 2026-04) made of the product, the
  ledger's last movement, the figure and the job, and `changeFromQuantity: null`: the
  warehouse ledger is the source of truth, so the shop's own count is not compared.
- WooCommerce (REST v3): the listed product, or, for a variable product, its variation with
  the SKU; `PUT /wp-json/wc/v3/products/<id>` (or `.../products/<id>/variations/<vid>`)
  `{"manage_stock": true, "stock_quantity": n}`.

Available below zero (a site that sells what it does not have) is sent as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.catalogue.fields import normalise_sku
from service.channels import is_disabled
from service.models import Channel, Product, ProductListing, StockMovement
from service.shipping.publish import (
    DEFAULT_SHOPIFY_VERSION,
    PublishError,
    _check,
    _secret,
)
from service.stock.ledger import MAIN, level

STOCK_KINDS = frozenset({"shopify", "woocommerce"})


@dataclass(frozen=True)
class StockFigure:
    """What one shop is told about one product (read in a short transaction)."""

    product_id: int
    sku: str
    channel_id: int
    channel_name: str
    channel_kind: str
    settings: dict[str, Any]
    shop_product_ids: list[str]
    quantity: int
    version: int  # the product's last movement at MAIN: the figure's identity
    # The job sending it: a later job sends the same figure again for real (after Shopify
    # counted a restocked return itself), while a retry of one job stays one change.
    job_id: int = 0


def stock_channels(session: Session, product_id: int) -> list[Channel]:
    """The enabled shop channels that list the product (where its stock is published)."""
    listed = (
        select(ProductListing.channel_id)
        .where(ProductListing.product_id == product_id)
        .scalar_subquery()
    )
    rows = session.scalars(
        select(Channel)
        .where(Channel.id.in_(listed), Channel.kind.in_(sorted(STOCK_KINDS)))
        .order_by(Channel.id)
    )
    return [c for c in rows if not is_disabled(c)]


def read_figure(session: Session, product_id: int, channel_id: int) -> StockFigure | None:
    """The figure to send now, or None: the product, channel or listing is gone."""
    product = session.get(Product, product_id)
    channel = session.get(Channel, channel_id)
    if product is None or channel is None or channel.kind not in STOCK_KINDS:
        return None
    if is_disabled(channel):
        return None
    listed = sorted(
        session.scalars(
            select(ProductListing.shop_product_id).where(
                ProductListing.channel_id == channel_id, ProductListing.product_id == product_id
            )
        )
    )
    if not listed:
        return None
    version = session.scalar(
        select(func.max(StockMovement.id)).where(
            StockMovement.product_id == product_id, StockMovement.location == MAIN
        )
    )
    return StockFigure(
        product_id=product_id,
        sku=product.sku,
        channel_id=channel.id,
        channel_name=channel.name,
        channel_kind=channel.kind,
        settings=dict(channel.settings or {}),
        shop_product_ids=listed,
        quantity=max(level(session, product_id, MAIN).available, 0),
        version=int(version or 0),
    )


def send_figure(client: httpx.Client, figure: StockFigure) -> dict[str, Any]:
    """Tell the shop; what it answered (ids) for the job's record. PublishError if not."""
    try:
        if figure.channel_kind == "shopify":
            return _shopify(client, figure)
        return _woocommerce(client, figure)
    except httpx.TimeoutException as exc:
        raise PublishError("the shop did not answer in time", transient=True) from exc
    except httpx.HTTPError as exc:
        raise PublishError(f"cannot reach the shop ({type(exc).__name__})", transient=True) from exc


_VARIANTS = """
query ProductVariants($id: ID!) {
  product(id: $id) {
    variants(first: 100) { nodes { sku inventoryItem { id } } }
  }
}
"""

_SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

# Before 2026-01 there was no idempotency directive and no `changeFromQuantity`; the compare
# was opted out of with `ignoreCompareQuantity`.
_SET_QUANTITIES_BEFORE_2026 = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""
MODERN_VERSION = "2026-01"


def _gid(kind: str, value: str) -> str:
    text = str(value).strip()
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def graphql(
    client: httpx.Client, base: str, version: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """One Shopify Admin GraphQL call; PublishError for top-level errors (THROTTLED retried)."""
    answer = _check(
        client.post(
            f"{base}/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": token},
        )
    ).json()
    errors = answer.get("errors") or []
    if errors:
        throttled = any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)
        words = "; ".join(str(e.get("message", e)) for e in errors)[:300]
        raise PublishError(f"shop refused the request: {words}", transient=throttled)
    data: dict[str, Any] = answer.get("data") or {}
    return data


def _shopify(client: httpx.Client, figure: StockFigure) -> dict[str, Any]:
    settings = figure.settings
    base = str(settings.get("shop_url", "")).rstrip("/")
    version = str(settings.get("api_version") or DEFAULT_SHOPIFY_VERSION)
    location = str(settings.get("location_id") or "").strip()
    if not base:
        raise PublishError(f"channel {figure.channel_name} has no shop_url", transient=False)
    if not location:
        raise PublishError(
            f"channel {figure.channel_name} has no location_id: set the Shopify location "
            "stock is kept at (`channel update NAME --location-id ID`), then retry the job",
            transient=False,
        )
    token = _secret(f"shopify:{figure.channel_name}:token")
    item = None
    for shop_id in figure.shop_product_ids:
        found = graphql(
            client, base, version, token, _VARIANTS, {"id": _gid("Product", shop_id)}
        ).get("product")
        for node in ((found or {}).get("variants") or {}).get("nodes") or []:
            if normalise_sku(str(node.get("sku") or "")) == figure.sku:
                item = (node.get("inventoryItem") or {}).get("id")
                break
        if item:
            break
    if not item:
        raise PublishError(
            f"the shop has no variant with SKU {figure.sku} in product "
            f"{', '.join(figure.shop_product_ids)}",
            transient=False,
        )
    location_gid = _gid("Location", location)
    quantity: dict[str, Any] = {
        "inventoryItemId": item,
        "locationId": location_gid,
        "quantity": figure.quantity,
    }
    data: dict[str, Any] = {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": f"packbench://stock/{figure.sku}/{figure.version}",
        "quantities": [quantity],
    }
    if version >= MODERN_VERSION:
        quantity["changeFromQuantity"] = None  # the warehouse ledger is the truth
        key = f"packbench-stock-{figure.channel_id}-{figure.product_id}-{figure.version}-"
        key = f"{key}{figure.quantity}" + (f"-job{figure.job_id}" if figure.job_id else "")
        variables: dict[str, Any] = {"input": data, "key": key}
        query = _SET_QUANTITIES
    else:
        data["ignoreCompareQuantity"] = True
        variables, query = {"input": data}, _SET_QUANTITIES_BEFORE_2026
    made = graphql(client, base, version, token, query, variables)["inventorySetQuantities"]
    if made.get("userErrors"):
        words = "; ".join(
            f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in made["userErrors"]
        )
        raise PublishError(f"shop refused the stock figure: {words}", transient=False)
    group = made.get("inventoryAdjustmentGroup") or {}
    return {"inventory_item": item, "location": location_gid, "adjustment_group": group.get("id")}


def woo_base(settings: dict[str, Any], channel_name: str) -> str:
    """The WooCommerce site's address (`base_url`, else `shop_url`)."""
    base = str(settings.get("base_url") or settings.get("shop_url") or "").rstrip("/")
    if not base:
        raise PublishError(f"channel {channel_name} has no base_url", transient=False)
    return base


def woo_auth(channel_name: str) -> tuple[str, str]:
    """The channel's consumer key and secret from the secret store."""
    return (
        _secret(f"woocommerce:{channel_name}:consumer_key"),
        _secret(f"woocommerce:{channel_name}:consumer_secret"),
    )


def _woocommerce(client: httpx.Client, figure: StockFigure) -> dict[str, Any]:
    api = f"{woo_base(figure.settings, figure.channel_name)}/wp-json/wc/v3/products"
    auth = woo_auth(figure.channel_name)
    body = {"manage_stock": True, "stock_quantity": figure.quantity}
    for shop_id in figure.shop_product_ids:
        product = _check(client.get(f"{api}/{shop_id}", auth=auth)).json()
        if normalise_sku(str(product.get("sku") or "")) == figure.sku:
            _check(client.put(f"{api}/{shop_id}", json=body, auth=auth))
            return {"woo_product": shop_id}
        if product.get("type") == "variable":
            variations = _check(
                client.get(f"{api}/{shop_id}/variations", params={"sku": figure.sku}, auth=auth)
            ).json()
            for variation in variations if isinstance(variations, list) else []:
                if normalise_sku(str(variation.get("sku") or "")) == figure.sku:
                    vid = variation.get("id")
                    _check(client.put(f"{api}/{shop_id}/variations/{vid}", json=body, auth=auth))
                    return {"woo_product": shop_id, "woo_variation": str(vid)}
    raise PublishError(
        f"the shop has no product or variation with SKU {figure.sku} under product "
        f"{', '.join(figure.shop_product_ids)}",
        transient=False,
    )
