"""Telling the shop an order shipped: carrier and tracking numbers, per channel kind.

- Shopify (GraphQL Admin API, fulfillment orders flow; Shopify's REST Admin API is legacy and
  its fulfilment takes one tracking number, where a multi-box order has one per box): the
  order's `fulfillmentOrders`, then `fulfillmentCreate` for the open ones with every tracking
  number in `trackingInfo.numbers`. Settings: `shop_url`, `api_version`; the access token is
  in the keyring (`shopify:<channel>:token`).
- WooCommerce (REST v3): `POST /wp-json/wc/v3/orders/<id>/notes` (a customer note with the
  tracking numbers), then `PUT /wp-json/wc/v3/orders/<id>` `{"status": "completed"}`.
  Settings: `base_url`; consumer key/secret in the keyring
  (`woocommerce:<channel>:consumer_key` / `consumer_secret`).

Runs after the shipping transaction committed, never inside it: a slow shop must not hold
order locks. `dispatch close` enqueues one durable `publish` job per order (service/jobs/):
transient failures (timeouts, 429, 5xx) are retried with backoff across restarts; the outcome
is an order event (`fulfilment_published` / `fulfilment_publish_failed`), and a final failure
also opens an exception of kind `publish`. Publishing twice is harmless: Shopify's open
fulfillment orders and WooCommerce's order status and notes are checked before creating.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import utcnow
from service.jobs.queue import enqueue
from service.lifecycle import record_event
from service.models import Channel, Label, Order, OrderEvent, OrderException
from service.secrets_store import SecretUnavailable, get_secret
from service.shipping.labels import LIVE
from sync.protocol import exception_words

log = logging.getLogger(__name__)

DEFAULT_SHOPIFY_VERSION = "2026-10"  # Shopify supports a version for at least a year
TIMEOUT_SECONDS = 10.0


class PublishError(Exception):
    """The shop did not accept the fulfilment; `transient` says whether to retry.

    `summary` leaves out what the shop echoed back (`detail`), for logs and the job table.
    """

    def __init__(self, message: str, *, transient: bool, detail: str = "") -> None:
        super().__init__(f"{message}: {detail}" if detail else message)
        self.summary = message
        self.transient = transient


@dataclass(frozen=True)
class Fulfilment:
    """What the shop is told."""

    channel_order_id: str
    order_number: str
    carrier: str
    tracking_numbers: list[str]


class ShopPublisher(Protocol):
    """One channel kind's way of marking an order shipped."""

    def publish(self, client: httpx.Client, fulfilment: Fulfilment) -> dict[str, Any]:
        """Tell the shop; return what it answered (ids) for the audit event."""
        ...


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code == 429 or response.status_code >= 500:
        raise PublishError(f"shop answered {response.status_code}", transient=True)
    if response.status_code >= 400:
        raise PublishError(
            f"shop refused ({response.status_code})", transient=False, detail=response.text[:200]
        )
    return response


def _secret(ref: str) -> str:
    try:
        return get_secret(ref)
    except SecretUnavailable as exc:
        raise PublishError(str(exc), transient=False) from exc


_FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 50) { nodes { id status } }
  }
}
"""

_FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

_OPEN = ("OPEN", "IN_PROGRESS")


class ShopifyPublisher:
    """Fulfillment orders flow of the Shopify GraphQL Admin API."""

    def __init__(self, channel: Channel) -> None:
        settings = channel.settings or {}
        self.base = str(settings.get("shop_url", "")).rstrip("/")
        self.version = str(settings.get("api_version") or DEFAULT_SHOPIFY_VERSION)
        self.token_ref = f"shopify:{channel.name}:token"
        if not self.base:
            raise PublishError(f"channel {channel.name} has no shop_url", transient=False)

    def _graphql(
        self, client: httpx.Client, token: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        answer = _check(
            client.post(
                f"{self.base}/admin/api/{self.version}/graphql.json",
                json={"query": query, "variables": variables},
                headers={"X-Shopify-Access-Token": token},
            )
        ).json()
        errors = answer.get("errors") or []
        if errors:
            # GraphQL answers 200 with `errors`; throttling (cost limit) is worth a retry.
            throttled = any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)
            words = "; ".join(str(e.get("message", e)) for e in errors)[:300]
            raise PublishError(f"shop refused the request: {words}", transient=throttled)
        data: dict[str, Any] = answer.get("data") or {}
        return data

    def publish(self, client: httpx.Client, fulfilment: Fulfilment) -> dict[str, Any]:
        token = _secret(self.token_ref)
        order_gid = f"gid://shopify/Order/{fulfilment.channel_order_id}"
        found = self._graphql(client, token, _FULFILLMENT_ORDERS, {"id": order_gid})
        if found.get("order") is None:
            raise PublishError(
                f"the shop has no order {fulfilment.channel_order_id}", transient=False
            )
        open_ids = [
            fo["id"]
            for fo in found["order"]["fulfillmentOrders"]["nodes"]
            if fo.get("status") in _OPEN
        ]
        if not open_ids:
            return {"already_fulfilled": True}
        fulfillment = {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fid} for fid in open_ids],
            "trackingInfo": {
                "company": fulfilment.carrier,
                "numbers": fulfilment.tracking_numbers,
            },
            "notifyCustomer": True,
        }
        made = self._graphql(client, token, _FULFILLMENT_CREATE, {"fulfillment": fulfillment})[
            "fulfillmentCreate"
        ]
        if made.get("userErrors"):
            words = "; ".join(
                f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in made["userErrors"]
            )
            raise PublishError(f"shop refused the fulfilment: {words}", transient=False)
        return {"fulfillment_id": (made.get("fulfillment") or {}).get("id")}


class WooCommercePublisher:
    """Order note + status completed through the WooCommerce REST API v3."""

    def __init__(self, channel: Channel) -> None:
        settings = channel.settings or {}
        self.base = str(settings.get("base_url", "")).rstrip("/")
        self.key_ref = f"woocommerce:{channel.name}:consumer_key"
        self.secret_ref = f"woocommerce:{channel.name}:consumer_secret"
        if not self.base:
            raise PublishError(f"channel {channel.name} has no base_url", transient=False)

    def publish(self, client: httpx.Client, fulfilment: Fulfilment) -> dict[str, Any]:
        auth = (_secret(self.key_ref), _secret(self.secret_ref))
        api = f"{self.base}/wp-json/wc/v3/orders/{fulfilment.channel_order_id}"
        # Check before creating: a retry after a crash must not add a second note.
        if _check(client.get(api, auth=auth)).json().get("status") == "completed":
            return {"already_fulfilled": True}
        numbers = ", ".join(fulfilment.tracking_numbers)
        text = f"Shipped with {fulfilment.carrier}, tracking: {numbers}"
        notes = _check(client.get(f"{api}/notes", auth=auth)).json()
        note_id = next(
            (n.get("id") for n in notes if isinstance(n, dict) and n.get("note") == text), None
        )
        if note_id is None:
            note = _check(
                client.post(f"{api}/notes", json={"note": text, "customer_note": True}, auth=auth)
            ).json()
            note_id = note.get("id")
        _check(client.put(api, json={"status": "completed"}, auth=auth))
        return {"note_id": note_id}


PUBLISHERS: dict[str, Callable[[Channel], ShopPublisher]] = {
    "shopify": ShopifyPublisher,
    "woocommerce": WooCommercePublisher,
}


def _already_published(session: Session, order_id: int) -> bool:
    return (
        session.scalar(
            select(OrderEvent.id).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "fulfilment_published"
            )
        )
        is not None
    )


@dataclass(frozen=True)
class Publication:
    """What to tell which shop for one order (read in a short transaction)."""

    order_id: int
    channel: Channel
    fulfilment: Fulfilment
    make: Callable[[Channel], ShopPublisher]


def publication(session: Session, order_id: int) -> Publication | None:
    """The order's publication, or None: not a shop channel, or the shop was told already."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    make = PUBLISHERS.get(order.channel.kind)
    if make is None or _already_published(session, order_id):
        return None
    numbers = list(
        session.scalars(
            select(Label.tracking_number)
            .where(Label.order_id == order_id, Label.status.in_(LIVE))
            .order_by(Label.parcel_no)
        )
    )
    fulfilment = Fulfilment(order.channel_order_id, order.number, order.carrier, numbers)
    return Publication(order_id, order.channel, fulfilment, make)


def prepare_publication(sessions: sessionmaker[Session], order_id: int) -> Publication | None:
    """`publication` in a short read transaction of its own."""
    with sessions() as session:
        return publication(session, order_id)


def attempt_publication(pub: Publication, client: httpx.Client) -> dict[str, Any]:
    """One try at telling the shop; PublishError (transient or not) if it did not take it."""
    publisher = pub.make(pub.channel)
    if not pub.fulfilment.tracking_numbers:
        raise PublishError("the order has no tracking number", transient=False)
    try:
        return publisher.publish(client, pub.fulfilment)
    except httpx.TimeoutException as exc:
        raise PublishError("the shop did not answer in time", transient=True) from exc
    except httpx.HTTPError as exc:
        raise PublishError(f"cannot reach the shop ({type(exc).__name__})", transient=True) from exc


def _payload(pub: Publication, tries: int) -> dict[str, Any]:
    return {
        "channel": pub.channel.name,
        "carrier": pub.fulfilment.carrier,
        "tracking_numbers": pub.fulfilment.tracking_numbers,
        "attempts": tries,
    }


def record_published(
    session: Session, pub: Publication, result: dict[str, Any], *, tries: int, actor: str
) -> None:
    """The `fulfilment_published` event; an open `fulfilment_not_published` is resolved."""
    order = session.get_one(Order, pub.order_id)
    record_event(
        session,
        order,
        "fulfilment_published",
        actor=actor,
        payload={**_payload(pub, tries), **result},
    )
    for exc in session.scalars(
        select(OrderException).where(
            OrderException.order_id == pub.order_id,
            OrderException.code == "fulfilment_not_published",
            OrderException.resolved_at.is_(None),
        )
    ):
        exc.resolved_at = utcnow()
        exc.resolved_by = actor
        exc.resolution = "The shop was told on a later attempt."


def record_publish_failed(
    session: Session, pub: Publication, error: PublishError, *, tries: int, actor: str
) -> None:
    """The `fulfilment_publish_failed` event and a `publish` exception a person sees."""
    order = session.get_one(Order, pub.order_id)
    payload = _payload(pub, tries)
    log.warning(
        "publishing order %s to %s failed: %s", order.number, pub.channel.name, error.summary
    )
    record_event(
        session,
        order,
        "fulfilment_publish_failed",
        actor=actor,
        payload={**payload, "error": str(error)},
    )
    message, say = exception_words("fulfilment_not_published", shop=pub.channel.name, error=error)
    session.add(
        OrderException(
            order_id=pub.order_id,
            kind="publish",
            code="fulfilment_not_published",
            message=message,
            details={**payload, "say": say},
        )
    )


def publish_fulfilment(
    sessions: sessionmaker[Session],
    order_id: int,
    *,
    attempts: int = 4,
    backoff_seconds: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    actor: str = "publish",
) -> bool | None:
    """Tell the order's shop now, retrying in process; True done, False failed, None nothing to do.

    The service itself publishes through durable jobs (service/jobs/); this is for one-off use.
    """
    pub = prepare_publication(sessions, order_id)
    if pub is None:
        return None
    error: PublishError | None = None
    result: dict[str, Any] = {}
    tries = 0
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        for tries in range(1, attempts + 1):
            try:
                result = attempt_publication(pub, client)
                error = None
                break
            except PublishError as exc:
                error = exc
            if not error.transient or tries == attempts:
                break
            sleep(backoff_seconds * 2 ** (tries - 1))
    with sessions() as session, session.begin():
        if error is None:
            record_published(session, pub, result, tries=tries, actor=actor)
            return True
        record_publish_failed(session, pub, error, tries=tries, actor=actor)
        return False


def enqueue_publications(session: Session, order_ids: list[int], *, now: datetime) -> list[int]:
    """A durable `publish` job per shop order (in the shipping transaction); their ids."""
    job_ids: list[int] = []
    for oid in order_ids:
        order = session.get_one(Order, oid)
        if order.channel.kind not in PUBLISHERS:
            continue
        job = enqueue(
            session,
            "publish",
            now=now,
            dedupe_key=f"publish:{oid}",
            order_id=oid,
            target=order.channel.name,
        )
        job_ids.append(job.id)
    return job_ids
