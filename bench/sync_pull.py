"""Benchmark: pull-apply 10,000 orders into an empty station replica (budget <= 5 s).

Two figures, one JSON object:
- `recorded`: pre-built PullResponses (pages of 500 orders, 3 lines each) applied with
  `Replica.apply_pull`, isolating the station side (validation + SQLite writes).
- `service_sqlite`: the real service (uvicorn subprocess, SQLite) with N orders in a batch
  assigned to the station; an empty replica's first sync (snapshot pull over HTTP + apply).

    python bench/sync_pull.py [--orders 10000] [--skip-service]
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
        "ok": ok,
        "orders": count,
        "within_budget": elapsed <= BUDGET_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--skip-service", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result: dict[str, object] = {
            "bench": "sync_pull",
            "orders": args.orders,
            "budget_s": BUDGET_S,
            "recorded": recorded(args.orders, tmp),
        }
        if not args.skip_service:
            result["service_sqlite"] = against_service(args.orders, tmp)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
