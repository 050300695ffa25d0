"""Benchmark: drain 10,000 queued mutations after reconnect (budget <= 10 s), and record p99.

The real service (uvicorn subprocess, SQLite by default or --db URL) with one claimed
order; the station records N scan events while "offline" (no engine running), then one
engine cycle pushes them all. Also reports the latency of `Replica.record()` for one event
(the "green means saved" path; p99 should stay well under 10 ms).

    python bench/sync_drain.py [--mutations 10000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring
from sqlalchemy.orm import sessionmaker

from service.db import make_engine
from service.schema import create_all
from sync.client import StationClient, enroll
from sync.engine import SyncEngine
from sync.replica import Replica
from tests.integration.sync.service_runner import (
    ServiceProcess,
    enroll_code,
    make_orders,
    station_mutations,
)
from tests.support.keyrings import MemoryKeyring
from tests.support.pg_schema import schema_url, scratch_schema

BUDGET_S = 10.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@contextmanager
def service_database(given: str | None, tmp: Path) -> Iterator[str]:
    """A temporary SQLite file, or a fresh schema (dropped afterwards) in the PostgreSQL
    database `given`: the bench never writes into a database's own tables."""
    if not given or not given.startswith("postgresql"):
        yield given or f"sqlite:///{tmp / 'service.sqlite3'}"
        return
    with scratch_schema(given, "bench") as schema:
        yield schema_url(given, schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--db", default=None, help="service database URL (default: temp SQLite)")
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    with tempfile.TemporaryDirectory() as d, service_database(args.db, Path(d)) as url:
        tmp = Path(d)
        engine = make_engine(url)
        create_all(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        service = ServiceProcess(url).start()
        try:
            enrolled = enroll(service.url, enroll_code(sessions, f"bench-drain-{time.time_ns()}"))
            [order_id] = make_orders(sessions, 1)
            with Replica.open(tmp / "station.sqlite3") as replica:
                client = StationClient(service.url, token=enrolled.token)
                sync = SyncEngine(replica, client, enrolled.station_id, checksum_interval=3600)
                epoch = sync.claim_order(order_id).leases[0].epoch
                assert sync.run_once()
                scan = ("scan_recorded", order_id, epoch, {"code": "SKU0", "outcome": "accepted"})
                record_ms = []
                for _ in range(1000):
                    t0 = time.perf_counter()
                    replica.record([scan])
                    record_ms.append((time.perf_counter() - t0) * 1000)
                remaining = args.mutations - 1000
                for start in range(0, remaining, 500):
                    replica.record([scan] * min(500, remaining - start))
                queued = replica.queue_depth()
                t0 = time.perf_counter()
                cycles = 0
                # As the engine thread would: cycles until drained (a failed push backs off),
                # capped at 6x the budget.
                while replica.queue_depth() and time.perf_counter() - t0 < BUDGET_S * 6:
                    cycles += 1
                    if not sync.run_once():
                        time.sleep(sync.backoff.next_delay())
                ok = replica.queue_depth() == 0
                elapsed = time.perf_counter() - t0
                left = replica.queue_depth()
                client.close()
            stored = len(station_mutations(engine, enrolled.station_id))
        finally:
            service.stop()
            engine.dispose()
    print(
        json.dumps(
            {
                "bench": "sync_drain",
                "database": "postgresql" if (args.db or "").startswith("postgresql") else "sqlite",
                "queued": queued,
                "cycles": cycles,
                "seconds": round(elapsed, 3),
                "mutations_per_s": round(queued / elapsed),
                "ok": ok and left == 0 and stored == queued,
                "within_budget": elapsed <= BUDGET_S,
                "budget_s": BUDGET_S,
                "record_ms": {
                    "p50": round(percentile(record_ms, 0.5), 3),
                    "p99": round(percentile(record_ms, 0.99), 3),
                    "max": round(max(record_ms), 3),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
