"""The real `packbench-service serve` against slow and piling-up clients (both databases):
half-sent headers are cut off, and /healthz answers while every worker thread is stuck."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service.limits import HEADER_TIMEOUT_ENV
from service.models import Base
from service.sync_server.enrollment import issue_enroll_code
from tests.support.service_process import ServiceProcess, child_env, run_cli


@pytest.fixture
def served(service_db: tuple[str, Engine], tmp_path: Path) -> Iterator[ServiceProcess]:
    url, engine = service_db
    Base.metadata.drop_all(engine)
    env = child_env(tmp_path / "keyring.json")
    env[HEADER_TIMEOUT_ENV] = "1"
    done = run_cli("db", "upgrade", "--db", url, env=env)
    assert done.returncode == 0, done.stderr
    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        yield service


def _closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closed `sock` (reading nothing), or fail after `limit`."""
    started = time.monotonic()
    sock.settimeout(limit)
    assert sock.recv(1024) == b""  # EOF: closed without an answer
    return time.monotonic() - started


def test_a_connection_that_never_finishes_its_headers_is_closed(served: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as half:
        half.sendall(b"GET /healthz HT")
        assert 0.5 < _closed_after(half, 5.0) < 3.0
    with socket.create_connection(("127.0.0.1", served.port)) as silent:
        assert _closed_after(silent, 5.0) < 3.0
    # A kept-alive connection gets the same clock for its next request's headers.
    with socket.create_connection(("127.0.0.1", served.port)) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        kept.settimeout(5)
        answer = b""
        while not answer.endswith(b'{"status":"ok"}'):
            answer += kept.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        assert _closed_after(kept, 5.0) < 3.0
    # Whole requests are served as before.
    assert httpx.get(f"{served.base_url}/healthz").status_code == 200


def test_healthz_answers_while_every_worker_thread_waits_on_the_database(
    served: ServiceProcess, service_db: tuple[str, Engine]
) -> None:
    _url, engine = service_db
    with Session(engine) as s, s.begin():
        _station, code = issue_enroll_code(s, "bench-1")
    enrolled = httpx.post(f"{served.base_url}/v1/stations/enroll", json={"code": code}).json()
    auth = {"Authorization": f"Bearer {enrolled['token']}"}
    push = {"station_id": enrolled["station_id"], "mutations": []}
    answers: list[int] = []
    with engine.connect() as blocker:
        # Hold what every push needs: SQLite's write lock (the engine begins IMMEDIATE) / the
        # station's row on PostgreSQL.
        blocker.begin()
        blocker.execute(
            text(
                "SELECT id FROM stations FOR UPDATE"
                if engine.dialect.name == "postgresql"
                else "SELECT 1"
            )
        )

        def one_push() -> None:
            try:
                url = f"{served.base_url}/v1/sync/push"
                r = httpx.post(url, json=push, headers=auth, timeout=30)
                answers.append(r.status_code)
            except httpx.TransportError:
                answers.append(0)

        pushers = [threading.Thread(target=one_push) for _ in range(60)]  # > 40 worker threads
        for t in pushers:
            t.start()
        time.sleep(1.0)  # let them all reach the server and take its threads
        started = time.monotonic()
        r = httpx.get(f"{served.base_url}/healthz", timeout=5)
        waited = time.monotonic() - started
        assert r.status_code == 200 and waited < 1.0, waited
        assert not answers  # the pushes were all still waiting
        blocker.rollback()
    for t in pushers:
        t.join(60)
    assert len(answers) == 60 and set(answers) <= {200, 503}
