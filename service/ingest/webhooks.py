"""Receiving one storefront webhook: channel, signature, topic, dedupe, then the upsert.

Order of checks, each answering before anything is stored: signature (401, the same answer
and the same HMAC work whether or not the channel exists, so the URL is no oracle for channel
names), unknown topic (200, recorded as ignored so the shop stops retrying), malformed or
absurd body (4xx naming the field). A delivery id seen before answers 200
and applies nothing; the whole delivery is one transaction. Under load an order delivery is
stored after those checks and applied by the inbox (202, service.ingest.inbox).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.catalogue.webhooks import is_product_topic, receive_product
from service.db import utcnow
from service.errors import ServiceError
from service.ingest import shopify, woocommerce
from service.ingest.errors import ChannelNotFound, MalformedBody, SignatureInvalid
from service.ingest.inbox import Inbox, Queued, insert_queued, mark_applied, queue_delivery
from service.ingest.lookup import Lookup, look_up
from service.ingest.model import NormalisedOrder
from service.ingest.normalise import phones_deferred
from service.ingest.store import IngestResult, cancel_order, run_in_transaction, upsert_order
from service.ingest.tables import QUEUED, store_receipt
from service.json_checks import check_body
from service.models import Channel
from service.returns.shopify import is_return_topic, receive_return
from service.secrets_store import SecretUnavailable, get_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopProtocol:
    """How one storefront signs, names and shapes its webhooks."""

    kind: str
    signature_header: str
    topic_header: str
    webhook_id_header: str
    topics: Mapping[str, str]
    parse: Callable[[Any, Mapping[str, Any]], NormalisedOrder]
    parse_deleted: Callable[[Any], str] | None = None


PROTOCOLS: dict[str, ShopProtocol] = {
    shopify.KIND: ShopProtocol(
        kind=shopify.KIND,
        signature_header=shopify.SIGNATURE_HEADER,
        topic_header=shopify.TOPIC_HEADER,
        webhook_id_header=shopify.WEBHOOK_ID_HEADER,
        topics=shopify.TOPICS,
        parse=shopify.parse,
    ),
    woocommerce.KIND: ShopProtocol(
        kind=woocommerce.KIND,
        signature_header=woocommerce.SIGNATURE_HEADER,
        topic_header=woocommerce.TOPIC_HEADER,
        webhook_id_header=woocommerce.WEBHOOK_ID_HEADER,
        topics=woocommerce.TOPICS,
        parse=woocommerce.parse,
        parse_deleted=woocommerce.parse_deleted,
    ),
}


class SecretNotConfigured(SignatureInvalid):
    """The channel has no usable secret: every delivery is refused until one is set."""


# What every refused signature answers: the same for an unknown channel, a channel without a
# secret and a wrong signature (the log line says which, for the operator).
BAD_SIGNATURE = "The webhook signature is missing or does not match."

# Signs deliveries to unknown channels so they cost the same HMAC work as a known channel's.
_NO_CHANNEL_SECRET = secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)), the signature both Shopify and WooCommerce send."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_signature(secret: str, body: bytes, given: str | None) -> bool:
    """Whether `given` signs the raw `body` with `secret` (constant-time comparison)."""
    if not given:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), given.strip().encode())


def is_woo_ping(kind: str, headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's unsigned `webhook_id=N` form post sent when a webhook is saved."""
    if kind != woocommerce.KIND or headers.get(woocommerce.TOPIC_HEADER):
        return False
    key, _, value = body.decode("latin-1").partition("=")
    return key == "webhook_id" and value.strip().isdigit()


def _decode(body: bytes, *, checked: bool = False) -> Any:
    # Also here, unless the API's InputGuard already checked these very bytes (`checked`).
    if not checked:
        check_body(body)
    try:
        payload = json.loads(body)
    except UnicodeDecodeError as exc:
        raise MalformedBody("The body is not UTF-8 JSON.", field="body") from exc
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}", field="body") from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise MalformedBody("The body holds a number or nesting too large.", field="body") from exc
    if not isinstance(payload, dict):
        raise MalformedBody("The body must be a JSON object.", field="body")
    return payload


# Channels change rarely and every delivery needs one: a short-lived copy per database saves
# a query per webhook. Keyed weakly by the session factory, so a disposed app drops its cache.
CHANNEL_CACHE_SECONDS = 5.0
# Key (kind, name) for deliveries, ("#", id) for queued ones (service.ingest.inbox).
_channel_cache: weakref.WeakKeyDictionary[
    sessionmaker[Session], dict[tuple[str, str | int], tuple[float, Channel]]
] = weakref.WeakKeyDictionary()
_channel_cache_lock = threading.Lock()


def _channel(session: Session, sessions: sessionmaker[Session], kind: str, name: str) -> Channel:
    """The channel (a detached copy, read-only), or ChannelNotFound; misses are not cached."""
    hit = _cached(sessions, (kind, name))
    if hit is not None:
        return hit
    row = session.scalar(select(Channel).where(Channel.kind == kind, Channel.name == name))
    if row is None or (row.settings or {}).get("disabled"):
        # A disabled channel answers exactly like one that does not exist.
        raise ChannelNotFound(f"No {kind} channel named {name!r} is configured.")
    return _cache(sessions, (kind, name), row)


def _channel_by_id(session: Session, sessions: sessionmaker[Session], channel_id: int) -> Channel:
    """The channel of a queued delivery (a detached copy), disabled or not: the delivery was
    accepted while it was enabled."""
    hit = _cached(sessions, ("#", channel_id))
    if hit is not None:
        return hit
    row = session.get(Channel, channel_id)
    if row is None:
        raise ChannelNotFound(f"The channel {channel_id} of a queued delivery is gone.")
    return _cache(sessions, ("#", channel_id), row)


def _cached(sessions: sessionmaker[Session], key: tuple[str, str | int]) -> Channel | None:
    with _channel_cache_lock:
        hit = _channel_cache.setdefault(sessions, {}).get(key)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _cache(sessions: sessionmaker[Session], key: tuple[str, str | int], row: Channel) -> Channel:
    copy = Channel(
        id=row.id,
        kind=row.kind,
        name=row.name,
        secret_ref=row.secret_ref,
        settings=dict(row.settings or {}),
    )
    with _channel_cache_lock:
        _channel_cache.setdefault(sessions, {})[key] = (
            time.monotonic() + CHANNEL_CACHE_SECONDS,
            copy,
        )
    return copy


def forget_cached_channels() -> None:
    """Drop cached channels (after a channel's settings or secret reference changed)."""
    with _channel_cache_lock:
        _channel_cache.clear()


def _check_signature(
    channel: Channel, proto: ShopProtocol, headers: Mapping[str, str], body: bytes, topic: str
) -> None:
    if not channel.secret_ref:
        log.warning("webhook refused: channel %s has no secret configured", channel.name)
        raise SecretNotConfigured(BAD_SIGNATURE)
    try:
        secret = get_secret(channel.secret_ref)
    except SecretUnavailable as exc:
        log.error("webhook refused: secret for channel %s unavailable: %s", channel.name, exc)
        raise SecretNotConfigured(BAD_SIGNATURE) from exc
    if not verify_signature(secret, body, headers.get(proto.signature_header)):
        # Never log the secret or the signature: only who claimed to send what.
        log.warning(
            "webhook signature %s: channel=%s topic=%s delivery=%s bytes=%d",
            "missing" if not headers.get(proto.signature_header) else "mismatch",
            channel.name,
            topic or "-",
            headers.get(proto.webhook_id_header, "-"),
            len(body),
        )
        raise SignatureInvalid(BAD_SIGNATURE)


def _refuse_unknown_channel(
    proto: ShopProtocol, channel_name: str, headers: Mapping[str, str], body: bytes
) -> SignatureInvalid:
    """A delivery to a channel that does not exist, answered like a bad signature.

    The HMAC is computed all the same, so neither status nor time tells a prober which
    channel names exist.
    """
    verify_signature(_NO_CHANNEL_SECRET, body, headers.get(proto.signature_header))
    log.warning(
        "webhook refused: no %s channel named %r (bytes=%d)", proto.kind, channel_name, len(body)
    )
    return SignatureInvalid(BAD_SIGNATURE)


def receive(
    sessions: sessionmaker[Session],
    kind: str,
    channel_name: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    body_checked: bool = False,
    inbox: Inbox | None = None,
) -> dict[str, Any]:
    """Handle one delivery; returns the 200 response body or raises a ServiceError (4xx).

    `headers` must have lower-case names (as ASGI and httpx give them). `body_checked`: the
    caller already ran json_checks.check_body on `body` (the API's InputGuard does, for every
    request body), so it is not scanned a second time. With a running `inbox`, an order
    delivery that finds no free inline slot, or whose order has a delivery queued, is
    checked and stored as queued instead of applied ({"status": "queued"}, service.ingest.
    inbox).
    """
    proto = PROTOCOLS[kind]
    topic = headers.get(proto.topic_header, "").strip().lower()
    # A delivery without an id still deduplicates: identical bodies are the same delivery.
    delivery_id = headers.get(proto.webhook_id_header, "").strip()[:100] or (
        "sha256:" + hashlib.sha256(body).hexdigest()
    )
    actor = f"webhook:{channel_name}"[:100]
    action = proto.topics.get(topic)
    queueing = inbox is not None and inbox.running and action is not None
    # Behind deliveries this process queued, a new one queues too: none overtakes them.
    inline = queueing and inbox is not None and not inbox.backlogged and inbox.take_slot()
    if queueing and inbox is not None:
        inbox.taken()

    queued_busy = False  # queued because the service is busy (no free slot, a backlog)

    def decode() -> Any:
        return _decode(body, checked=body_checked)

    def work(session: Session) -> dict[str, Any]:
        nonlocal queued_busy
        queued_busy = False  # run again after a conflict: only this attempt's answer counts
        try:
            channel = _channel(session, sessions, kind, channel_name)
        except ChannelNotFound:
            if is_woo_ping(kind, headers, body):
                # Unsigned, changes nothing: answered alike for every name (no oracle).
                log.warning("woocommerce ping for unknown channel %r answered", channel_name)
                return {"status": "ping"}
            raise _refuse_unknown_channel(proto, channel_name, headers, body) from None
        if is_woo_ping(kind, headers, body):
            log.info("woocommerce ping for channel %s answered", channel_name)
            return {"status": "ping"}
        _check_signature(channel, proto, headers, body, topic)
        if is_product_topic(kind, topic):
            return receive_product(session, channel, topic, delivery_id, decode(), actor=actor)
        if is_return_topic(kind, topic):
            return receive_return(session, channel, topic, delivery_id, decode(), actor=actor)
        payload = decode() if action else None
        incoming: NormalisedOrder | None = None
        invalid: ServiceError | None = None
        order_key: str | None = None
        if action is not None:
            # Parsed before the receipt is looked up, so one statement reads the receipt, the
            # order and its products; an invalid body is refused only after that check, as a
            # delivery already received answers "duplicate" whatever it carries.
            try:
                incoming, order_key = _parse(
                    proto, action, payload, channel, to_queue=queueing and not inline
                )
            except ServiceError as exc:
                invalid = exc
        receipt = _receipt(channel, delivery_id, topic, action, order_key)

        def queue(*, busy: bool) -> dict[str, Any]:
            nonlocal queued_busy
            answer = _queue(session, receipt, body, delivery_id, channel_name)
            queued_busy = busy and answer.get("status") == QUEUED
            return answer

        if queueing and not inline and invalid is None:
            return queue(busy=True)
        lookup = look_up(
            session,
            channel.id,
            webhook_id=delivery_id,
            channel_order_id=order_key,
            skus=(line.sku for line in incoming.lines) if incoming else (),
            queued=queueing,
        )
        seen = lookup.receipt_outcome
        if seen is not None:
            log.info("webhook %s on %s already received (%s)", delivery_id, channel_name, seen)
            return {"status": "duplicate", "outcome": seen}
        if invalid is not None:
            raise invalid
        if action is None:
            log.info("webhook topic %r on channel %s ignored", topic, channel_name)
            store_receipt(session, receipt, None, "ignored_topic")
            return {"status": "ignored", "topic": topic}
        if lookup.queued:
            # Behind an earlier delivery of the same order: applied after it, in order.
            return queue(busy=False)
        if lookup.backlog:
            # Deliveries wait (this service, or another process of it, is busy): none is
            # overtaken, and this process queues its next ones too until the burst is over.
            return queue(busy=True)
        result = _apply(session, channel, proto, incoming, payload, actor, lookup, receipt)
        log.info(
            "webhook %s %s on %s: %s %s (%s)",
            delivery_id,
            topic,
            channel_name,
            result.outcome,
            result.number or "-",
            result.status or "-",
        )
        return result.as_json()

    try:
        answer = (
            _queue_at_once(
                sessions, proto, channel_name, headers, body, topic, action, delivery_id, decode
            )
            if queueing and not inline and action is not None
            else None
        )
        if answer is not None:
            queued_busy = True
        else:
            with sessions() as session:
                answer = run_in_transaction(session, work)
    finally:
        if inline and inbox is not None:
            inbox.give_slot()
        if queueing and inbox is not None:
            inbox.answered()
    if answer.get("status") == QUEUED and inbox is not None:
        inbox.notify(busy=queued_busy)
    return answer


def _receipt(
    channel: Channel, delivery_id: str, topic: str, action: str | None, order_key: str | None
) -> dict[str, Any]:
    """A delivery's receipt row (without its outcome, order and body)."""
    return {
        "channel_id": channel.id,
        "webhook_id": delivery_id,
        "topic": topic[:60] or "-",
        "received_at": utcnow(),
        "ignored": action is None,
        "channel_order_id": order_key,
    }


def _queue_at_once(
    sessions: sessionmaker[Session],
    proto: ShopProtocol,
    channel_name: str,
    headers: Mapping[str, str],
    body: bytes,
    topic: str,
    action: str,
    delivery_id: str,
    decode: Callable[[], Any],
) -> dict[str, Any] | None:
    """A busy service's answer to an order delivery: checked, then stored as queued in one
    INSERT on a plain connection (an ORM session's bookkeeping was a fifth of the answer's
    CPU), or None where the delivery needs the full path: a channel not cached yet, a
    WooCommerce ping, a body that makes no order (refused only after the duplicate check),
    a delivery id stored before (answered with its outcome). A wrong signature is refused
    here, as on the full path."""
    bind = sessions.kw.get("bind")
    channel = _cached(sessions, (proto.kind, channel_name))
    if not isinstance(bind, Engine) or channel is None or is_woo_ping(proto.kind, headers, body):
        return None
    _check_signature(channel, proto, headers, body, topic)
    try:
        _, order_key = _parse(proto, action, decode(), channel, to_queue=True)
    except ServiceError:
        return None
    receipt = _receipt(channel, delivery_id, topic, action, order_key)
    if bind.dialect.name == "postgresql":
        # One statement is a transaction of its own: one round trip, not BEGIN, INSERT, COMMIT.
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            stored = insert_queued(connection, receipt, body)
    else:  # SQLite: the engine's BEGIN IMMEDIATE, as every writer there takes it
        with bind.begin() as connection:
            stored = insert_queued(connection, receipt, body)
    if not stored:
        return None
    log.info("webhook %s on %s queued", delivery_id, channel_name)
    return {"status": QUEUED}


def _parse(
    proto: ShopProtocol, action: str, payload: Any, channel: Channel, *, to_queue: bool = False
) -> tuple[NormalisedOrder | None, str]:
    """The delivery's order (None for a delete, which carries only the id) and its id.
    `to_queue`: read only to check it before it is queued (without its phone numbers)."""
    if action == "delete" and proto.parse_deleted is not None:
        return None, proto.parse_deleted(payload)
    with phones_deferred() if to_queue else contextlib.nullcontext():
        incoming = proto.parse(payload, channel.settings or {})
    return incoming, incoming.channel_order_id


def _queue(
    session: Session, receipt: dict[str, Any], body: bytes, delivery_id: str, channel_name: str
) -> dict[str, Any]:
    """Store the checked delivery for the inbox (or answer the duplicate it is)."""
    seen = queue_delivery(session, receipt, body)
    if seen is not None:
        log.info("webhook %s on %s already received (%s)", delivery_id, channel_name, seen)
        return {"status": "duplicate", "outcome": seen}
    log.info("webhook %s on %s queued", delivery_id, channel_name)
    return {"status": QUEUED}


def _apply(
    session: Session,
    channel: Channel,
    proto: ShopProtocol,
    incoming: NormalisedOrder | None,
    payload: Any,
    actor: str,
    lookup: Lookup,
    receipt: dict[str, Any] | None,
) -> IngestResult:
    """Apply a checked order delivery: upsert its order, or cancel by id for a delete; its
    receipt (if given) is stored with the outcome, as the transaction's last write."""
    if incoming is not None:
        return upsert_order(session, channel, incoming, actor=actor, lookup=lookup, receipt=receipt)
    result = _cancel(session, channel, proto, payload, actor)
    if receipt is not None:
        store_receipt(session, receipt, result.order_id, result.outcome)
    return result


def apply_queued(session: Session, queued: Queued, sessions: sessionmaker[Session]) -> IngestResult:
    """Apply a delivery the inbox claimed, in the caller's transaction (a session of
    `sessions`), and record its outcome on its receipt. A ServiceError (its body no longer
    makes an order under the channel's settings) propagates: the inbox keeps the delivery
    as failed."""
    channel = _channel_by_id(session, sessions, queued.channel_id)
    proto = PROTOCOLS[channel.kind]
    action = proto.topics.get(queued.topic)
    if action is None:
        raise MalformedBody(f"The queued delivery's topic {queued.topic!r} is not an order's.")
    payload = _decode(queued.body)
    incoming, order_key = _parse(proto, action, payload, channel)
    lookup = look_up(
        session,
        channel.id,
        channel_order_id=order_key,
        skus=(line.sku for line in incoming.lines) if incoming else (),
    )
    actor = f"webhook:{channel.name}"[:100]
    result = _apply(session, channel, proto, incoming, payload, actor, lookup, None)
    mark_applied(session, queued.id, result.order_id, result.outcome)
    log.info(
        "queued webhook %s %s on %s: %s %s (%s)",
        queued.webhook_id,
        queued.topic,
        channel.name,
        result.outcome,
        result.number or "-",
        result.status or "-",
    )
    return result


def _cancel(
    session: Session, channel: Channel, proto: ShopProtocol, payload: Any, actor: str
) -> IngestResult:
    """A delete topic: cancel the order named in the body (only its id is sent)."""
    assert proto.parse_deleted is not None
    return cancel_order(session, channel, proto.parse_deleted(payload), actor=actor)
