"""The real service process: upgrade, seed and token through the CLI, then HTTP (both DBs)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from service.models import Base
from tests.support.service_process import ServiceProcess, child_env, run_cli


def test_cli_prepares_a_database_and_the_served_api_lists_its_orders(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = service_db
    Base.metadata.drop_all(engine)  # start from nothing: the CLI builds the schema
    env = child_env(tmp_path / "keyring.json")

    refused = run_cli("serve", "--db", url, "--port", "0", env=env)
    assert refused.returncode == 1 and "db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr

    for args in (["db", "upgrade"], ["seed-demo"]):
        done = run_cli(*args, "--db", url, env=env)
        assert done.returncode == 0, done.stderr
    token_run = run_cli(
        "token", "create", "--role", "operator", "--name", "e2e", "--db", url, env=env
    )
    assert token_run.returncode == 0, token_run.stderr
    token = token_run.stdout.strip()
    assert token and "shown only this once" in token_run.stderr

    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.get(f"{service.base_url}/v1/orders", params={"limit": 5}, headers=auth)
        assert r.status_code == 200
        page = r.json()
        assert page["total"] == 200 and len(page["items"]) == 5
        assert all(o["number"].startswith("ORD-1") for o in page["items"])
        assert httpx.get(f"{service.base_url}/v1/orders").status_code == 401
        assert httpx.get(f"{service.base_url}/openapi.json").status_code == 200
    # uvicorn drains, logs its shutdown, then re-raises SIGTERM (conventional exit status).
    assert service.proc is not None and service.proc.returncode in (0, -signal.SIGTERM)
    assert "Finished server process" in service.log()
    assert "Traceback" not in service.log()
    # An operator whose PostgreSQL runs without autovacuum is told so at start (the orders'
    # statistics would go stale as they accumulate); SQLite has nothing to say.
    autovacuum_off = False
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            autovacuum_off = conn.scalar(text("SHOW autovacuum")) == "off"
    assert ("autovacuum is off on this database server" in service.log()) == autovacuum_off
