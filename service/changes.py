"""The pull feed's change numbers, assigned so that a late commit can never hide.

A plain sequence hands numbers out in one order and transactions commit in another, so a
station whose cursor already moved past a number would never see that row. Here every
transaction that changed something takes its numbers from one counter row *just before
commit*, under that row's lock: the next writer waits for the row until this one commits,
so numbers become visible in the order they were given. (SQLite serialises writers anyway.)

Only the outermost commit numbers: SQLAlchemy also fires before_commit when a SAVEPOINT is
released, and numbering there took the counter lock at the first savepoint of a push and
held it for the rest of the transaction (serialising every writer behind a long push).
A savepoint that rolls back forgets exactly the marks made inside it.
"""

from __future__ import annotations

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from service.models.sync import ChangeCounter, ChangeRow

_PENDING_KEY = "pb_pending_changes"
_SAVEPOINTS_KEY = "pb_marks_at_savepoint"


def mark_changed(
    session: Session, entity: str, entity_id: int, station_id: int | None = None
) -> None:
    """Record that `entity` changed in this transaction; numbered at commit."""
    pending: dict[tuple[str, int, int | None], None] = session.info.setdefault(_PENDING_KEY, {})
    pending[(entity, entity_id, station_id)] = None


def ensure_counter(session: Session) -> None:
    """Create the single counter row if a fresh database does not have it yet."""
    if session.scalar(select(ChangeCounter.id).where(ChangeCounter.id == 1)) is None:
        session.add(ChangeCounter(id=1, value=0))
        session.flush()


@event.listens_for(Session, "before_commit")
def _number_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: its marks are numbered with the outer commit
    pending: dict[tuple[str, int, int | None], None] | None = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    session.flush()
    n = len(pending)
    end = session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + n)
        .returning(ChangeCounter.value)
    ).scalar_one()
    start = end - n + 1
    session.execute(
        insert(ChangeRow),
        [
            {"seq": start + i, "entity": entity, "entity_id": eid, "station_id": sid}
            for i, (entity, eid, sid) in enumerate(pending)
        ],
    )


@event.listens_for(Session, "after_transaction_create")
def _remember_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = len(session.info.get(_PENDING_KEY, ()))
        session.info.setdefault(_SAVEPOINTS_KEY, {})[transaction] = marks


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
        return
    # Keep the marks made before the savepoint (dicts keep first-insertion order).
    keep = session.info.get(_SAVEPOINTS_KEY, {}).pop(previous_transaction, 0)
    pending = session.info.get(_PENDING_KEY)
    if pending:
        session.info[_PENDING_KEY] = dict.fromkeys(list(pending)[:keep])


@event.listens_for(Session, "after_transaction_end")
def _drop_savepoint_marks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SAVEPOINTS_KEY, None)
