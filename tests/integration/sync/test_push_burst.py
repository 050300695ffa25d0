"""A burst of pushes and pulls against a real `packbench-service serve`.

The service works on PACKBENCH_SYNC_THREADS pushes and pulls at once; the rest wait on its
event loop, holding neither a thread nor a database connection (snapshots have as many
slots of their own). Seen from outside: every
push of the burst is answered and applied exactly once, and on PostgreSQL the service holds
no more database connections than it works on requests at once (before, a burst of 24 took
24 threads and opened a connection for each, a new PostgreSQL server process each beyond
the pool's 20).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service import limits
from service.models import OrderEvent
from sync.client import StationClient, enroll
from sync.protocol import ClaimRequest, PushRequest
from tests.integration.sync.service_runner import (
    enroll_code,
    make_orders,
    scan,
    station_mutations,
)
from tests.support.service_process import ServiceProcess, child_env

STATIONS = 24
PUSHES_EACH = 3
THREADS = 2


def _postgres_connections(pid: int) -> int:
    """TCP connections the process `pid` holds to port 5432, read from /proc."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            sockets.add(target[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == 5432 and fields[3] == "01" and fields[9] in sockets:  # ESTABLISHED
                count += 1
    return count


def test_a_burst_of_pushes_is_applied_once_each_without_a_connection_per_request(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, engine = service_db
    env = {**child_env(tmp_path / "keyring.json", url), limits.SYNC_THREADS_ENV: str(THREADS)}
    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        assert service.proc is not None
        orders = make_orders(sessions, STATIONS, lines=1)
        stations = []
        for i, order_id in enumerate(orders):
            enrolled = enroll(service.base_url, enroll_code(sessions, f"Burst {i}"))
            client = StationClient(service.base_url, token=enrolled.token)
            lease = client.claim(ClaimRequest(order_id=order_id)).leases[0]
            stations.append((client, enrolled.station_id, order_id, lease.epoch))
        if engine.dialect.name == "postgresql":
            before = _postgres_connections(service.proc.pid)

        start = threading.Barrier(STATIONS)
        answers: dict[int, list[str]] = {}
        failures: list[str] = []

        def station(client: StationClient, station_id: int, order_id: int, epoch: int) -> None:
            start.wait(30)
            try:
                cursor = client.pull(0).cursor  # the snapshot a station starts from
                for n in range(1, PUSHES_EACH + 1):
                    m = scan(n, order_id, epoch)
                    pushed = client.push(PushRequest(station_id=station_id, mutations=[m]))
                    answers.setdefault(station_id, []).extend(r.status for r in pushed.results)
                    cursor = client.pull(cursor).cursor  # between pushes, as the engine does
            except Exception as exc:  # reported below, with the service's log
                failures.append(f"station {station_id}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=station, args=s) for s in stations]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for client, *_ in stations:
            client.close()
        assert not failures, (failures[:3], service.log()[-3000:])
        assert all(answers[sid] == ["applied"] * PUSHES_EACH for _, sid, _, _ in stations)
        if engine.dialect.name == "postgresql":
            # The pool keeps what it opened: what the process holds now is how many requests
            # it worked on at once (plus what it held before the burst): THREADS pushes and
            # pulls, and THREADS snapshots beside them.
            held = _postgres_connections(service.proc.pid)
            assert held <= before + 2 * THREADS, (before, held)

    for _client, station_id, _order, _epoch in stations:
        stored = station_mutations(engine, station_id)
        assert sorted(stored) == list(range(1, PUSHES_EACH + 1))
        assert {status for status, _reason in stored.values()} == {"applied"}
    with Session(engine) as s:
        scans = s.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.type == "scan_recorded")
        )
    assert scans == STATIONS * PUSHES_EACH


@pytest.mark.parametrize(("raw", "threads"), [("", 4), ("6", 6), ("0", 4), ("many", 4)])
def test_the_sync_limit_reads_its_setting(
    monkeypatch: pytest.MonkeyPatch, raw: str, threads: int
) -> None:
    monkeypatch.setenv(limits.SYNC_THREADS_ENV, raw)
    assert limits.sync_threads() == threads
