"""The sync engine against the fake service: drains, retries, gaps, snapshots, status."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from sync.engine import SyncEngine
from sync.errors import ClaimRefusedError
from sync.replica import Replica
from sync.status import Backoff, Rejection, SyncStatus
from tests.unit.sync.conftest import scan
from tests.unit.sync.fake_service import FakeSyncService, order_data


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def statuses() -> list[SyncStatus]:
    return []


@pytest.fixture
def engine(replica: Replica, client, statuses: list[SyncStatus]) -> Iterator[SyncEngine]:
    e = SyncEngine(
        replica,
        client,
        station_id=1,
        on_status=statuses.append,
        poll_interval=60.0,
        checksum_interval=0.0,
        backoff=Backoff(base=0.05, cap=0.2),
    )
    yield e
    e.stop()


def claim_and_scan(
    engine: SyncEngine, fake: FakeSyncService, n: int, order_id: int = 1
) -> list[int]:
    fake.put("order", order_id, order_data(order_id))
    lease = engine.claim_order(order_id).leases[0]
    return engine.replica.record([scan(order_id, lease.epoch) for _ in range(n)])


def test_one_failed_upload_then_no_new_scans_still_drains(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    fake.faults[:] = ["connect", "503", "timeout"]  # first three requests fail
    fake.put("order", 1, order_data(1))
    fake.lease_epochs[1] = 1
    engine.start()
    ids = replica.record([scan(1, 1)])
    # No further record(): only the backoff timer can bring the queue to zero.
    wait_for(lambda: engine.status.online and engine.status.queue_depth == 0)
    assert replica.queue_depth() == 0
    assert [m.id for m in fake.applied] == ids


def test_offline_status_and_recovery(
    engine: SyncEngine, fake: FakeSyncService, statuses: list[SyncStatus]
) -> None:
    fake.faults[:] = ["connect"] * 3
    engine.start()
    wait_for(lambda: engine.status.online)
    offline = [s for s in statuses if not s.online and s.offline_since]
    assert offline, "an offline status was reported"
    assert len({s.offline_since for s in offline}) == 1  # offline_since is when it started
    assert engine.status.offline_since is None and engine.status.last_successful_sync


def test_response_dropped_after_commit_is_applied_once(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    ids = claim_and_scan(engine, fake, 3)
    fake.faults[:] = [None, "drop_response"]  # seed counter (me) ok, push commits then drops
    engine.start()
    wait_for(lambda: replica.queue_depth() == 0)
    assert [m.id for m in fake.applied] == ids
    assert [e.status for e in replica.local_events(1)] == ["applied"] * 3


def test_push_batches_are_at_most_500(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    claim_and_scan(engine, fake, 1201)
    assert engine.run_once()
    assert replica.queue_depth() == 0
    assert fake.requests.count("POST /v1/sync/push") == 3


def test_rejections_are_kept_and_reported(replica: Replica, client, fake: FakeSyncService) -> None:
    got: list[list[Rejection]] = []
    engine = SyncEngine(replica, client, 1, on_rejection=got.append, checksum_interval=0)
    claim_and_scan(engine, fake, 2)
    fake.steal(1)  # another station claimed it meanwhile: our epoch is stale
    assert engine.run_once()
    assert [r.reason for r in got[0]] == ["claimed_by_other"] * 2
    assert engine.status.last_rejection.order_id == 1
    assert fake.applied == []
    events = replica.local_events(1)
    assert {e.status for e in events} == {"rejected"} and "bench-2" in events[0].message


def test_gap_where_service_already_has_our_first_ids(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    replica.seed_mutation_counter(0)
    claim_and_scan(engine, fake, 5)
    fake.last_mutation_id = 3  # it applied 1..3 and lost their results (restored / wiped)
    fake.results.clear()
    # The fake answers ids <= last from the counter, so force the gap path directly:
    engine._handle_gap(4, 1)
    assert [m.id for m in replica.pending_outbox()] == [4, 5]
    assert [e.status for e in replica.local_events(1)][:3] == ["acknowledged"] * 3
    assert engine.run_once()
    assert [m.id for m in fake.applied] == [4, 5]


def test_gap_where_service_lost_acknowledged_mutations(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    ids = claim_and_scan(engine, fake, 4)
    assert engine.run_once()
    # The service is restored from a backup taken after mutation 2.
    fake.last_mutation_id = 2
    fake.applied = fake.applied[:2]
    more = replica.record([scan(1, 1)])
    assert engine.run_once()
    assert [m.id for m in fake.applied] == [*ids, *more]


def test_new_station_file_seeds_its_counter_from_the_service(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    fake.last_mutation_id = 100  # the station existed before this file (reinstall)
    fake.put("order", 1, order_data(1))
    fake.lease_epochs[1] = 1
    replica.record([scan(1, 1)])
    assert engine.run_once()
    assert [m.id for m in fake.applied] == [101]


def test_expired_cursor_fetches_a_snapshot(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    fake.put("order", 1, order_data(1))
    fake.put("order", 2, order_data(2))
    assert engine.run_once()
    fake.put("order", 1, None)
    fake.put("order", 3, order_data(3))
    fake.oldest_cursor = fake.head()  # older changes pruned
    assert engine.run_once()
    assert replica.order_by_id(1) is None and replica.order_by_id(3) is not None
    assert replica.pull_cursor() == fake.head()


def test_pull_pages_while_more(engine: SyncEngine, fake: FakeSyncService, replica: Replica) -> None:
    engine.pull_limit = 10
    fake.put("order", 1, order_data(1))
    assert engine.run_once()  # the first pull is a snapshot
    for i in range(2, 26):
        fake.put("order", i, order_data(i))
    assert engine.run_once()
    assert replica.order_count() == 25
    assert fake.requests.count("GET /v1/sync/pull") >= 4


def test_checksum_mismatch_triggers_snapshot(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica, caplog
) -> None:
    fake.put("order", 1, order_data(1))
    assert engine.run_once()
    # Drift: the service changed an order without a feed entry reaching us.
    fake.entities[("order", 1)] = order_data(1, version=5)
    assert engine.run_once()
    assert replica.order_by_id(1).version == 5
    assert "holdings differ" in caplog.text


def test_heartbeat_reports_queue_depth(engine: SyncEngine, fake: FakeSyncService) -> None:
    assert engine.run_once()
    assert fake.heartbeats and fake.heartbeats[0]["queue_depth"] == 0


def test_claim_refused_is_typed(engine: SyncEngine, fake: FakeSyncService) -> None:
    fake.put("order", 1, order_data(1))
    fake.steal(1)
    with pytest.raises(ClaimRefusedError, match="bench-2"):
        engine.claim_order(1)


def test_new_record_wakes_the_engine_immediately(
    replica: Replica, client, fake: FakeSyncService
) -> None:
    engine = SyncEngine(replica, client, 1, poll_interval=3600, checksum_interval=3600)
    fake.put("order", 1, order_data(1))
    fake.lease_epochs[1] = 1
    engine.start()
    try:
        wait_for(lambda: engine.status.online)
        t0 = time.monotonic()
        replica.record([scan(1, 1)])
        wait_for(lambda: replica.queue_depth() == 0, timeout=5)
        assert time.monotonic() - t0 < 2  # not the hour-long poll
    finally:
        engine.stop()


def test_stop_joins(engine: SyncEngine) -> None:
    engine.start()
    engine.stop(timeout=5)
    assert not any(t.name == "packbench-sync" and t.is_alive() for t in threading.enumerate())


def test_backoff_grows_with_jitter_and_resets() -> None:
    b = Backoff(base=1, cap=8)
    delays = [b.next_delay() for _ in range(6)]
    assert 0.5 <= delays[0] <= 1 and all(4 <= d <= 8 for d in delays[3:])
    b.reset()
    assert b.next_delay() <= 1


@contextmanager
def running_with_claim(
    replica: Replica, client, fake: FakeSyncService, pull_spacing: float
) -> Iterator[int]:
    """An engine thread (60 s poll) that holds order 1 and has pulled it; yields the epoch."""
    engine = SyncEngine(
        replica,
        client,
        station_id=1,
        poll_interval=60.0,
        pull_spacing=pull_spacing,
        checksum_interval=60,
    )
    fake.put("order", 1, order_data(1))
    epoch = engine.claim_order(1).leases[0].epoch
    assert engine.run_once()  # initial pull (and the claimed order)
    engine.start()
    try:
        yield epoch
    finally:
        engine.stop()


def test_scans_push_at_once_and_their_pulls_are_spaced(
    replica: Replica, client, fake: FakeSyncService
) -> None:
    """A busy station pushes every scan immediately but pulls at most every pull_spacing;
    the pull it put off still happens (here: the shop's change to another order arrives)."""
    with running_with_claim(replica, client, fake, pull_spacing=0.5) as epoch:
        fake.requests.clear()
        for _ in range(5):
            replica.record([scan(1, epoch)])
            wait_for(lambda: replica.queue_depth() == 0)
        pushes_then = fake.requests.count("POST /v1/sync/push")
        pulls_then = fake.requests.count("GET /v1/sync/pull")
        assert pushes_then == 5  # every scan went up on its own, at once
        assert pulls_then <= 1  # not one pull per scan
        fake.put("order", 2, order_data(2))  # changed elsewhere meanwhile
        wait_for(lambda: replica.order_by_id(2) is not None, timeout=5)  # the owed pull


def test_a_rejected_push_pulls_at_once(replica: Replica, client, fake: FakeSyncService) -> None:
    with running_with_claim(replica, client, fake, pull_spacing=60.0) as epoch:
        fake.steal(1)  # another station claims it: our next scan is refused
        fake.requests.clear()
        replica.record([scan(1, epoch)])
        wait_for(lambda: "GET /v1/sync/pull" in fake.requests)  # despite the 60 s spacing
        assert fake.requests.index("POST /v1/sync/push") < fake.requests.index("GET /v1/sync/pull")


def test_a_closed_parcel_pulls_at_once_for_its_label(
    replica: Replica, client, fake: FakeSyncService
) -> None:
    with running_with_claim(replica, client, fake, pull_spacing=60.0) as epoch:
        fake.requests.clear()
        replica.record([scan(1, epoch)])
        wait_for(lambda: replica.queue_depth() == 0)
        assert "GET /v1/sync/pull" not in fake.requests  # a scan's pull waits (60 s here)
        parcel = {"box_no": 1, "box_type": "M", "weight_grams": 900, "items": []}
        replica.record([("parcel_closed", 1, epoch, parcel)])
        wait_for(lambda: "GET /v1/sync/pull" in fake.requests)  # a new label may be waiting


def test_flush_at_shutdown_pushes_what_is_queued(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    ids = claim_and_scan(engine, fake, 3)  # recorded; the engine thread is not running
    assert replica.queue_depth() == 3
    assert engine.flush() == 0
    assert replica.queue_depth() == 0
    assert [m.id for m in fake.applied] == ids
    engine.start()
    with pytest.raises(RuntimeError, match="stop the sync engine"):
        engine.flush()


def test_flush_with_the_service_away_keeps_the_outbox(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    claim_and_scan(engine, fake, 2)
    fake.faults[:] = ["connect"]
    assert engine.flush() == 2  # logged, not raised: the scans wait for the next start
    assert replica.queue_depth() == 2
    assert fake.applied == []


def test_a_service_without_pages_still_gives_a_new_station_its_snapshot(
    engine: SyncEngine, fake: FakeSyncService, replica: Replica
) -> None:
    """The fake predates paged snapshots: it ignores `page` and answers everything at once,
    without `next_page`; the station applies that as the whole snapshot."""
    fake.put("order", 1, order_data(1))
    fake.put("order", 2, order_data(2))
    assert engine.run_once()
    assert replica.order_count() == 2
    assert replica.pull_cursor() == fake.head()
