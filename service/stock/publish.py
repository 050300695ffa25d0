"""The seam where available stock is handed to the shops (Shopify inventory, WooCommerce stock).

Every movement that changes available stock at the main location calls
`note_available_changed`; just before the transaction commits, `enqueue_publications` gets
the products whose figure changed, in that same transaction. Publishing itself is a durable
outbound job, which the jobs work (issue 13) provides: the lead switches `_enqueue` to its
enqueue function. Until then nothing is sent to shops, and this module says so in the log.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_KEY = "pb_stock_to_publish"


def note_available_changed(session: Session, product_id: int) -> None:
    """Remember that this product's available stock changed in the session's transaction."""
    pending: set[int] = session.info.setdefault(_KEY, set())
    pending.add(product_id)


def pending_publications(session: Session) -> set[int]:
    """The products noted so far in this transaction (for tests and the commit hook)."""
    return set(session.info.get(_KEY, set()))


def _enqueue(session: Session, product_ids: list[int]) -> None:
    """Where the durable publish job is enqueued (jobs helper's function goes here)."""
    log.debug("available stock changed; shop publishing awaits the jobs queue: %s", product_ids)


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
