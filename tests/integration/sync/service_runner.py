"""The real service as a subprocess on a loopback port, plus seeding through its Python API.

Used by the station-side sync integration tests, the chaos test and the benchmarks. The
service runs under uvicorn on `service.api.app:serving_app(url)`; SIGKILL and restart are
how tests simulate a crashed server. With workers > 1 it runs as `packbench-service serve
--workers N` does (the benchmarks measure the production set-up).
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from sync.protocol import Mutation
from tests.support import factories, service_process
from tests.support.service_process import ROOT

_SERVE = (
    "import sys, uvicorn; from service.api.app import serving_app; "
    "uvicorn.run(serving_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), "
    "log_level='warning', access_log=False)"
)
# As `packbench-service serve --workers N`: each worker builds the app from PACKBENCH_DB_URL.
_SERVE_WORKERS = (
    "import sys, uvicorn; from service.api.http_protocol import HTTP_PROTOCOL; "
    "uvicorn.run('service.api.app:serving_app', factory=True, host='127.0.0.1', "
    "port=int(sys.argv[2]), workers=int(sys.argv[3]), http=HTTP_PROTOCOL, "
    "log_level='warning', access_log=False)"
)


class ServiceProcess(service_process.ServiceProcess):
    """`python -c uvicorn.run(serving_app(db_url))` on 127.0.0.1:<port>.

    Not `packbench-service serve`: uvicorn logs warnings only and no access log, so the
    benchmarks and the chaos run do not pay for logging. Starting, waiting for /healthz and
    stopping are tests.support.service_process's.
    """

    log_mode = "ab"  # restart() keeps what the killed run wrote

    def __init__(
        self,
        db_url: str,
        port: int | None = None,
        log_path: Path | None = None,
        workers: int = 1,
    ) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PACKBENCH_DB_URL": db_url}
        super().__init__(db_url, env, log_path or Path(os.devnull), port)
        self.workers = workers

    @property
    def url(self) -> str:
        return self.base_url

    def command(self) -> list[str]:
        code = _SERVE if self.workers == 1 else _SERVE_WORKERS
        return [sys.executable, "-c", code, self.db_url, str(self.port), str(self.workers)]

    def kill(self) -> None:
        """SIGKILL: a crash, no graceful shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()


# ---------------------------------------------------------------------------- seeding

_numbers = itertools.count(700001)


def enroll_code(sessions: sessionmaker[Session], name: str) -> str:
    """A one-time enrolment code for station `name` (created if missing)."""
    from service.sync_server.enrollment import issue_enroll_code

    with sessions() as s, s.begin():
        _station, code = issue_enroll_code(s, name)
    return code


def make_orders(
    sessions: sessionmaker[Session], count: int, *, lines: int = 2, batch_id: int | None = None
) -> list[int]:
    """`count` allocated orders with `lines` lines each (SKUs SKU0.. as products)."""
    from service.models import Product

    with sessions() as s, s.begin():
        for i in range(lines):
            if s.scalar(select(Product.id).where(Product.sku == f"SKU{i}")) is None:
                s.add(Product(sku=f"SKU{i}", name=f"Item {i}", weight_grams=100))
        ids = []
        for _ in range(count):
            n = next(_numbers)
            order = factories.sync_order(
                s, n, status="allocated", batch_id=batch_id, lines=lines, tote=f"T-{n}"
            )
            ids.append(order.id)
    return ids


def scan(mutation_id: int, order_id: int, epoch: int) -> Mutation:
    """One accepted scan of SKU0 under the lease, as a station pushes it."""
    return Mutation(
        id=mutation_id,
        type="scan_recorded",
        order_id=order_id,
        lease_epoch=epoch,
        at=datetime.now(UTC),
        payload={"code": "SKU0", "outcome": "accepted"},
    )


def make_batch(sessions: sessionmaker[Session], station_id: int | None, code: str) -> int:
    from service.models import Batch

    with sessions() as s, s.begin():
        b = Batch(code=code, name=code, station_id=station_id, rule={})
        s.add(b)
        s.flush()
        return b.id


def station_mutations(engine: Engine, station_id: int) -> dict[int, tuple[str, str | None]]:
    """mutation id -> (status, reason) of every mutation the service stored for a station."""
    from service.models import StationMutation

    with Session(engine) as s:
        rows = s.execute(
            select(
                StationMutation.mutation_id, StationMutation.status, StationMutation.reason
            ).where(StationMutation.station_id == station_id)
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}
