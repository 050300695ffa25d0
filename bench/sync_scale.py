"""Benchmark: the sync service's per-station work at a million orders on PostgreSQL.

Loads a fresh PostgreSQL schema inside PostgreSQL (INSERT ... SELECT generate_series, no
ORM loops): N orders (default 1,000,000) and N change-feed rows spread over the last
N seconds, 200 stations, and one site station whose batch holds `--open` open orders
(default 50,000, one line each). Then, through the full app (in-process client, station
token):

- `checksum`: GET /v1/sync/checksum for the site station and for an idle one (p50/p99);
- `snapshot`: a new station's paged snapshot (GET /v1/sync/pull?page=first, then each
  `next_page`): time to the first page (when it can start packing: users, batches and the
  first orders) and to the last, and the pages' count; plus the same station's checksum;
- `prune`: `prune_changes_before` of the older half of the feed: the time to find where to
  cut, and the delete's rate (rows/s), with the rows that remain.

Prints one JSON object with the load average before and after.

    python bench/sync_scale.py                  # 1,000,000 orders, 50,000 open
    python bench/sync_scale.py --quick          # 100,000 orders, 5,000 open

PostgreSQL URL: PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _compare import load_average, pg_url  # noqa: E402
from console_search import FILL  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from service.api.app import create_app  # noqa: E402
from service.db import make_engine, make_sessionmaker, utcnow  # noqa: E402
from service.schema import create_all  # noqa: E402
from service.security import token_hash  # noqa: E402
from service.sync_server.pull import prune_changes_before  # noqa: E402
from tests.support.pg_schema import schema_url, scratch_schema  # noqa: E402

STATIONS = 200
SITE, IDLE = 1, 2  # a new station at the site (its batch holds the open orders); an idle one
BUDGET_CHECKSUM_P99_MS = 150.0
BUDGET_FIRST_PAGE_S = 2.0
PROTOCOL = {"X-Packbench-Protocol": "3"}

STATIONS_SQL = """
INSERT INTO stations (id, name, token_hash, last_mutation_id, heartbeat, created_at)
SELECT g, 'station-' || g, CASE WHEN g <= 2 THEN 'tok-' || g END, 0, '{}', now()
FROM generate_series(1, :stations) AS g
"""
BATCHES_SQL = """
INSERT INTO batches (id, code, name, status, carrier, service, priority, station_id, rule,
  created_by, created_at)
SELECT g, 'B-' || g, 'batch ' || g, 'assigned', '', '', 0, g, '{}', '', now()
FROM generate_series(1, :stations) AS g
"""
OPEN_SQL = """
UPDATE orders SET status = 'allocated', batch_id = 1 WHERE id BETWEEN :first AND :last
"""
LINES_SQL = """
INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price, tax, discount,
  channel_line_id)
SELECT g, 1, 'SKU-' || (g % 5000), 'Item ' || (g % 5000), 1 + g % 3, 9.90, 0, 0, ''
FROM generate_series(:first, :last) AS g
"""
CHANGES_SQL = """
INSERT INTO changes (seq, entity, entity_id, station_id, at)
SELECT g, 'order', g, NULL, now() - ((:n - g) || ' seconds')::interval
FROM generate_series(1, :n) AS g
"""


def load(engine: Engine, n: int, open_orders: int) -> float:
    """The site in PostgreSQL; returns the seconds it took."""
    started = time.perf_counter()
    first, last = n - open_orders + 1, n  # the newest orders are the open ones
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))  # a bulk load, not a request
        conn.execute(
            text(
                "INSERT INTO channels (id, kind, name, settings, created_at) "
                "VALUES (1, 'shopify', 'shop', '{}', now())"
            )
        )
        conn.execute(text(FILL), {"n": n})
        conn.execute(text("SELECT setval('orders_id_seq', :n)"), {"n": n})
        conn.execute(text(STATIONS_SQL), {"stations": STATIONS})
        conn.execute(text(BATCHES_SQL), {"stations": STATIONS})
        conn.execute(text(OPEN_SQL), {"first": first, "last": last})
        conn.execute(text(LINES_SQL), {"first": first, "last": last})
        conn.execute(text(CHANGES_SQL), {"n": n})
        conn.execute(text("UPDATE change_counter SET value = :n WHERE id = 1"), {"n": n})
        for sid in (SITE, IDLE):
            conn.execute(
                text("UPDATE stations SET token_hash = :h WHERE id = :id"),
                {"h": token_hash(f"tok-{sid}"), "id": sid},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET statement_timeout = 0"))  # a bulk load, not a request
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def checksums(client: TestClient, station: int, rounds: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer tok-{station}", **PROTOCOL}
    times, body = [], {}
    for i in range(rounds + 2):
        t0 = time.perf_counter()
        r = client.get("/v1/sync/checksum", headers=headers)
        took = time.perf_counter() - t0
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        if i >= 2:
            times.append(took)
    return {**_ms(times), "orders": body["order_count"]}


def snapshot(client: TestClient, station: int, limit: int) -> dict[str, Any]:
    """A new station's paged snapshot over HTTP (JSON decoded, not applied)."""
    headers = {"Authorization": f"Bearer tok-{station}", **PROTOCOL}
    page: str | None = "first"
    pages = orders = 0
    t0 = time.perf_counter()
    first_s = 0.0
    first_orders = 0
    while page is not None:
        r = client.get(
            "/v1/sync/pull", params={"cursor": 0, "page": page, "limit": limit}, headers=headers
        )
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        pages += 1
        got = sum(1 for c in body["changes"] if c["entity"] == "order" and c["data"])
        orders += got
        if pages == 1:
            first_s, first_orders = time.perf_counter() - t0, got
        page = body.get("next_page")
    return {
        "first_page_s": round(first_s, 3),
        "first_page_orders": first_orders,
        "all_pages_s": round(time.perf_counter() - t0, 2),
        "pages": pages,
        "orders": orders,
        "limit": limit,
    }


def prune(engine: Engine, n: int) -> dict[str, Any]:
    """Prune the older half of the feed by age; time the cut's lookup and the delete."""
    maker = make_sessionmaker(engine)
    before = utcnow() - timedelta(seconds=n // 2)
    with maker() as s, s.begin():
        t0 = time.perf_counter()
        deleted = prune_changes_before(s, before)
        took = time.perf_counter() - t0
    with maker() as s:
        left = s.scalar(text("SELECT count(*) FROM changes"))
        explain = "\n".join(
            s.scalars(
                text(
                    "EXPLAIN SELECT seq FROM changes WHERE seq IS NOT NULL AND at >= :b "
                    "ORDER BY seq LIMIT 1"
                ),
                {"b": before},
            )
        )
    with maker() as s, s.begin():  # nothing older left: the lookup alone, as a nightly job
        t1 = time.perf_counter()
        again = prune_changes_before(s, before)
        lookup = time.perf_counter() - t1
    return {
        "deleted": deleted,
        "seconds": round(took, 2),
        "rows_per_s": round(deleted / took) if took else None,
        "remaining": left,
        "nothing_to_prune_ms": round(lookup * 1000, 1),
        "second_run_deleted": again,
        "plan": explain,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=50_000, help="open orders at the station")
    parser.add_argument("--limit", type=int, default=2000, help="orders per snapshot page")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="100,000 orders, 5,000 open")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.open, args.rounds = 100_000, 5_000, 5
    base = pg_url()
    load_before = load_average()
    with scratch_schema(base, "bench_scale") as schema:
        engine = make_engine(schema_url(base, schema))
        create_all(engine)
        load_s = load(engine, args.orders, args.open)
        with TestClient(create_app(engine)) as client:
            site = checksums(client, SITE, args.rounds)
            idle = checksums(client, IDLE, args.rounds)
            pulled = snapshot(client, SITE, args.limit)
        pruned = prune(engine, args.orders)
        engine.dispose()
    load_after = load_average()
    worst = max(site["p99_ms"], idle["p99_ms"])
    ok = (
        worst <= BUDGET_CHECKSUM_P99_MS
        and pulled["first_page_s"] <= BUDGET_FIRST_PAGE_S
        and pulled["orders"] == args.open == site["orders"]
        and pruned["second_run_deleted"] == 0
    )
    cores = len(os.sched_getaffinity(0))
    out = {
        "bench": "sync_scale",
        "orders": args.orders,
        "stations": STATIONS,
        "open_at_station": args.open,
        "load_s": round(load_s, 1),
        "checksum_site": site,
        "checksum_idle": idle,
        "budget_checksum_p99_ms": BUDGET_CHECKSUM_P99_MS,
        "snapshot": pulled,
        "budget_first_page_s": BUDGET_FIRST_PAGE_S,
        "prune": pruned,
        "load_before": load_before,
        "load_after": load_after,
        "cores": cores,
        "busy": any(load and load[0] > cores for load in (load_before, load_after)),
        "ok": ok,
    }
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
