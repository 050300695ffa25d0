"""The change feed under concurrent writers, followed through several service processes.

Three `packbench-service serve` processes share one database; three writer processes commit
orders into a station's batch, and one transaction takes its change row early and commits
it late (the order a plain sequence would hide behind a cursor that already moved past it).
A station follows the feed in small pages, asking each process in turn, so numbering runs
happen in all three processes while writers commit. Every order must arrive exactly once,
in increasing change numbers, the late one included.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed
from service.models import ChangeRow
from sync.client import StationClient, enroll
from tests.integration.sync.service_runner import enroll_code, make_batch, make_orders
from tests.support import factories
from tests.support.service_process import ROOT, ServiceProcess, child_env

WRITERS = 3
PER_WRITER = 60


def test_station_following_the_feed_through_three_processes_misses_and_repeats_nothing(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, engine = service_db
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: no transaction can commit late")
    env = child_env(tmp_path / "keyring.json", url)
    services = [ServiceProcess(url, env, tmp_path / f"service{i}.log").start() for i in range(3)]
    writers: list[subprocess.Popen[str]] = []
    try:
        enrolled = enroll(services[0].base_url, enroll_code(sessions, "Follower"))
        clients = [StationClient(s.base_url, token=enrolled.token) for s in services]
        batch = make_batch(sessions, enrolled.station_id, "FEED")
        with sessions() as s, s.begin():
            for oid in make_orders(sessions, 5, lines=1, batch_id=batch):
                mark_changed(s, "order", oid)
        # Join with a (paged) snapshot; from its head on, everything comes from the feed.
        page = clients[0].pull(0, 100, page="first")
        while page.next_page is not None:
            page = clients[0].pull(0, 100, page=page.next_page)
        cursor = page.cursor
        assert cursor > 0

        # The late writer: its change row is inserted (an id taken) before any other writer
        # starts, and committed only after the follower has moved past several numbers.
        late = sessions()
        late.begin()
        late_order = factories.sync_order(late, 990001, status="allocated", batch_id=batch, lines=1)
        late.execute(insert(ChangeRow).values(entity="order", entity_id=late_order.id))
        late_id = late_order.id

        writers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.order_writer",
                    url,
                    str(batch),
                    str(PER_WRITER),
                    "0",
                    str(k + 1),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for k in range(WRITERS)
        ]
        delivered: list[tuple[int, int]] = []  # (seq, order id) in the order received
        cursors = [cursor]
        done = threading.Event()
        errors: list[BaseException] = []

        def follow() -> None:
            nonlocal cursor
            turn, quiet = 0, 0
            try:
                while quiet < 3:
                    finished = done.is_set()
                    answer = clients[turn % len(clients)].pull(cursor, 7)
                    turn += 1
                    delivered.extend(
                        (c.seq, c.entity_id) for c in answer.changes if c.entity == "order"
                    )
                    cursor = answer.cursor
                    cursors.append(cursor)
                    quiet = quiet + 1 if finished and not answer.changes else 0
                    if not answer.more:
                        time.sleep(0.005)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        follower = threading.Thread(target=follow)
        follower.start()
        outputs = []
        moved_past = cursors[0]
        for w in writers:
            out, err = w.communicate(timeout=180)
            assert w.returncode == 0, err
            outputs.append(out)
            if moved_past == cursors[0]:
                # Let the follower pass some of the writers' numbers before the late commit.
                deadline = time.monotonic() + 30
                while cursors[-1] < cursors[0] + 10 and time.monotonic() < deadline:
                    time.sleep(0.01)
                moved_past = cursors[-1]
                late.commit()
                late.close()
        done.set()
        follower.join(120)
        assert not follower.is_alive()
        assert errors == []
        assert moved_past > cursors[0], "the follower never moved before the late commit"

        created = [int(x) for out in outputs for x in out.split()]
        assert len(created) == WRITERS * PER_WRITER
        expected = sorted([*created, late_id])
        got = sorted(oid for _seq, oid in delivered)
        assert got == expected  # every order once: none skipped, none twice
        seqs = [seq for seq, _oid in delivered]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert seqs[0] > cursors[0]
        assert cursors == sorted(cursors)
        with sessions() as s:  # the late row really was taken first and committed last
            row_ids = dict(s.execute(select(ChangeRow.entity_id, ChangeRow.id)).tuples().all())
        assert row_ids[late_id] < min(row_ids[oid] for oid in created)
        late_seq = next(seq for seq, oid in delivered if oid == late_id)
        assert late_seq > moved_past  # numbered above what the follower had already seen
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
        for s in services:
            s.stop()
