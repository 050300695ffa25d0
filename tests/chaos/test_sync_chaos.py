"""Chaos: a station process SIGKILLed at random while the network fails at random.

At the end the service holds every mutation the station ever saved, exactly once. CI mode:
>= 50 kills over ~2500 mutations (well under two minutes); PACKBENCH_CHAOS_LONG=1: 1000
kills over ~30000.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import make_engine
from service.models import OrderEvent, Station, StationMutation
from service.schema import create_all
from sync.client import StationClient, enroll
from sync.protocol import ClaimRequest
from sync.replica import Replica
from sync.replica import tables as t
from tests.integration.sync.service_runner import (
    ROOT,
    ServiceProcess,
    enroll_code,
    make_batch,
    make_orders,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.keyrings import FileKeyring

pytestmark = pytest.mark.slow

LONG = os.environ.get("PACKBENCH_CHAOS_LONG") == "1"
KILLS = int(os.environ.get("PACKBENCH_CHAOS_KILLS", 1000 if LONG else 50))
TARGET = 30_000 if LONG else 2_500
FAULTS = ["drop_request", "drop_response", "reset", "http_503", "http_502", "delay"]


class Zygote:
    """The station script in --zygote mode: forks a pre-imported station per life."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.station_script", "--zygote"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def spawn(self, args: list[str], out: Path, err: Path) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"args": args, "out": str(out), "err": str(err)}) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def wait_line(path: Path, word: str, timeout: float) -> bool:
    """Whether `word` appears as a line of `path` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and f"\n{word}\n" in "\n" + path.read_text():
            return True
        time.sleep(0.01)
    return False


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Until process `pid` no longer exists (the zygote reaps its children)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise AssertionError(f"station process {pid} did not die")


def saved_ids(out: Path) -> list[int]:
    return [int(x.split()[1]) for x in out.read_text().splitlines() if x.startswith("saved ")]


def test_station_killed_and_cut_off_loses_nothing_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(int(os.environ.get("PACKBENCH_CHAOS_SEED", "1")))
    monkeypatch.setenv("PACKBENCH_LEASE_MINUTES", "600")  # leases outlive the long mode
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(url)
    create_all(engine)
    service = ServiceProcess(url, log_path=tmp_path / "service.log").start()
    keyfile = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.FileKeyring",
        "PACKBENCH_TEST_KEYRING_FILE": str(keyfile),
    }
    monkeypatch.setenv("PACKBENCH_TEST_KEYRING_FILE", str(keyfile))
    keyring.set_keyring(FileKeyring())  # the fixture restores the memory keyring afterwards
    try:
        with FaultProxy(service.port, delay=0.3) as proxy:
            sessions = sessionmaker(engine, expire_on_commit=False)
            enrolled = enroll(proxy.url, enroll_code(sessions, "chaos-1"))
            batch = make_batch(sessions, enrolled.station_id, "CHAOS")
            orders = make_orders(sessions, 40, lines=1, batch_id=batch)
            # Claim the whole batch up front (30-minute leases; the token from the keyring).
            client = StationClient(proxy.url)
            assert len(client.claim(ClaimRequest(batch_id=batch)).leases) == len(orders)
            client.close()

            db = tmp_path / "station.sqlite3"
            db_arg = str(db)
            saved: list[int] = []
            kills = 0
            started = time.monotonic()
            zygote = Zygote(env)
            err = tmp_path / "station.err"
            while kills < KILLS:
                if rng.random() < 0.4:
                    proxy.fail_next(rng.choice(FAULTS), rng.randint(1, 6))
                else:
                    proxy.mode = "pass"
                out = tmp_path / f"life-{kills}.out"
                # Each life may record up to its share of TARGET, then lingers until killed,
                # so a fast machine cannot finish the work before the last kill.
                quota = TARGET * (kills + 1) // KILLS
                life = [db_arg, proxy.url, str(enrolled.station_id), str(quota), str(kills)]
                pid = zygote.spawn([*life, "linger"], out, err)
                assert wait_line(out, "ready", 60), "station did not start"
                time.sleep(rng.uniform(0.0, 0.2))
                if rng.random() < 0.2:
                    proxy.cut_all()
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pytest.fail(f"station life {kills} ended by itself:\n{err.read_text()[-3000:]}")
                wait_gone(pid)  # its station lock is free only once it has fully exited
                saved.extend(saved_ids(out))
                kills += 1
                if kills % 10 == 0:
                    took = time.monotonic() - started
                    print(f"chaos: {kills} kills, {len(saved)} saved, {took:.0f} s")
            proxy.mode = "pass"
            out = tmp_path / "final.out"
            zygote.spawn(
                [db_arg, proxy.url, str(enrolled.station_id), str(TARGET), "999999"], out, err
            )
            assert wait_line(out, "done", 120), "the station did not drain after the chaos"
            saved.extend(saved_ids(out))
            zygote.close()
            elapsed = time.monotonic() - started
    finally:
        service.stop()

    with Replica.open(db) as replica:
        with replica._engine.connect() as conn:
            log = dict(conn.execute(select(t.mutation_log.c.id, t.mutation_log.c.order_id)).all())
            statuses = Counter(conn.scalars(select(t.mutation_log.c.status)))
        assert replica.queue_depth() == 0
    last = max(log)
    assert sorted(log) == list(range(1, last + 1)), "station ids are gap-free"
    assert set(saved) <= set(log), "everything shown green is in the station's log"
    assert statuses.keys() == {"applied"}, statuses

    with Session(engine) as s:
        stored = dict(
            s.execute(
                select(StationMutation.mutation_id, StationMutation.status).where(
                    StationMutation.station_id == enrolled.station_id
                )
            ).all()
        )
        station_last = s.scalar(
            select(Station.last_mutation_id).where(Station.id == enrolled.station_id)
        )
        events = Counter(
            s.scalars(select(OrderEvent.order_id).where(OrderEvent.type == "scan_recorded"))
        )
    engine.dispose()
    assert set(stored) == set(log) and station_last == last
    assert set(stored.values()) == {"applied"}
    assert events == Counter(log.values()), "every scan applied exactly once per order"
    print(f"chaos: {kills} kills, {last} mutations, {len(saved)} green, {elapsed:.1f} s")
