"""Where available stock is handed to the shops (Shopify inventory, WooCommerce stock).

Every movement that changes available stock at the main location calls
`note_available_changed`; just before the transaction commits, `enqueue_publications` queues
a durable `stock_publish` job per (product, shop channel that lists it), in that same
transaction, so a movement and its publication commit or vanish together.

Coalesced: a pending job holds the key `stock:<channel>:<product>`; a later movement finds it
(locked, so a worker cannot claim it meanwhile) and adds nothing, since the job reads the
figure when it runs. A job that is running, done, dead or dismissed gives the key up to a new
job: the figure it sent (or will send) may be older than this movement. The call itself is in
service/stock/shops.py, the job kind in service/jobs/kinds.py.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from service.db import utcnow
from service.jobs.queue import enqueue
from service.models import OutboundJob

log = logging.getLogger(__name__)

_KEY = "pb_stock_to_publish"


def note_available_changed(session: Session, product_id: int) -> None:
    """Remember that this product's available stock changed in the session's transaction."""
    pending: set[int] = session.info.setdefault(_KEY, set())
    pending.add(product_id)


def pending_publications(session: Session) -> set[int]:
    """The products noted so far in this transaction (for tests and the commit hook)."""
    return set(session.info.get(_KEY, set()))


KIND = "stock_publish"


def publish_key(channel_id: int, product_id: int) -> str:
    """The key a pending stock publication of this product to this channel holds."""
    return f"stock:{channel_id}:{product_id}"


def enqueue_stock_publication(
    session: Session, product_id: int, channel_id: int, channel_name: str, *, now: datetime
) -> OutboundJob:
    """The pending `stock_publish` job for (product, channel): the one waiting, or a new one."""
    key = publish_key(channel_id, product_id)
    for _attempt in range(2):
        held = session.scalar(
            select(OutboundJob).where(OutboundJob.dedupe_key == key).with_for_update()
        )
        if held is not None and held.status == "pending":
            return held  # it reads the figure when it runs: this movement is included
        if held is not None:
            held.dedupe_key = None  # running or finished: a newer figure needs a new job
            session.flush()
        try:
            with session.begin_nested():
                return enqueue(
                    session,
                    KIND,
                    now=now,
                    dedupe_key=key,
                    target=channel_name,
                    payload={"product_id": product_id, "channel_id": channel_id},
                )
        except IntegrityError:  # another transaction queued it first: use theirs
            continue
    raise RuntimeError(f"could not queue {key}")  # pragma: no cover - two lost races in a row


def _enqueue(session: Session, product_ids: list[int]) -> None:
    """Queue a stock publication per product and shop channel listing it."""
    from service.stock.shops import stock_channels  # shops imports the ledger, which imports us

    now = utcnow()
    for product_id in product_ids:
        for channel in stock_channels(session, product_id):
            enqueue_stock_publication(session, product_id, channel.id, channel.name, now=now)


@event.listens_for(Session, "before_commit")
def enqueue_publications(session: Session) -> None:
    """Hand the noted products to the publishing queue in the committing transaction.

    A savepoint rolled back may leave a product noted that did not change: publishing its
    current figure again is harmless, so marks are not unwound per savepoint.
    """
    if session.in_nested_transaction():
        return
    pending: set[int] | None = session.info.pop(_KEY, None)
    if pending:
        _enqueue(session, sorted(pending))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_KEY, None)
