"""The pull feed's change numbers, assigned so that a late commit can never hide.

A plain sequence hands numbers out in one order and transactions commit in another, so a
station whose cursor already moved past a number would never see that row. Numbering at
commit under a counter-row lock fixes that, but makes every writer queue for one row through
its commit: under 50 stations pushing, most of the service's connections waited on it.

So writers only *insert* their change rows, without a number, as part of their own commit
(no shared lock). `number_changes` then numbers the rows that have committed, in one short
transaction that holds the counter row: numbering runs are serialised, each hands out
numbers above all earlier ones, and a row that commits later is numbered by a later run,
above everything a station may already have seen. A pull numbers before it reads, so it
sees every change committed before it started, unless another run holds the counter: then
it does not queue for it (see number_pending) and the next pull brings what that run numbers.

Only the outermost commit records rows: SQLAlchemy also fires before_commit when a SAVEPOINT
is released. A savepoint that rolls back forgets exactly the marks made inside it.
"""

from __future__ import annotations

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from service.models.sync import ChangeCounter, ChangeRow

_PENDING_KEY = "pb_pending_changes"
_SAVEPOINTS_KEY = "pb_marks_at_savepoint"


def mark_changed(
    session: Session, entity: str, entity_id: int, station_id: int | None = None
) -> None:
    """Record that `entity` changed in this transaction; written as a change row at commit."""
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
    session.execute(
        insert(ChangeRow),
        [{"entity": entity, "entity_id": eid, "station_id": sid} for entity, eid, sid in pending],
    )


def number_changes(session: Session) -> int:
    """Number every committed, unnumbered change row, in a transaction of its own (the
    session must not be in one); returns how many it numbered."""
    with session.begin():
        return number_pending(session)


def number_pending(session: Session, *, wait: bool = True, pending: bool | None = None) -> int:
    """number_changes inside the caller's transaction, which should be short and commit
    right after: the counter row stays locked until then. Cheap when there is nothing to
    do: one index probe, no lock.

    `wait=False` (a pull): when another run holds the counter, number nothing and return 0
    at once. That run numbers what had committed when it began, and the next run the rest,
    so nothing is skipped; the pull reads what is numbered when it reads, and its next pull
    gets what was still waiting. Waiting instead made every pull queue behind every other:
    under 100 stations and a flash sale ~30 pulls stood in line for the counter row at any
    moment, some for longer than the station's 10-second timeout.

    `pending`: whether the caller already found unnumbered rows (None: look here).
    """
    if pending is None:  # the caller may have asked already, in a statement of its own
        pending = (
            session.scalar(select(ChangeRow.id).where(ChangeRow.seq.is_(None)).limit(1)) is not None
        )
    if not pending:
        return 0
    head = session.execute(
        select(ChangeCounter.value)
        .where(ChangeCounter.id == 1)
        .with_for_update(skip_locked=not wait)
    ).scalar_one_or_none()
    if head is None:  # another run holds the counter (wait=False only)
        return 0
    # Read after the lock: a run that held it before us has committed its numbers.
    unnumbered = (
        select(
            ChangeRow.id,
            (head + func.row_number().over(order_by=ChangeRow.id)).label("seq"),
        )
        .where(ChangeRow.seq.is_(None))
        .subquery()
    )
    result = session.execute(
        update(ChangeRow)
        .where(ChangeRow.id == unnumbered.c.id)
        .values(seq=unnumbered.c.seq)
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    session.execute(update(ChangeCounter).where(ChangeCounter.id == 1).values(value=head + count))
    return count


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
