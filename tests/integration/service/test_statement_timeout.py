"""PostgreSQL connections carry a statement timeout (PACKBENCH_STATEMENT_TIMEOUT_MS): a runaway
statement is cancelled, and the API answers 503 instead of holding a worker and its locks."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.api.app import create_app
from service.api.deps import DbSession
from service.db import make_engine
from service.limits import STATEMENT_TIMEOUT_ENV
from tests.conftest import pg_url
from tests.support.pg_schema import schema_url, scratch_schema


@pytest.fixture
def base_url() -> str:
    url = pg_url()
    if url is None:
        pytest.skip("PostgreSQL not configured (PACKBENCH_TEST_PG_URL unset)")
    return url


@pytest.mark.pg
def test_every_connection_has_the_configured_statement_timeout(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(base_url, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        assert conn.scalar(text("SHOW statement_timeout")) == "30s"  # the default
    engine.dispose()
    monkeypatch.setenv(STATEMENT_TIMEOUT_ENV, "200")
    with scratch_schema(base_url, "t") as schema:
        # A URL's own options (here a search_path) are kept alongside it.
        engine = make_engine(schema_url(base_url, schema), pool_size=1, max_overflow=0)
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW statement_timeout")) == "200ms"
            assert conn.scalar(text("SHOW search_path")) == schema
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(2)"))
        engine.dispose()


@pytest.mark.pg
def test_a_cancelled_statement_is_a_503_for_the_client(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STATEMENT_TIMEOUT_ENV, "200")
    engine = make_engine(base_url, pool_size=1, max_overflow=0)
    app = create_app(engine)

    def slow(session: DbSession) -> None:
        session.execute(text("SELECT pg_sleep(2)"))

    app.add_api_route("/test/slow", slow, methods=["GET"])
    with TestClient(app) as client:
        r = client.get("/test/slow")
    engine.dispose()
    assert r.status_code == 503 and r.json()["error"] == "busy"
