"""Fill a station replica with N synthetic orders and products, quickly (shared by benches).

The bulk rows (background orders and products) go straight into the replica's own tables
through its own engine, in one transaction, with the exact row shape `sync.replica.apply`
writes (`number_key`, `tote_key`, lease columns, the wire document in `data`); a sample of
each document is checked against `sync.protocol` first, so the fill cannot drift from the
schema silently. The few rows a bench drives (the user, the 100-line bench order, its
products, a batch) go through the replica's own `apply_pull`, i.e. the same code a pull
from the service runs.

100,000 orders take a few seconds this way; `Replica.apply_snapshot` of the same documents
(pydantic-validating every order) is the realistic but much slower route and is what
`fill(..., via_snapshot=True)` uses (meant for small N).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.protocol import Change, OrderSnapshot, ProductSnapshot, PullResponse
from sync.replica import Replica

STATION_ID = 7
STATION_NAME = "bench-station"
BADGE = "BADGE-P001"
USER_ID = 1
BENCH_ORDER_ID = 10_000_000  # outside the bulk id range
BENCH_ORDER_NUMBER = "ORD-9999999"
BENCH_PRODUCT_BASE = 5_000_000
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen", "Essen")


def _check_digit(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def ean13(n: int) -> str:
    """A valid EAN-13 (German prefix 40) for number n."""
    body = f"40{n:010d}"
    return body + _check_digit(body)


def gtin14(ean: str) -> str:
    return "0" + ean


def _product(pid: int, sku: str, ean: str, rng: random.Random) -> dict[str, Any]:
    return {
        "id": pid,
        "sku": sku,
        "name": f"Product {sku} {rng.choice(('blue', 'red', 'large', 'small', 'set of 3'))}",
        "gtins": [gtin14(ean)],
        "aliases": [f"SUP-{pid:07d}"],
        "weight_grams": rng.randint(20, 3000),
        "length_mm": rng.randint(20, 400),
        "width_mm": rng.randint(20, 300),
        "height_mm": rng.randint(5, 200),
        "serial_required": False,
        "image_url": None,
    }


def _order(
    oid: int,
    number: str,
    lines: list[dict[str, Any]],
    rng: random.Random,
    *,
    status: str = "allocated",
    batch_id: int | None = None,
    tote: str | None = None,
    lease: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": oid,
        "number": number,
        "channel": rng.choice(("shopify", "amazon", "ebay", "woocommerce")),
        "channel_order_id": f"CH{oid:09d}",
        "status": status,
        "priority": rng.choice((0, 0, 0, 1, 2)),
        "cutoff_at": None,
        "carrier": "dhl",
        "service": "paket",
        "country": "DE",
        "ship_to": {
            "name": f"Customer {oid}",
            "company": "",
            "street1": f"Hauptstraße {oid % 300 + 1}",
            "street2": "",
            "postcode": f"{10000 + oid % 89999:05d}",
            "city": rng.choice(CITIES),
            "region": "",
            "country": "DE",
            "phone": "+49 30 1234567",
            "email": f"customer{oid}@example.com",
        },
        "batch_id": batch_id,
        "tote": tote,
        "lines": lines,
        "lease": lease,
        "version": 1,
    }


def _line(line_id: int, line_no: int, product: dict[str, Any], qty: int) -> dict[str, Any]:
    return {
        "line_id": line_id,
        "line_no": line_no,
        "sku": product["sku"],
        "name": product["name"],
        "quantity": qty,
        "product_id": product["id"],
    }


@dataclass(frozen=True)
class Filled:
    """What a bench needs to drive the filled replica."""

    orders: int
    products: int
    bench_order_number: str
    bench_codes: tuple[str, ...]  # the EAN-13 of each bench line, in line order
    bench_qty: int
    order_numbers_sample: tuple[str, ...]  # existing bulk order numbers (for lookups)
    totes_sample: tuple[str, ...]


def _bulk_order_rows(
    orders: int, product_docs: list[dict[str, Any]], seed: int
) -> list[tuple[Any, ...]]:
    """Replica rows of `orders` orders with 1-5 lines, built from JSON fragments.

    json.dumps of 100k nested dicts costs ~15 s on a busy 2-core machine; the documents are
    regular, so each product's line fragment is serialised once and the rest is formatted.
    """
    rng = random.Random(seed)
    dumps = json.dumps
    fragments = [
        ',"sku":{},"name":{},"product_id":{}}}'.format(
            dumps(p["sku"]), dumps(p["name"], ensure_ascii=False), p["id"]
        )
        for p in product_docs
    ]
    channels = ("shopify", "amazon", "ebay", "woocommerce")
    n_lines = (1, 1, 2, 2, 3, 5)
    rows: list[tuple[Any, ...]] = []
    line_id = 1
    rand = rng.random
    n_frag = len(fragments)
    for oid in range(1, orders + 1):
        parts = []
        for no in range(1, n_lines[int(rand() * 6)] + 1):
            qty = 1 + int(rand() * 3)
            parts.append(
                f'{{"line_id":{line_id},"line_no":{no},"quantity":{qty}'
                + fragments[int(rand() * n_frag)]
            )
            line_id += 1
        number = f"ORD-{100000 + oid}"
        tote = f"T-{oid:06d}" if oid % 4 == 0 else None
        data = (
            f'{{"id":{oid},"number":"{number}","channel":"{channels[oid % 4]}",'
            f'"channel_order_id":"CH{oid:09d}","status":"allocated","priority":{oid % 3},'
            '"cutoff_at":null,"carrier":"dhl","service":"paket","country":"DE",'
            f'"ship_to":{{"name":"Customer {oid}","company":"",'
            f'"street1":"Hauptstraße {oid % 300 + 1}","street2":"",'
            f'"postcode":"{10000 + oid % 89999:05d}","city":"{CITIES[oid % len(CITIES)]}",'
            '"region":"","country":"DE","phone":"+49 30 1234567",'
            f'"email":"customer{oid}@example.com"}},"batch_id":null,'
            f'"tote":{dumps(tote)},"lines":[{",".join(parts)}],"lease":null,"version":1}}'
        )
        rows.append((oid, number, tote, "allocated", None, 1, None, None, None, data))
    return rows


def fill(
    replica: Replica,
    orders: int = 100_000,
    products: int | None = None,
    *,
    bench_lines: int = 100,
    bench_qty: int = 25,
    seed: int = 11,
    via_snapshot: bool = False,
) -> Filled:
    """Fill `replica` (fresh) with `orders` orders (1-5 lines each) and `products` products,
    plus a bench order of `bench_lines` lines of `bench_qty` units leased to STATION_ID.

    Also sets the `station_id` state, as the first start of a station would.
    """
    rng = random.Random(seed)
    n_products = products if products is not None else max(10, orders // 5)
    product_docs = [
        _product(pid, f"SKU-{pid:06d}", ean13(pid), rng) for pid in range(1, n_products + 1)
    ]
    order_rows = _bulk_order_rows(orders, product_docs, seed)
    for row in order_rows[:50]:
        OrderSnapshot.model_validate_json(row[-1])  # the synthetic documents follow the protocol
    for doc in product_docs[:50]:
        ProductSnapshot.model_validate(doc)

    bench_products = [
        _product(pid, f"BENCH-{pid:07d}", ean13(pid), rng)
        for pid in range(BENCH_PRODUCT_BASE, BENCH_PRODUCT_BASE + bench_lines)
    ]
    lease = {
        "order_id": BENCH_ORDER_ID,
        "station_id": STATION_ID,
        "station_name": STATION_NAME,
        "epoch": 3,
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    bench_order = _order(
        BENCH_ORDER_ID,
        BENCH_ORDER_NUMBER,
        [_line(90_000_000 + i, i + 1, p, bench_qty) for i, p in enumerate(bench_products)],
        rng,
        batch_id=1,
        tote="T-BENCH",
        lease=lease,
    )
    user = {"id": USER_ID, "name": "Bench Packer", "role": "packer", "badge": BADGE}
    batch = {
        "id": 1,
        "code": "B-BENCH",
        "name": "Bench batch",
        "status": "open",
        "station_id": STATION_ID,
        "order_ids": [BENCH_ORDER_ID],
    }
    seq = 0

    def change(entity: str, data: dict[str, Any]) -> Change:
        nonlocal seq
        seq += 1
        return Change(seq=seq, entity=entity, entity_id=data["id"], data=data)  # type: ignore[arg-type]

    small = [change("user", user), change("batch", batch)]
    small += [change("product", p) for p in bench_products]
    small.append(change("order", bench_order))

    if via_snapshot:
        bulk = [change("product", p) for p in product_docs]
        bulk += [change("order", json.loads(r[-1])) for r in order_rows]
        pages = [
            PullResponse(cursor=seq, changes=page, more=False, last_mutation_id=0, snapshot=True)
            for page in (bulk + small,)
        ]
        replica.apply_snapshot(pages)
    else:
        _bulk_insert(replica, order_rows, product_docs)
        replica.apply_pull(PullResponse(cursor=seq, changes=small, more=False, last_mutation_id=0))
    replica.set_state("station_id", STATION_ID)
    replica.set_state("needs_counter_seed", False)
    sample = rng.sample(order_rows, min(1000, len(order_rows)))
    return Filled(
        orders=orders + 1,
        products=n_products + bench_lines,
        bench_order_number=BENCH_ORDER_NUMBER,
        bench_codes=tuple(ean13(p["id"]) for p in bench_products),
        bench_qty=bench_qty,
        order_numbers_sample=tuple(r[1] for r in sample),
        totes_sample=tuple(r[2] for r in sample if r[2]),
    )


def _bulk_insert(
    replica: Replica, order_rows: list[tuple[Any, ...]], product_docs: list[dict[str, Any]]
) -> None:
    with replica._write() as conn:  # the replica's own writer: one IMMEDIATE transaction
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO orders (id, number_key, tote_key, status, batch_id, version,"
            " lease_epoch, lease_station_id, lease_expires_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            order_rows,
        )
        cur.executemany(
            "INSERT INTO products (id, sku_key, data) VALUES (?, ?, ?)",
            (
                (p["id"], p["sku"].upper(), json.dumps(p, separators=(",", ":")))
                for p in product_docs
            ),
        )
        cur.executemany(
            "INSERT OR REPLACE INTO product_gtins (gtin14, product_id) VALUES (?, ?)",
            ((g, p["id"]) for p in product_docs for g in p["gtins"]),
        )
        cur.executemany(
            "INSERT OR REPLACE INTO product_aliases (code_key, product_id) VALUES (?, ?)",
            ((a.upper(), p["id"]) for p in product_docs for a in p["aliases"]),
        )
        cur.close()
