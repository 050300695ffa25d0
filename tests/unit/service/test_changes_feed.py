"""Change rows are written unnumbered at commit and numbered later, in runs.

What must hold: numbers are gap-free, a run numbers only committed rows, and a row that
commits late is numbered above everything a reader may already have seen.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed, number_changes
from service.models import ChangeCounter, ChangeRow


def _numbered(sessions: sessionmaker[Session]) -> list[tuple[int, str, int]]:
    with sessions() as s:
        rows = s.execute(
            select(ChangeRow.seq, ChangeRow.entity, ChangeRow.entity_id)
            .where(ChangeRow.seq.is_not(None))
            .order_by(ChangeRow.seq)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _number(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return number_changes(s)


def test_commits_write_rows_that_a_run_numbers_in_order(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        mark_changed(s, "order", 1)
        mark_changed(s, "order", 2)
        mark_changed(s, "order", 1)  # the same entity twice in one transaction: one row
    with sessions() as s, s.begin():
        mark_changed(s, "product", 7)
    assert _numbered(sessions) == []  # written, not numbered yet
    assert _number(sessions) == 3
    assert _numbered(sessions) == [(1, "order", 1), (2, "order", 2), (3, "product", 7)]
    assert _number(sessions) == 0  # nothing left: no new numbers
    with sessions() as s, s.begin():
        mark_changed(s, "order", 5)
    assert _number(sessions) == 1
    assert _numbered(sessions)[-1] == (4, "order", 5)
    with sessions() as s:
        assert s.scalar(select(ChangeCounter.value)) == 4


def test_rolled_back_transaction_writes_no_row(sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as s, s.begin():
            mark_changed(s, "order", 1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with sessions() as s, s.begin():
        mark_changed(s, "order", 2)
    _number(sessions)
    assert _numbered(sessions) == [(1, "order", 2)]


def test_savepoint_marks_are_written_with_the_outer_commit_only(
    sessions: sessionmaker[Session],
) -> None:
    """Releasing a SAVEPOINT (which fires before_commit) must not write rows early."""
    with sessions() as s, s.begin():
        mark_changed(s, "order", 1)
        with s.begin_nested():
            mark_changed(s, "order", 2)
        assert s.scalars(select(ChangeRow.id)).all() == []
        with s.begin_nested():
            mark_changed(s, "order", 3)
    _number(sessions)
    assert [r[2] for r in _numbered(sessions)] == [1, 2, 3]


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
    _number(sessions)
    assert [r[2] for r in _numbered(sessions)] == [1, 2, 4]


def test_a_late_commit_is_numbered_above_what_readers_saw(
    service_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The failure a plain sequence has: T1 starts first, commits last, must not hide."""
    if service_engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: no transaction can commit late")
    late = sessions()
    late.begin()
    # The row is in the table but not committed (as between a writer's insert and commit).
    late.execute(insert(ChangeRow).values(entity="order", entity_id=100))
    with sessions() as s, s.begin():
        mark_changed(s, "order", 200)
    _number(sessions)
    seen = _numbered(sessions)
    assert seen == [(1, "order", 200)]
    cursor = seen[-1][0]
    late.commit()  # its row becomes visible only now, after a reader moved to 1
    late.close()
    _number(sessions)
    assert [r for r in _numbered(sessions) if r[0] > cursor] == [(2, "order", 100)]


def test_concurrent_writers_and_numbering_runs_leave_no_gaps(
    sessions: sessionmaker[Session],
) -> None:
    """Every reader snapshot sees a gap-free prefix of change numbers."""
    stop = threading.Event()
    seen_gaps: list[list[int]] = []
    errors: list[BaseException] = []

    def writer(base: int) -> None:
        try:
            for i in range(40):
                with sessions() as s, s.begin():
                    mark_changed(s, "order", base + i)
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)

    def numberer() -> None:
        try:
            while not stop.is_set():
                _number(sessions)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        while not stop.is_set():
            seqs = [r[0] for r in _numbered(sessions)]
            if seqs and seqs != list(range(1, len(seqs) + 1)):
                seen_gaps.append(seqs)

    writers = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(4)]
    others = [threading.Thread(target=numberer) for _ in range(2)]
    others.append(threading.Thread(target=reader))
    for t in [*writers, *others]:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in others:
        t.join()
    assert errors == []
    assert seen_gaps == []
    _number(sessions)
    numbered = _numbered(sessions)
    assert [r[0] for r in numbered] == list(range(1, 161))
    assert sorted(r[2] for r in numbered) == sorted(
        k * 1000 + i for k in range(4) for i in range(40)
    )
