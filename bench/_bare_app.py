"""The bare limit for the service's request paths: FastAPI + one INSERT + COMMIT.

One route, `POST /bare`: parse the JSON body, insert it as one row, commit, answer
`{"status": "created"}`, through the same engine factory (driver, pool) and the same uvicorn
set-up (`--workers`, HTTP protocol) as the real service. Whatever the real ingest or push
path costs above this is ours to explain.

    python bench/_bare_app.py --serve URL --port P [--workers 2]   (run by the benches)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from service.db import make_engine  # noqa: E402

SCHEMA_ENV = "PACKBENCH_BENCH_PG_SCHEMA"
TABLE = "bare_rows"


def _engine(url: str, schema: str | None) -> Any:
    args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    return make_engine(url, **args)


def prepare(url: str, schema: str | None = None) -> None:
    """Create the one table the bare app writes to."""
    engine = _engine(url, schema)
    key = "BIGSERIAL PRIMARY KEY" if engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, body TEXT NOT NULL)"))
    engine.dispose()


def app_factory() -> Any:
    """The app for one uvicorn worker."""
    from fastapi import Body, FastAPI

    engine = _engine(os.environ["PACKBENCH_DB_URL"], os.environ.get(SCHEMA_ENV))
    app = FastAPI()
    insert = text(f"INSERT INTO {TABLE} (body) VALUES (:body)")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare")
    def bare(payload: dict[str, Any] = Body(...)) -> dict[str, str]:  # noqa: B008
        with engine.begin() as conn:
            conn.execute(insert, {"body": json.dumps(payload)})
        return {"status": "created"}

    return app


def start(url: str, port: int, workers: int, schema: str | None = None) -> subprocess.Popen[bytes]:
    """Start the bare app in a subprocess (wait for /healthz yourself)."""
    env = dict(os.environ, PACKBENCH_DB_URL=url, PYTHONPATH=str(ROOT))
    if schema:
        env[SCHEMA_ENV] = schema
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", url, "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--serve", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    import uvicorn

    from service.api.http_protocol import HTTP_PROTOCOL

    os.environ["PACKBENCH_DB_URL"] = args.serve
    uvicorn.run(
        "bench._bare_app:app_factory",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        http=HTTP_PROTOCOL,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
