"""A PostgreSQL restart (every backend terminated) costs no request: the pool notices the
closed connections at checkout without a round trip (no pool_pre_ping) and connects anew."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.api.app import create_app
from service.api.deps import DbSession
from service.db import make_engine
from tests.conftest import pg_url


@pytest.fixture
def base_url() -> str:
    url = pg_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (PACKBENCH_TEST_PG_URL unset)")
    return url


def _pids(engine: Engine, n: int) -> set[int]:
    """Open n pooled connections at once and give back their backend pids."""
    conns = [engine.connect() for _ in range(n)]
    try:
        return {int(c.scalar(text("SELECT pg_backend_pid()"))) for c in conns}
    finally:
        for c in conns:
            c.close()


def _terminate(base_url: str, pids: set[int]) -> None:
    """What a restart does to each backend: FATAL notice, socket closed."""
    admin = make_engine(base_url, pool_size=1, max_overflow=0)
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    admin.dispose()
    time.sleep(0.3)  # the backends' exit and the closed sockets reach us


@pytest.mark.pg
def test_terminated_pooled_connections_are_replaced_at_checkout(base_url: str) -> None:
    engine = make_engine(base_url, pool_size=3, max_overflow=0)
    assert not engine.pool._pre_ping  # no round trip per checkout
    old = _pids(engine, 3)
    _terminate(base_url, old)
    # Every pooled connection is dead; each checkout must still get a working one.
    new = _pids(engine, 3)
    assert not new & old
    engine.dispose()


@pytest.mark.pg
def test_requests_after_a_database_restart_succeed(base_url: str) -> None:
    engine = make_engine(base_url, pool_size=2, max_overflow=0)
    app = create_app(engine)

    def ping(session: DbSession) -> dict[str, int]:
        return {"pid": int(session.scalar(text("SELECT pg_backend_pid()")))}

    app.add_api_route("/test/ping", ping, methods=["GET"])
    with TestClient(app) as client:
        first = client.get("/test/ping")
        assert first.status_code == 200
        _terminate(base_url, _pids(engine, 2))
        for _ in range(4):
            r = client.get("/test/ping")
            assert r.status_code == 200, r.text
    engine.dispose()
