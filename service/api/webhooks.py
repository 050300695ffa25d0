"""Storefront webhook endpoints: POST /v1/channels/{shopify|woocommerce}/{name}/webhooks.

The raw body is read here (the signature covers the exact bytes) and the database work runs
in the thread pool; service.ingest.webhooks does the checking and the upsert. A delivery the
app's webhook inbox queued (the service was busy) is answered 202 Accepted.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import app_limiter
from service.ingest import shopify, woocommerce
from service.ingest.tables import QUEUED
from service.ingest.webhooks import receive
from service.limits import webhook_threads

router = APIRouter(prefix="/v1/channels", tags=["webhooks"])


# Webhook deliveries one process works on at once (PACKBENCH_WEBHOOK_THREADS,
# service.limits). More wait for a thread without holding a database connection, so a flash
# sale cannot take every thread and connection from the stations' pushes and pulls: a packer
# waits at the bench, a shop's delivery is durable once answered and the shop sends it again
# if it is not.
def _limiter(request: Request) -> CapacityLimiter:
    """The app's webhook limiter."""
    return app_limiter(request, "webhook_limiter", webhook_threads)


# What a busy service answers: the delivery passed every check and was stored; its order is
# created (or changed) within seconds, in the order the shop sent its deliveries.
QUEUED_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted: checked and stored; applied shortly after (busy service)",
        "content": {"application/json": {"example": {"status": "queued"}}},
    }
}


async def _receive(kind: str, name: str, request: Request) -> dict[str, Any] | JSONResponse:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    # InputGuard checked these bytes (NUL, nesting) before this handler: not scanned again.
    work = partial(
        receive,
        request.app.state.sessions,
        kind,
        name,
        headers,
        body,
        body_checked=True,
        inbox=getattr(request.app.state, "inbox", None),
    )
    result: dict[str, Any] = await anyio.to_thread.run_sync(work, limiter=_limiter(request))
    if result.get("status") == QUEUED:
        return JSONResponse(result, status_code=202)
    return result


@router.post("/shopify/{name}/webhooks", response_model=None, responses=QUEUED_RESPONSE)
async def shopify_webhook(name: str, request: Request) -> dict[str, Any] | JSONResponse:
    """A Shopify orders/* or products/* webhook (HMAC in X-Shopify-Hmac-Sha256)."""
    return await _receive(shopify.KIND, name, request)


@router.post("/woocommerce/{name}/webhooks", response_model=None, responses=QUEUED_RESPONSE)
async def woocommerce_webhook(name: str, request: Request) -> dict[str, Any] | JSONResponse:
    """A WooCommerce order.* or product.* webhook (HMAC in X-WC-Webhook-Signature), or ping."""
    return await _receive(woocommerce.KIND, name, request)
