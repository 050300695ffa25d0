"""Benchmark: signed Shopify orders/create webhooks into the real service, per database.

Starts `uvicorn` on serving_app() in a subprocess (so client threads do not share its GIL),
set up as `packbench-service serve --workers N` runs it, on a fresh PostgreSQL schema and on
a fresh SQLite file, sends N webhooks from a few client threads, and prints one JSON object
with orders/s and p50/p99 latency per database.

A busy service answers a delivery 202 once it is checked and stored, and its webhook inbox
creates the order shortly after (service.ingest.inbox; `--inline N` sets how many deliveries
each worker applies while the shop waits, PACKBENCH_WEBHOOK_INLINE). So each run prints two
rates: `orders_per_s`, deliveries answered per second (what the shop sees, compared with the
bare app), and `applied_per_s`, orders created per second from the first delivery until the
last order exists (the inbox drained), with how many were `queued`.

On PostgreSQL it also runs the bare limit in the same run, interleaved round by round with
ours: the same bodies, clients and workers against `bench/_bare_app.py` (FastAPI + one
INSERT + COMMIT). `compare_rate` and `compare_p99` give ours, the limit, the ratio and the
load average (`busy: true` when the machine was loaded beyond its cores).

    python bench/ingest.py            # N=2000, 2 rounds
    python bench/ingest.py --quick    # N=300, 1 round

PostgreSQL URL: PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test. Budget (docs/ARCHITECTURE.md): at least 0.8x the
bare rate and p99 within 2x the bare p99, on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import _bare_app  # noqa: E402
from bench._compare import Comparison, CpuUse, percentile, pg_url  # noqa: E402
from service.api.http_protocol import HTTP_PROTOCOL  # noqa: E402
from service.channels import set_shipping  # noqa: E402
from service.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from service.ingest.inbox import INLINE_ENV  # noqa: E402
from service.ingest.tables import RECEIPTS, is_queued  # noqa: E402
from service.ingest.webhooks import sign  # noqa: E402
from service.models import Channel, Product  # noqa: E402
from service.schema import create_all  # noqa: E402
from tests.support.pg_schema import scratch_schema  # noqa: E402
from tests.support.shop_payloads import shopify_order  # noqa: E402

SECRET_ENV = "PACKBENCH_BENCH_SECRET"
SECRET_REF = "channel:shopify:bench"
SCHEMA_ENV = "PACKBENCH_BENCH_PG_SCHEMA"
BUDGET_RATE_RATIO = 0.8  # at least 0.8x the bare app's orders/s
BUDGET_P99_RATIO = 2.0  # p99 within 2x the bare app's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str, schema: str | None) -> None:
    args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **args)
    create_all(engine)
    with transaction(make_sessionmaker(engine)) as s:
        s.add(Channel(kind="shopify", name="bench", secret_ref=SECRET_REF, settings={}))
        s.add_all([Product(sku="MUG-350-BLU", name="Mug"), Product(sku="PLATE-24", name="Plate")])
        s.flush()
        # A site set up as the README says: the shop's shipping method mapped to a carrier, so
        # orders come in ready to pack (unmapped, each one would be held with an exception).
        set_shipping(s, "bench", "DHL Paket", carrier="dpd", service="CLASSIC", actor="bench")
    engine.dispose()


def app_factory() -> Any:
    """The app for one uvicorn worker: an in-memory keyring holding the bench secret."""
    import keyring

    from service.api.app import serving_app
    from service.secrets_store import put_secret
    from tests.support.keyrings import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())  # never the real keyring of the machine
    put_secret(SECRET_REF, os.environ[SECRET_ENV])
    url = os.environ["PACKBENCH_DB_URL"]
    schema = os.environ.get(SCHEMA_ENV)
    if schema:
        # The schema travels separately: a URL-encoded "options=" in the URL made uvicorn's
        # spawned workers die silently.
        return serving_app(make_engine(url, connect_args={"options": f"-csearch_path={schema}"}))
    return serving_app(url)


def serve(url: str, port: int, workers: int) -> None:
    """Subprocess entry: uvicorn with `workers` processes on the database at `url`."""
    import uvicorn

    os.environ["PACKBENCH_DB_URL"] = url
    uvicorn.run(
        "bench.ingest:app_factory",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        http=HTTP_PROTOCOL,
        log_level=os.environ.get("PACKBENCH_BENCH_LOG", "warning"),
        access_log=False,
    )


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait for /healthz (uvicorn restarts workers that start slowly on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service did not start within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a served process, killing it if it does not stop within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _bodies(n: int, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for i in range(n):
        order = shopify_order(7_000_000 + i)
        # Each customer their own number, on both addresses as shops send it: the service
        # remembers recent numbers, and one repeated phone would flatter every run.
        for address in ("billing_address", "shipping_address"):
            order[address]["phone"] = f"030 {1_200_000 + i}"
        body = json.dumps(order).encode()
        out.append(
            (
                body,
                {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Hmac-Sha256": sign(secret, body),
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                },
            )
        )
    return out


def wait_applied(url: str, schema: str | None, timeout: float = 900) -> float:
    """The time (time.time()) by which no delivery waited in the inbox: every order exists."""
    args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **args)
    waiting = select(func.count()).select_from(RECEIPTS).where(is_queued(RECEIPTS))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.execute(waiting).scalar():
                    return time.time()
            time.sleep(0.02)
    finally:
        engine.dispose()
    raise RuntimeError(f"deliveries still queued after {timeout:g} s")


def run_one(
    url: str,
    n: int,
    clients: int,
    workers: int,
    schema: str | None = None,
    *,
    bare: bool = False,
    inline: int | None = None,
) -> dict[str, Any]:
    """Serve `url` (in PostgreSQL `schema`), send n webhooks from `clients` threads; with
    `bare`, to the one-INSERT app instead of the service (`inline`: its inline slots)."""
    secret = secrets.token_urlsafe(24)
    port = _free_port()
    if bare:
        _bare_app.prepare(url, schema)
        proc = _bare_app.start(url, port, workers, schema)
    else:
        _prepare(url, schema)
        env = dict(os.environ, **{SECRET_ENV: secret})
        if inline is not None:
            env[INLINE_ENV] = str(inline)
        if schema:
            env[SCHEMA_ENV] = schema
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                url,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    errors: list[str] = []
    queued = 0
    applied_wall = 0.0
    lock = threading.Lock()
    try:
        wait_ready(base, proc)
        work = _bodies(n, secret)
        path = f"{base}/bare" if bare else f"{base}/v1/channels/shopify/bench/webhooks"

        # Built before the clock starts: an httpx.Client builds an SSL context (~20 ms of
        # CPU each, all clients queueing on one GIL), which is no part of serving webhooks.
        https = [httpx.Client(timeout=30) for _ in range(clients)]

        def client(http: httpx.Client, share: list[tuple[bytes, dict[str, str]]]) -> None:
            nonlocal queued
            mine: list[float] = []
            waiting = 0
            with http:
                for body, headers in share:
                    t0 = time.perf_counter()
                    r = http.post(path, content=body, headers=headers)
                    mine.append(time.perf_counter() - t0)
                    answer = (r.status_code, r.json().get("status"))
                    if answer == (202, "queued"):
                        waiting += 1
                    elif answer != (200, "created"):
                        with lock:
                            errors.append(f"{r.status_code} {r.text[:200]}")
            with lock:
                latencies.extend(mine)
                queued += waiting

        threads = [
            threading.Thread(target=client, args=(http, work[i::clients]))
            for i, http in enumerate(https)
        ]
        cpu = CpuUse(proc.pid)
        cpu.start()
        start, started_at = time.perf_counter(), time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        cpu.stop()
        applied_wall = wall if bare else wait_applied(url, schema) - started_at
    finally:
        stop(proc)
    latencies.sort()
    return {
        "orders": n,
        "clients": clients,
        "server_workers": workers,
        "orders_per_s": round(n / wall, 1),
        "queued": queued,
        "applied_per_s": round(n / applied_wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "cpu_ms_per_order": cpu.per_call_ms(n),
        "_latencies": latencies,
        "_wall": wall,
        "_applied_wall": applied_wall,
    }


def compare_pg(
    base: str, n: int, clients: int, workers: int, rounds: int, inline: int | None = None
) -> dict[str, Any]:
    """Ours and the bare app on PostgreSQL, alternating round by round (fresh schemas)."""
    rate = Comparison("ingest orders/s, PostgreSQL", lower_is_better=False)
    p99 = Comparison("ingest p99 ms, PostgreSQL", lower_is_better=True)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "bare": []}
    for _ in range(rounds):
        for kind in ("ours", "bare"):
            with scratch_schema(base, "bench") as schema:
                runs[kind].append(
                    run_one(base, n, clients, workers, schema, bare=kind == "bare", inline=inline)
                )

    def merged(kind: str) -> tuple[float, float, int]:
        lat = [x for r in runs[kind] for x in r.pop("_latencies")]
        wall = sum(r.pop("_wall") for r in runs[kind])
        return len(lat) / wall, percentile(lat, 0.99) * 1000, sum(r["errors"] for r in runs[kind])

    cpu_ms = {
        kind: CpuUse.mean([r.pop("cpu_ms_per_order") for r in runs[kind]])
        for kind in ("ours", "bare")
    }
    applied = len(runs["ours"]) * n / sum(r.pop("_applied_wall") for r in runs["ours"])
    for r in runs["bare"]:
        r.pop("_applied_wall")
    ours_rate, ours_p99, ours_errors = merged("ours")
    bare_rate, bare_p99, bare_errors = merged("bare")
    return {
        "rounds": rounds,
        "ours": runs["ours"][-1]
        | {
            "orders_per_s": round(ours_rate, 1),
            "applied_per_s": round(applied, 1),
            "queued": sum(r["queued"] for r in runs["ours"]),
            "errors": ours_errors,
        },
        "bare_errors": bare_errors,
        # CPU per answered order, by who spent it (bench._compare.CpuUse), mean of the rounds
        "cpu_ms_per_order": cpu_ms,
        "compare_rate": rate.result(ours_rate, bare_rate, budget_ratio=BUDGET_RATE_RATIO),
        "compare_p99": p99.result(ours_p99, bare_p99, budget_ratio=BUDGET_P99_RATIO),
    }


def main() -> int:
    """Parse flags, run both databases, print the JSON figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=2000, help="webhooks per database")
    p.add_argument("--quick", action="store_true", help="300 webhooks per database")
    p.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--only", choices=("postgresql", "sqlite"))
    p.add_argument("--rounds", type=int, default=2, help="ours/bare rounds on PostgreSQL")
    p.add_argument(
        "--inline",
        type=int,
        help="deliveries each worker applies while the shop waits (default: the service's)",
    )
    p.add_argument("--serve", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers)
        return 0
    n = 300 if args.quick else args.n
    rounds = 1 if args.quick else args.rounds
    result: dict[str, Any] = {
        "bench": "ingest.shopify_orders_create",
        "budget_rate_ratio": BUDGET_RATE_RATIO,
        "budget_p99_ratio": BUDGET_P99_RATIO,
    }
    if args.only in (None, "postgresql"):
        base = pg_url()
        pg = compare_pg(base, n, args.clients, args.workers, rounds, args.inline)
        result["postgresql"] = pg.pop("ours")
        result.update(pg)
        result["busy"] = pg["compare_rate"]["busy"] or pg["compare_p99"]["busy"]
        result["within_budget"] = bool(
            pg["compare_rate"]["within_ratio"]
            and pg["compare_p99"]["within_ratio"]
            and not result["postgresql"]["errors"]
        )
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            result["sqlite"] = run_one(
                f"sqlite:///{tmp}/bench.sqlite3", n, args.clients, args.workers, inline=args.inline
            )
            for key in ("_latencies", "_wall", "_applied_wall"):
                del result["sqlite"][key]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
