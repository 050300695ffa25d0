"""Change numbers are handed out at commit under a lock, so commit order == number order."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed
from service.models import ChangeRow


def test_changes_get_consecutive_numbers_at_commit(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        mark_changed(s, "order", 1)
        mark_changed(s, "order", 2)
        mark_changed(s, "order", 1)  # the same entity twice in one transaction: one row
    with sessions() as s, s.begin():
        mark_changed(s, "product", 7)
    with sessions() as s:
        rows = s.execute(select(ChangeRow.seq, ChangeRow.entity, ChangeRow.entity_id)).all()
    assert sorted(rows) == [(1, "order", 1), (2, "order", 2), (3, "product", 7)]


def test_rolled_back_transaction_takes_no_number(sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as s, s.begin():
            mark_changed(s, "order", 1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with sessions() as s, s.begin():
        mark_changed(s, "order", 2)
    with sessions() as s:
        assert s.scalars(select(ChangeRow.seq)).all() == [1]


def test_concurrent_writers_never_commit_numbers_out_of_order(
    sessions: sessionmaker[Session],
) -> None:
    """Every reader snapshot sees a gap-free prefix of change numbers."""
    stop = threading.Event()
    seen_gaps: list[list[int]] = []

    def writer(base: int) -> None:
        for i in range(40):
            with sessions() as s, s.begin():
                mark_changed(s, "order", base + i)

    def reader() -> None:
        while not stop.is_set():
            with sessions() as s:
                seqs = s.scalars(select(ChangeRow.seq).order_by(ChangeRow.seq)).all()
            if seqs and seqs != list(range(1, len(seqs) + 1)):
                seen_gaps.append(list(seqs))

    threads = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(4)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    assert seen_gaps == []
    with sessions() as s:
        assert s.scalars(select(ChangeRow.seq).order_by(ChangeRow.seq)).all() == list(range(1, 161))


def test_savepoints_are_numbered_with_the_outer_commit_only(
    sessions: sessionmaker[Session],
) -> None:
    """Releasing a SAVEPOINT must not take numbers (nor the counter lock) early."""
    with sessions() as s, s.begin():
        mark_changed(s, "order", 1)
        with s.begin_nested():
            mark_changed(s, "order", 2)
        assert s.scalars(select(ChangeRow.seq)).all() == []  # nothing numbered yet
        with s.begin_nested():
            mark_changed(s, "order", 3)
    with sessions() as s:
        rows = s.execute(select(ChangeRow.seq, ChangeRow.entity_id).order_by(ChangeRow.seq)).all()
    assert rows == [(1, 1), (2, 2), (3, 3)]


def test_rolled_back_savepoint_forgets_only_its_own_marks(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s, s.begin():
        mark_changed(s, "order", 1)
        with s.begin_nested():
            mark_changed(s, "order", 2)
        try:
            with s.begin_nested():
                mark_changed(s, "order", 1)  # marked before: must survive the rollback
                mark_changed(s, "order", 9)
                raise RuntimeError("rejected")
        except RuntimeError:
            pass
        mark_changed(s, "order", 4)
    with sessions() as s:
        ids = s.scalars(select(ChangeRow.entity_id).order_by(ChangeRow.seq)).all()
    assert ids == [1, 2, 4]
