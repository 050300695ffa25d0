"""Storefront webhook endpoints: POST /v1/channels/{shopify|woocommerce}/{name}/webhooks.

The raw body is read here (the signature covers the exact bytes) and the database work runs
in the thread pool; service.ingest.webhooks does the checking and the upsert.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from service.ingest import shopify, woocommerce
from service.ingest.webhooks import receive

router = APIRouter(prefix="/v1/channels", tags=["webhooks"])


async def _receive(kind: str, name: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    # InputGuard checked these bytes (NUL, nesting) before this handler: not scanned again.
    result: dict[str, Any] = await run_in_threadpool(
        partial(receive, body_checked=True), request.app.state.sessions, kind, name, headers, body
    )
    return result


@router.post("/shopify/{name}/webhooks")
async def shopify_webhook(name: str, request: Request) -> dict[str, Any]:
    """A Shopify orders/* or products/* webhook (HMAC in X-Shopify-Hmac-Sha256)."""
    return await _receive(shopify.KIND, name, request)


@router.post("/woocommerce/{name}/webhooks")
async def woocommerce_webhook(name: str, request: Request) -> dict[str, Any]:
    """A WooCommerce order.* or product.* webhook (HMAC in X-WC-Webhook-Signature), or ping."""
    return await _receive(woocommerce.KIND, name, request)
