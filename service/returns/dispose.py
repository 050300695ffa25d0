"""Publishing a Shopify return's dispositions back to Shopify (the `return_dispose` job).

A return that came from Shopify (`returns/request` or `returns/approve`, whose return id is
kept as `channel_return_id`) is disposed in Shopify with the GraphQL Admin mutation
`reverseFulfillmentOrderDispose(dispositionInputs: [{reverseFulfillmentOrderLineItemId,
quantity, dispositionType, locationId}])`. Our dispositions map to Shopify's types:

- restock -> RESTOCKED, at the channel's `location_id` (Shopify requires a location for it);
- B-grade -> NOT_RESTOCKED: the unit is kept as second quality at `B-GRADE`, never sold again
  as the shop's listing, and nothing more will be done to it in Shopify; PROCESSING_REQUIRED
  would leave it waiting in Shopify for a later disposition that never comes;
- write-off -> NOT_RESTOCKED;
- missing (announced, not in the parcel when the return closed) -> MISSING.

The reverse fulfilment order line items are read from the return first (`return(id:)` ->
`reverseFulfillmentOrders` -> `lineItems`, each with its order line item, total quantity and
the dispositions Shopify already has). What is sent is what we booked minus what Shopify
already has of that line and type, spread over the line items with quantity left. So a retry
after a crash between Shopify's answer and our commit sends nothing a second time, and one
job sends every unit booked so far (the job is coalesced per return while it is pending).

Shopify adds RESTOCKED units to the location's available quantity; the warehouse ledger is
the truth for that figure, so after a restock the product's stock is published again
(`stock_publish`, an absolute figure), which puts the shop back on the ledger's number.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.jobs.queue import enqueue
from service.lifecycle import record_event
from service.models import Order, OutboundJob, Return, ReturnUnit
from service.returns.job_exceptions import record_job_failed, resolve_job_exceptions
from service.returns.states import Disposition
from service.shipping.publish import DEFAULT_SHOPIFY_VERSION, PublishError, _secret
from service.stock.publish import note_available_changed
from service.stock.shops import _gid, graphql

log = logging.getLogger(__name__)

KIND = "return_dispose"
SHOP_TYPES: dict[str, str] = {
    Disposition.RESTOCK.value: "RESTOCKED",
    Disposition.B_GRADE.value: "NOT_RESTOCKED",
    Disposition.WRITE_OFF.value: "NOT_RESTOCKED",
    Disposition.MISSING.value: "MISSING",
}


class DisposeError(PublishError):
    """Shopify did not take the dispositions; `transient` says whether to retry."""


@dataclass(frozen=True)
class Disposal:
    """What one Shopify return should show as disposed (read in a short transaction)."""

    return_id: int
    code: str
    order_id: int
    channel_name: str
    settings: dict[str, Any]
    shop_return_id: str
    # (the shop's order line item id, Shopify disposition type) -> units we booked
    wanted: dict[tuple[str, str], int]
    products: dict[str, int]  # the shop's line item id -> our product id (to republish stock)
    skus: dict[str, str]  # the shop's line item id -> SKU (for the audit event)


def disposal_for(session: Session, return_id: int) -> Disposal | None:
    """The dispositions a Shopify return should carry, or None: not a Shopify return."""
    rma = session.get(Return, return_id)
    if rma is None or not rma.channel_return_id:
        return None
    order = session.get_one(Order, rma.order_id)
    if order.channel.kind != "shopify":
        return None
    lines = {li.id: li for li in order.lines}
    wanted: Counter[tuple[str, str]] = Counter()
    products: dict[str, int] = {}
    skus: dict[str, str] = {}
    for unit in session.scalars(select(ReturnUnit).where(ReturnUnit.return_id == rma.id)):
        line = lines.get(unit.order_line_id)
        if line is None or not line.channel_line_id:
            continue
        wanted[(line.channel_line_id, SHOP_TYPES[unit.disposition])] += 1
        skus[line.channel_line_id] = line.sku
        if line.product_id is not None:
            products[line.channel_line_id] = line.product_id
    return Disposal(
        rma.id,
        rma.code,
        order.id,
        order.channel.name,
        dict(order.channel.settings or {}),
        rma.channel_return_id,
        dict(wanted),
        products,
        skus,
    )


def prepare_disposal(sessions: sessionmaker[Session], return_id: int) -> Disposal | None:
    """`disposal_for` in a short read transaction of its own."""
    with sessions() as session:
        return disposal_for(session, return_id)


_RETURN_LINES = """
query ReturnLines($id: ID!) {
  return(id: $id) {
    id
    reverseFulfillmentOrders(first: 20) {
      nodes {
        id
        lineItems(first: 100) {
          nodes {
            id
            totalQuantity
            fulfillmentLineItem { lineItem { id } }
            dispositions { quantity type }
          }
        }
      }
    }
  }
}
"""

_DISPOSE = """
mutation Dispose($dispositionInputs: [ReverseFulfillmentOrderDisposeInput!]!) {
  reverseFulfillmentOrderDispose(dispositionInputs: $dispositionInputs) {
    reverseFulfillmentOrderLineItems { id dispositions { quantity type } }
    userErrors { code field message }
  }
}
"""


def _plain_id(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]


def plan(
    disposal: Disposal, line_items: list[dict[str, Any]], location: str
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The dispose inputs still needed, and units that fit no line item (by SKU)."""
    theirs: Counter[tuple[str, str]] = Counter()
    left: dict[str, int] = {}
    by_line: dict[str, list[str]] = {}
    for item in line_items:
        line_item = ((item.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
        if not line_item:
            continue
        shop_line = _plain_id(line_item)
        done = 0
        for d in item.get("dispositions") or []:
            theirs[(shop_line, str(d.get("type")))] += int(d.get("quantity") or 0)
            done += int(d.get("quantity") or 0)
        left[item["id"]] = int(item.get("totalQuantity") or 0) - done
        by_line.setdefault(shop_line, []).append(item["id"])
    inputs: list[dict[str, Any]] = []
    unplaced: Counter[str] = Counter()
    for (shop_line, kind), units in sorted(disposal.wanted.items()):
        need = units - theirs[(shop_line, kind)]
        for item_id in by_line.get(shop_line, []):
            if need <= 0:
                break
            n = min(need, left[item_id])
            if n <= 0:
                continue
            entry: dict[str, Any] = {
                "reverseFulfillmentOrderLineItemId": item_id,
                "quantity": n,
                "dispositionType": kind,
            }
            if kind == "RESTOCKED":
                entry["locationId"] = location
            inputs.append(entry)
            left[item_id] -= n
            need -= n
        if need > 0:
            unplaced[disposal.skus.get(shop_line, shop_line)] += need
    return inputs, dict(unplaced)


def attempt_dispose(disposal: Disposal, client: httpx.Client) -> dict[str, Any]:
    """One try: read what Shopify has disposed, send the rest. DisposeError if not taken."""
    settings = disposal.settings
    base = str(settings.get("shop_url", "")).rstrip("/")
    version = str(settings.get("api_version") or DEFAULT_SHOPIFY_VERSION)
    location_id = str(settings.get("location_id") or "").strip()
    try:
        if not base:
            raise DisposeError(f"channel {disposal.channel_name} has no shop_url", transient=False)
        restocks = any(kind == "RESTOCKED" for _line, kind in disposal.wanted)
        if restocks and not location_id:
            raise DisposeError(
                f"channel {disposal.channel_name} has no location_id: set the Shopify location "
                "restocked units go to (`channel update NAME --location-id ID`), then retry",
                transient=False,
            )
        token = _secret(f"shopify:{disposal.channel_name}:token")
        shop_return = _gid("Return", disposal.shop_return_id)
        found = graphql(client, base, version, token, _RETURN_LINES, {"id": shop_return})
        if not found.get("return"):
            raise DisposeError(f"the shop has no return {disposal.shop_return_id}", transient=False)
        items = [
            item
            for rfo in (found["return"].get("reverseFulfillmentOrders") or {}).get("nodes") or []
            for item in (rfo.get("lineItems") or {}).get("nodes") or []
        ]
        location = _gid("Location", location_id) if location_id else ""
        inputs, unplaced = plan(disposal, items, location)
        if unplaced:
            log.warning(
                "return %s: units not in Shopify return %s: %s",
                disposal.code,
                disposal.shop_return_id,
                unplaced,
            )
        if not inputs:
            return {"disposed": [], "already_disposed": True, "unplaced": unplaced}
        made = graphql(client, base, version, token, _DISPOSE, {"dispositionInputs": inputs})
        answer = made.get("reverseFulfillmentOrderDispose") or {}
        if answer.get("userErrors"):
            words = "; ".join(
                f"{'.'.join(e.get('field') or [])}: {e.get('message')}"
                for e in answer["userErrors"]
            )
            raise DisposeError(f"shop refused the dispositions: {words}"[:300], transient=False)
        return {"disposed": inputs, "unplaced": unplaced}
    except DisposeError:
        raise
    except PublishError as exc:
        raise DisposeError(exc.summary, transient=exc.transient) from exc
    except httpx.TimeoutException as exc:
        raise DisposeError("the shop did not answer in time", transient=True) from exc
    except httpx.HTTPError as exc:
        raise DisposeError(f"cannot reach the shop ({type(exc).__name__})", transient=True) from exc


def record_disposed(
    session: Session, disposal: Disposal, result: dict[str, Any], *, tries: int, actor: str
) -> None:
    """The `return_disposed` event; stock republished after a restock; a `dispose_failed`
    exception of this return resolved."""
    order = session.get_one(Order, disposal.order_id)
    record_event(
        session,
        order,
        "return_disposed",
        actor=actor,
        payload={
            "return": disposal.code,
            "channel": disposal.channel_name,
            "shop_return": disposal.shop_return_id,
            "attempts": tries,
            **result,
        },
    )
    restocked = {
        shop_line
        for (shop_line, kind) in disposal.wanted
        if kind == "RESTOCKED" and shop_line in disposal.products
    }
    # Even when nothing was sent now (a run that died after Shopify restocked): publishing
    # the figure again is harmless, and it undoes Shopify's own count of the restock.
    for shop_line in sorted(restocked):
        note_available_changed(session, disposal.products[shop_line])
    resolve_job_exceptions(
        session,
        disposal.order_id,
        "dispose_failed",
        disposal.code,
        actor=actor,
        resolution="Shopify took the dispositions on a later attempt.",
    )


def record_dispose_failed(
    session: Session, return_id: int, error: str, *, tries: int, actor: str
) -> None:
    """The dispositions failed for good: an event and a `dispose_failed` exception."""
    record_job_failed(
        session,
        return_id,
        error,
        tries=tries,
        actor=actor,
        what="dispositions",
        event="return_dispose_failed",
        kind="returns",
        code="dispose_failed",
        params=lambda order, rma: {
            "shop": order.channel.name,
            "rma": rma.code,
            "error": error[:200],
        },
    )


def dispose_key(return_id: int) -> str:
    """The key the pending `return_dispose` job of a return holds."""
    return f"dispose:{return_id}"


def enqueue_dispose(session: Session, order: Order, rma: Return, *, now: datetime) -> int | None:
    """The pending `return_dispose` job of a Shopify return (in the caller's transaction, the
    one that records the disposition); None for a return Shopify does not know."""
    if not rma.channel_return_id or order.channel.kind != "shopify":
        return None
    key = dispose_key(rma.id)
    for _attempt in range(2):
        held = session.scalar(
            select(OutboundJob).where(OutboundJob.dedupe_key == key).with_for_update()
        )
        if held is not None and held.status == "pending":
            return held.id  # it reads the units when it runs: this one is included
        if held is not None:
            held.dedupe_key = None  # running or finished: a newer unit needs a new job
            session.flush()
        try:
            with session.begin_nested():
                return enqueue(
                    session,
                    KIND,
                    now=now,
                    dedupe_key=key,
                    order_id=order.id,
                    target=order.channel.name,
                    payload={"return_id": rma.id},
                ).id
        except IntegrityError:  # another transaction queued it first: use theirs
            continue
    raise RuntimeError(f"could not queue {key}")  # pragma: no cover - two lost races in a row
