"""Benchmark: pull-apply 10,000 orders into an empty station replica (budget <= 5 s).

Two figures, one JSON object:
- `recorded`: pre-built PullResponses (pages of 500 orders, 3 lines each) applied with
  `Replica.apply_pull`, isolating the station side (validation + SQLite writes).
- `service_sqlite`: the real service (uvicorn subprocess, SQLite) with N orders in a batch
  assigned to the station; an empty replica's first sync (paged snapshot over HTTP + apply),
  with `first_page_s`: when the first page (users, batches, leased orders) was applied, i.e.
  when the station could start packing.

The bare limit runs in the same run, before and between ours: the same N order documents
written into a fresh SQLite file in one durable transaction (bench/_compare.py). `compare`
and `compare_service` give ours, that limit, the ratio and the load.

    python bench/sync_pull.py [--orders 10000] [--skip-service] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _compare import Comparison, sqlite_bulk_insert_s

from sync.protocol import Change, PullResponse
from sync.replica import Replica

BUDGET_S = 5.0


def order_doc(i: int) -> dict[str, object]:
    return {
        "id": i,
        "number": f"ORD-{100000 + i}",
        "channel": "shop",
        "channel_order_id": f"C{i}",
        "status": "allocated",
        "carrier": "dhl",
        "service": "parcel",
        "country": "DE",
        "ship_to": {
            "name": "Ada Lovelace",
            "street1": "Hauptstraße 1",
            "postcode": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        "batch_id": 1,
        "tote": f"T-{i:06d}",
        "lines": [
            {
                "line_id": i * 10 + n,
                "line_no": n,
                "sku": f"SKU{n}",
                "name": f"Item {n}",
                "quantity": 1,
                "product_id": n,
            }
            for n in range(1, 4)
        ],
        "lease": {
            "order_id": i,
            "station_id": 1,
            "station_name": "bench",
            "epoch": 1,
            "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        },
        "version": 2,
    }


def recorded(n: int, tmp: Path) -> dict[str, object]:
    pages = []
    for start in range(1, n + 1, 500):
        ids = range(start, min(start + 500, n + 1))
        pages.append(
            PullResponse(
                cursor=ids[-1],
                changes=[
                    Change(seq=i, entity="order", entity_id=i, data=order_doc(i)) for i in ids
                ],
                more=ids[-1] < n,
                last_mutation_id=0,
            )
        )
    with Replica.open(tmp / "recorded.sqlite3") as replica:
        t0 = time.perf_counter()
        for page in pages:
            replica.apply_pull(page)
        elapsed = time.perf_counter() - t0
        assert replica.order_count() == n
    return {"seconds": round(elapsed, 3), "pages": len(pages), "within_budget": elapsed <= BUDGET_S}


def against_service(n: int, tmp: Path) -> dict[str, object]:
    import keyring
    from sqlalchemy.orm import sessionmaker

    from service.db import make_engine
    from service.schema import create_all
    from sync.client import StationClient, enroll
    from sync.engine import SyncEngine
    from tests.integration.sync.service_runner import (
        ServiceProcess,
        enroll_code,
        make_batch,
        make_orders,
    )
    from tests.support.keyrings import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    url = f"sqlite:///{tmp / 'service.sqlite3'}"
    engine = make_engine(url)
    create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    service = ServiceProcess(url).start()
    try:
        enrolled = enroll(service.url, enroll_code(sessions, "bench-pull"))
        batch = make_batch(sessions, enrolled.station_id, "PULL")
        for _ in range(0, n, 2000):
            make_orders(sessions, min(2000, n), lines=3, batch_id=batch)
        with Replica.open(tmp / "station.sqlite3") as replica:
            client = StationClient(service.url, token=enrolled.token)
            sync = SyncEngine(replica, client, enrolled.station_id, checksum_interval=3600)
            sync._last_heartbeat = time.monotonic()  # time the pull, not a heartbeat
            first_page: list[float] = []
            apply_page = replica.apply_snapshot_page

            def timed_page(page: PullResponse) -> int:
                held = apply_page(page)
                if not first_page:
                    first_page.append(time.perf_counter() - t0)
                return held

            apply_whole = replica.apply_snapshot

            def timed_whole(pages: list[PullResponse]) -> int:  # a one-page snapshot
                held = apply_whole(pages)
                if not first_page:
                    first_page.append(time.perf_counter() - t0)
                return held

            replica.apply_snapshot_page = timed_page  # type: ignore[method-assign]
            replica.apply_snapshot = timed_whole  # type: ignore[method-assign,assignment]
            t0 = time.perf_counter()
            ok = sync.run_once()
            elapsed = time.perf_counter() - t0
            count = replica.order_count()
            client.close()
    finally:
        service.stop()
        engine.dispose()
    return {
        "seconds": round(elapsed, 3),
        "first_page_s": round(first_page[0], 3) if first_page else None,
        "ok": ok,
        "orders": count,
        "within_budget": elapsed <= BUDGET_S,
    }


def bare_limit(n: int, tmp: Path, run: int) -> float:
    """Seconds to write the same n order documents in one durable SQLite transaction."""
    docs = [json.dumps(order_doc(i), default=str) for i in range(1, n + 1)]
    return sqlite_bulk_insert_s(tmp / f"bare-{run}.sqlite3", docs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1,000 orders")
    args = parser.parse_args()
    if args.quick:
        args.orders = 1000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        comparison = Comparison("pull-apply seconds (recorded pages)", lower_is_better=True)
        limits = [bare_limit(args.orders, tmp, 0)]
        result: dict[str, object] = {
            "bench": "sync_pull",
            "orders": args.orders,
            "budget_s": BUDGET_S,
            "recorded": recorded(args.orders, tmp),
        }
        limits.append(bare_limit(args.orders, tmp, 1))
        limit = min(limits)
        result["bare_bulk_insert_s"] = [round(x, 3) for x in limits]
        result["compare"] = comparison.result(result["recorded"]["seconds"], limit)  # type: ignore[index]
        if not args.skip_service:
            on_service = Comparison("pull seconds (service, SQLite)", lower_is_better=True)
            served = against_service(args.orders, tmp)
            limits.append(bare_limit(args.orders, tmp, 2))
            result["service_sqlite"] = served
            result["compare_service"] = on_service.result(
                float(served["seconds"]),  # type: ignore[arg-type]
                min(limits[-2:]),
            )
        result["busy"] = any(
            block["busy"]  # type: ignore[index]
            for key, block in result.items()
            if key.startswith("compare")
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
