"""Shop product webhooks, after service.ingest.webhooks has checked channel and signature.

Shopify `products/create|update|delete` and WooCommerce `product.created|updated|restored|
deleted` arrive on the same URL as the shop's order webhooks. A delivery is deduplicated by
its id like an order delivery; a variant that cannot be stored (its GTIN already belongs to
another SKU, an unknown weight unit) is left out, logged and named in the answer, while the
rest of the product is stored: the shop would only send the same body again.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from service.catalogue.fields import FieldError
from service.catalogue.shops import (
    ShopProduct,
    changes_of,
    deleted_id,
    shopify_product,
    woo_product,
)
from service.catalogue.store import apply_changes, deactivate_listing, without_bad_rows
from service.db import utcnow
from service.ingest.errors import PayloadInvalid
from service.ingest.lookup import look_up
from service.ingest.tables import store_receipt
from service.models import Channel

log = logging.getLogger(__name__)

TOPICS: dict[str, dict[str, str]] = {
    "shopify": {
        "products/create": "upsert",
        "products/update": "upsert",
        "products/delete": "delete",  # the body is only {"id": ...}
    },
    "woocommerce": {
        "product.created": "upsert",
        "product.updated": "upsert",
        "product.restored": "upsert",
        "product.deleted": "delete",  # the body is only {"id": ...}
    },
}


def is_product_topic(kind: str, topic: str) -> bool:
    """Whether `topic` is one of the shop's product topics."""
    return topic in TOPICS.get(kind, {})


def _product(channel: Channel, payload: Any) -> ShopProduct:
    try:
        if channel.kind == "shopify":
            return shopify_product(payload)
        return woo_product(payload, channel.settings or {})
    except FieldError as exc:
        raise PayloadInvalid(f"{exc.field}: {exc.message}", field=exc.field) from exc


def receive_product(
    session: Session,
    channel: Channel,
    topic: str,
    delivery_id: str,
    payload: Any,
    *,
    actor: str,
) -> dict[str, Any]:
    """Apply one verified product delivery in the caller's transaction; the 200 body."""
    seen = look_up(session, channel.id, webhook_id=delivery_id).receipt_outcome
    if seen is not None:
        log.info("webhook %s on %s already received (%s)", delivery_id, channel.name, seen)
        return {"status": "duplicate", "outcome": seen}
    receipt = {
        "channel_id": channel.id,
        "webhook_id": delivery_id,
        "topic": topic[:60],
        "received_at": utcnow(),
        "ignored": False,
    }
    if TOPICS[channel.kind][topic] == "delete":
        shop_id = deleted_id(payload)
        gone = deactivate_listing(session, channel.id, shop_id, actor=actor)
        store_receipt(session, receipt, None, "products_deactivated")
        log.info("webhook %s %s on %s: deactivated %s", delivery_id, topic, channel.name, gone)
        return {"status": "products_deactivated", "deactivated": gone}
    shop = changes_of([_product(channel, payload)], channel.id)
    good, problems = without_bad_rows(session, shop.changes)
    problems = [*shop.problems, *problems]
    report = apply_changes(session, good, actor=actor)
    store_receipt(session, receipt, None, "products_upserted")
    for problem in problems:
        log.warning("webhook %s on %s: %s", delivery_id, channel.name, problem.message)
    log.info(
        "webhook %s %s on %s: %d created, %d updated, %d held orders released",
        delivery_id,
        topic,
        channel.name,
        len(report.created),
        len(report.updated),
        len(report.released),
    )
    return {
        "status": "products_upserted",
        **report.as_json(),
        "skipped_without_sku": shop.skipped,
        "problems": [p.message for p in problems],
    }
