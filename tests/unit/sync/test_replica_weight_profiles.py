"""Learned weight profiles in the replica: applied from pulls, found by contents key, kept
across a restart, and brought in by a snapshot after the replica is upgraded to hold them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sync.contents import contents_key
from sync.protocol import Change, PullResponse
from sync.replica import Replica, migrations

KEY = contents_key([("MUG-1", 2)], "M")


def profile(pid: int = 5, key: str = KEY, parcels: int = 12) -> dict[str, Any]:
    return {
        "id": pid,
        "contents_key": key,
        "box_type": "M",
        "parcels": parcels,
        "mean_grams": 940.5,
        "stdev_grams": 8.25,
    }


def pull(cursor: int, *changes: tuple[int, dict[str, Any] | None]) -> PullResponse:
    return PullResponse(
        cursor=cursor,
        changes=[
            Change(seq=cursor, entity="weight_profile", entity_id=eid, data=data)
            for eid, data in changes
        ],
        more=False,
        last_mutation_id=0,
    )


def test_a_pulled_profile_is_found_by_its_contents_and_kept_across_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    with Replica.open(path) as r:
        r.apply_pull(pull(3, (5, profile())))
        found = r.weight_profile(KEY)
        assert found is not None and (found.parcels, found.mean_grams) == (12, 940.5)
        assert r.weight_profile(contents_key([("MUG-1", 1)], "M")) is None
    with Replica.open(path) as r:
        again = r.weight_profile(KEY)
        assert again is not None and again.stdev_grams == 8.25


def test_a_newer_profile_replaces_the_old_and_a_tombstone_removes_it(tmp_path: Path) -> None:
    with Replica.open(tmp_path / "s.sqlite3") as r:
        r.apply_pull(pull(3, (5, profile(parcels=3))))
        r.apply_pull(pull(4, (5, profile(parcels=4))))
        found = r.weight_profile(KEY)
        assert found is not None and found.parcels == 4
        # the same contents under a new id (the service re-created it) gives way too
        r.apply_pull(pull(5, (6, profile(pid=6, parcels=7))))
        found = r.weight_profile(KEY)
        assert found is not None and (found.id, found.parcels) == (6, 7)
        r.apply_pull(pull(6, (6, None)))
        assert r.weight_profile(KEY) is None


def test_upgrading_a_replica_keeps_its_queue_and_asks_for_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrations.STEPS[0](conn)  # a station database as version 1 left it
    conn.execute("PRAGMA user_version = 1")
    conn.execute("UPDATE counters SET value = 42 WHERE name = 'pull_cursor'")
    conn.execute(
        "INSERT INTO outbox (id, type, order_id, lease_epoch, at, payload) "
        "VALUES (1, 'scan_recorded', 1, 3, '2026-11-29T12:00:00+00:00', '{}')"
    )
    conn.execute("COMMIT")
    conn.close()
    with Replica.open(path) as r:
        assert r.pull_cursor() == 0  # the next pull is a snapshot: it brings the profiles
        assert r.queue_depth() == 1
        assert r.weight_profile(KEY) is None
    assert list(tmp_path.glob("s.sqlite3.v1-*.bak"))
