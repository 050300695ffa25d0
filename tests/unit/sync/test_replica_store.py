"""The replica file: one writer, durable outbox, acks, migrations, corruption handling."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sync.errors import ReplicaCorrupt, ReplicaLocked, ReplicaTooNew
from sync.protocol import MutationResult
from sync.replica import Replica
from sync.replica.migrations import CURRENT_VERSION
from tests.unit.sync.conftest import scan


def test_second_instance_is_refused_naming_the_pid(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Replica.open(path), pytest.raises(ReplicaLocked, match=rf"process {os.getpid()}"):
        Replica.open(path)
    Replica.open(path).close()  # released on close


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    code = (
        "import sys,time; from sync.replica import Replica; r=Replica.open(sys.argv[1]);"
        "print('ready', flush=True); time.sleep(30)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(ReplicaLocked) as info:
            Replica.open(path)
        assert info.value.pid == proc.pid
        proc.kill()  # SIGKILL: the OS releases the lock, nothing stale remains
        proc.wait()
        Replica.open(path).close()
    finally:
        proc.kill()
        proc.wait()


def test_pragmas_wal_and_synchronous_full(replica: Replica) -> None:
    with replica._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_record_assigns_gap_free_ids_that_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        assert r.record([scan(), scan()]) == [1, 2]
        assert r.record([scan()]) == [3]
    with Replica.open(path) as r:
        assert [m.id for m in r.pending_outbox(10)] == [1, 2, 3]
        assert r.record([scan()]) == [4]
        assert r.queue_depth() == 4


def test_record_is_one_transaction_and_refuses_bad_payloads(replica: Replica) -> None:
    with pytest.raises(ValueError, match="invalid scan_recorded"):
        replica.record([scan(), ("scan_recorded", 1, 1, {"code": "x"})])
    with pytest.raises(ValueError, match="unknown mutation type"):
        replica.record([("teleported", 1, 1, {})])
    assert replica.queue_depth() == 0
    assert replica.record([scan()]) == [1]


def test_record_notifies_listeners(replica: Replica) -> None:
    seen: list[list[int]] = []
    replica.add_listener(seen.append)
    replica.record([scan(), scan()])
    assert seen == [[1, 2]]


def test_record_is_one_durable_transaction(replica: Replica) -> None:
    """Green means saved: record() commits its events in one transaction on a connection in
    WAL mode with synchronous=FULL, so the COMMIT has reached the disk when it returns. (How
    long that takes is measured by bench/scan_latency.py, not here.)"""
    replica.record([scan()])
    conn = replica._recorder()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        ids = replica.record([scan(), scan()])
    finally:
        conn.set_trace_callback(None)
    verbs = [s.split()[0].upper() for s in statements]
    assert verbs[0] == "BEGIN" and verbs[-1] == "COMMIT", statements
    assert verbs.count("BEGIN") == 1 and verbs.count("COMMIT") == 1, statements
    # Committed, not just written: another connection to the file sees both events.
    with sqlite3.connect(replica.path) as other:
        stored = [row[0] for row in other.execute("SELECT id FROM outbox ORDER BY id")]
    assert stored[-2:] == ids


def test_ack_deletes_only_up_to_the_acknowledged_id(replica: Replica) -> None:
    replica.record([scan(), scan(), scan()])
    results = [
        MutationResult(id=1, status="applied"),
        MutationResult(id=2, status="rejected", reason="claimed_by_other", message="bench-2"),
    ]
    assert replica.ack(2, results) == 2
    assert [m.id for m in replica.pending_outbox()] == [3]
    events = replica.local_events(1)
    assert [(e.id, e.status) for e in events] == [(1, "applied"), (2, "rejected"), (3, "pending")]
    assert events[1].reason == "claimed_by_other" and events[1].message == "bench-2"


def test_ack_without_results_marks_acknowledged(replica: Replica) -> None:
    replica.record([scan(), scan()])
    replica.ack(1)
    assert [e.status for e in replica.local_events(1)] == ["acknowledged", "pending"]


def test_local_events_restore_a_pack_session(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        r.record([scan(5, code="A"), scan(6, code="B"), scan(5, code="C")])
        r.ack(1, [MutationResult(id=1, status="applied")])
    with Replica.open(path) as r:
        assert [e.payload["code"] for e in r.local_events(5)] == ["A", "C"]


def test_requeue_puts_acknowledged_mutations_back(replica: Replica) -> None:
    replica.record([scan(), scan(), scan()])
    replica.ack(3, [MutationResult(id=i, status="applied") for i in (1, 2, 3)])
    assert replica.requeue_from(2) == 2
    assert [m.id for m in replica.pending_outbox()] == [2, 3]


def test_seed_counter_renumbers_unsent_mutations(replica: Replica) -> None:
    assert replica.needs_counter_seed()
    replica.record([scan(), scan()])
    replica.seed_mutation_counter(40)
    assert not replica.needs_counter_seed()
    assert [m.id for m in replica.pending_outbox()] == [41, 42]
    assert replica.record([scan()]) == [43]


def test_station_state_round_trip(replica: Replica) -> None:
    replica.set_state("packer", {"id": 3})
    assert replica.get_state("packer") == {"id": 3}
    assert replica.get_state("missing", 7) == 7


def test_garbage_file_is_corrupt_and_quarantine_moves_it(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(ReplicaCorrupt, match="quarantine_and_reset"):
        Replica.open(path)
    moved = Replica.quarantine_and_reset(path)
    assert moved.exists() and not path.exists()
    assert ".corrupt-" in moved.name
    with Replica.open(path) as r:
        assert r.queue_depth() == 0 and r.needs_counter_seed()


def test_damaged_pages_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        r.record([scan() for _ in range(2000)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 3, len(data) - 4096, 4096 * 2):
        data[offset + 100 : offset + 400] = b"\xff" * 300  # trash b-tree pages, keep the header
    path.write_bytes(bytes(data))
    with pytest.raises(ReplicaCorrupt):
        Replica.open(path)


def test_migration_backs_up_and_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.replica import migrations

    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        r.record([scan()])

    def to_v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE outbox ADD COLUMN note TEXT")

    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, to_v2])
    monkeypatch.setattr(migrations, "CURRENT_VERSION", CURRENT_VERSION + 1)
    monkeypatch.setattr("sync.replica.store.migrate", migrations.migrate)
    with Replica.open(path) as r:
        assert r.queue_depth() == 1
    backups = list(tmp_path.glob(f"s.sqlite3.v{CURRENT_VERSION}-*.bak"))
    assert len(backups) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION + 1
    conn.close()


def test_failed_migration_step_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.replica import migrations

    path = tmp_path / "s.sqlite3"
    Replica.open(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, broken])
    monkeypatch.setattr(migrations, "CURRENT_VERSION", CURRENT_VERSION + 1)
    with pytest.raises(RuntimeError):
        Replica.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    conn.close()


def test_file_from_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    Replica.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 5}")
    conn.close()
    with pytest.raises(ReplicaTooNew):
        Replica.open(path)


def test_migrated_schema_matches_table_definitions(replica: Replica) -> None:
    from sync.replica.tables import metadata

    with replica._engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")]
            assert cols == [c.name for c in table.columns], table.name


def test_full_check_only_after_an_unclean_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean close skips the (slow) quick_check next time; a crash or a changed file does not."""
    import sync.replica.store as store

    path = tmp_path / "s.sqlite3"
    checks: list[str] = []
    real_connect = sqlite3.connect

    class Spy:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if "quick_check" in sql:
                checks.append(sql)
            return self.conn.execute(sql, *args)

        def close(self) -> None:
            self.conn.close()

    monkeypatch.setattr(store.sqlite3, "connect", lambda *a, **k: Spy(real_connect(*a, **k)))
    Replica.open(path).close()
    assert len(checks) == 1  # a new file is checked
    Replica.open(path).close()
    assert len(checks) == 1  # clean close, unchanged file: skipped
    crashed = Replica.open(path)  # no close(): like kill -9
    crashed._lock.release()
    crashed._engine.dispose()
    Replica.open(path).close()
    assert len(checks) == 2


def test_a_replica_from_protocol_3_pulls_a_snapshot_for_the_users_languages(
    tmp_path: Path,
) -> None:
    """Users synced before protocol 4 have no language: the cursor goes back to 0 once, so
    the next pull brings every user again; unsent events stay."""
    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        r.record([scan()])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE counters SET value = 42 WHERE name = 'pull_cursor'")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Replica.open(path) as r:
        assert r.pull_cursor() == 0 and r.queue_depth() == 1
