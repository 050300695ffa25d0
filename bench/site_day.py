"""Benchmark: a day in the life of a big site, compressed: stations, a flash sale, network cuts.

On a fresh PostgreSQL schema holding `--history` old (shipped) orders, vacuumed and analysed
as a site's old orders are (`history_vacuum_s`), the service runs as
in production (`--workers` uvicorn workers; `--service-procs` such services on the one
database, the stations and the webhooks spread over them; with `--service-cpus`, each held
to that many CPUs, a machine of its own: what one more machine adds, bench/scale_out.py).
Then, at once:
- `--stations` simulated stations (`bench/_stations.py`: one connection each, on event loops
  in forked client processes, as `sync_load.py`), each holding a claimed order, push scans
  as a Poisson process at `--rate` a second and pull the feed every
  sync.engine.PULL_SPACING seconds;
- a flash sale: `--burst` signed Shopify orders/create webhooks offered evenly over
  `--burst-seconds` (each sent at its scheduled time by a pool of client threads);
- a network cut for `--cut-fraction` of the stations during the burst (`--cut-seconds`):
  they keep scanning into a local queue and push it in pages of 500 when the link returns.

Prints one JSON object: per operation (push, pull, webhook, reconnect push) count, rate and
p50/p95/p99/max; the webhook backlog when the burst's offering window closed (offered but not
yet answered) and how long it took to drain; how many were queued (answered 202 by a busy
service, service.ingest.inbox) and when the last order existed; the cut stations' catch-up;
every error (there must be none); the load average before and after with `busy`
(bench/_compare.py).

    python bench/site_day.py              # 200 stations, 20,000 webhooks in 60 s, 1M history
    python bench/site_day.py --small      # about a minute: 20 stations, 1,000 webhooks

PostgreSQL URL: --db, else PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test. Client processes share the machine with the
service: on a 2-core machine the figures are the site's *and* the simulator's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import multiprocessing.queues
import os
import queue
import random
import secrets
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))

import httpx  # noqa: E402
import keyring  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bench import _stations, ingest  # noqa: E402
from bench._compare import cores, load_average, percentile, pg_url  # noqa: E402
from bench._cpubox import CpuBox, CpuBoxUnavailable  # noqa: E402
from bench._stations import RequestFailed, StationConnection  # noqa: E402
from service.db import make_engine, make_sessionmaker  # noqa: E402
from service.models import Channel, Order, OrderLine  # noqa: E402
from sync.client import StationClient, enroll  # noqa: E402
from sync.engine import PULL_SPACING  # noqa: E402
from sync.protocol import MAX_MUTATIONS_PER_PUSH, ClaimRequest, PushRequest  # noqa: E402
from tests.integration.sync.service_runner import enroll_code, make_orders, scan  # noqa: E402
from tests.support.keyrings import MemoryKeyring  # noqa: E402
from tests.support.pg_schema import schema_url, scratch_schema  # noqa: E402

# (operation, start time (wall clock), latency ms, ok, detail)
Event = tuple[str, float, float, bool, str]


def fill_history(url: str, count: int) -> float:
    """`count` shipped orders with one line each, ids from 10,000,000; returns seconds."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    t0 = time.perf_counter()
    with sessions() as s:
        channel_id = s.query(Channel.id).filter(Channel.name == "bench").scalar()
    old = datetime.now(UTC) - timedelta(days=200)
    chunk = 20_000
    for start in range(0, count, chunk):
        ids = range(10_000_000 + start, 10_000_000 + min(start + chunk, count))
        with sessions() as s, s.begin():
            s.execute(
                insert(Order),
                [
                    {
                        "id": i,
                        "number": f"H-{i}",
                        "channel_id": channel_id,
                        "channel_order_id": f"h{i}",
                        "status": "shipped",
                        "currency": "EUR",
                        "payment_state": "paid",
                        "ship_name": f"Customer {i % 9973}",
                        "ship_country": "DE",
                        "email": f"c{i % 9973}@example.com",
                        "created_at": old,
                        "updated_at": old,
                        "status_changed_at": old,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(OrderLine),
                [
                    {
                        "order_id": i,
                        "line_no": 1,
                        "sku": "MUG-350-BLU",
                        "name": "Mug",
                        "quantity": 1,
                    }
                    for i in ids
                ],
            )
    engine.dispose()
    return time.perf_counter() - t0


def settle_history(url: str) -> float:
    """VACUUM (ANALYZE) the tables the history filled, as the other benches that fill tables
    do; returns seconds.

    A site's million orders came over months and autovacuum has analysed them long since. A
    million rows inserted a minute ago have not been (and never will be where autovacuum is
    off, as on the machine these figures were first taken on): the planner reads them with
    an empty table's statistics, and the day measured that instead of the service (pull p99
    12.9-15.2 s and 85-175 station timeouts in four runs, against 2.0-2.4 s and none in six
    once analysed)."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        for table in (Order.__tablename__, OrderLine.__tablename__):
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    engine.dispose()
    return time.perf_counter() - t0


def claimed_stations(
    urls: list[str], sessions: sessionmaker[Session], count: int, prefix: str
) -> list[tuple[str, int, int, int]]:
    """`count` stations enrolled (through the first service), each holding a lease on a
    one-line order of its own (claimed through service i mod len(urls)): (token, station id,
    order id, lease epoch)."""
    stations = []
    for i, order_id in enumerate(make_orders(sessions, count, lines=1)):
        enrolled = enroll(urls[0], enroll_code(sessions, f"{prefix}-{i}"))
        client = StationClient(urls[i % len(urls)], token=enrolled.token)
        lease = client.claim(ClaimRequest(order_id=order_id)).leases[0]
        client.close()
        stations.append((enrolled.token, enrolled.station_id, order_id, lease.epoch))
    return stations


async def station_loop(
    conn: StationConnection,
    station: tuple[str, int, int, int],
    args: argparse.Namespace,
    window: tuple[float, float],
    cut: tuple[float, float] | None,
    events: list[Event],
) -> None:
    """One station: scans pushed at once (or queued while cut off), the feed pulled."""
    _token, station_id, order_id, epoch = station
    start, stop = window
    rng = random.Random(station_id)
    next_id, queued = 1, 0
    cursor = 0
    last_pull = 0.0
    next_at = start + rng.expovariate(args.rate)
    while True:
        await asyncio.sleep(max(0.0, next_at - time.time()))
        now = time.time()
        if now >= stop:
            break
        offline = cut is not None and cut[0] <= now < cut[1]
        queued += 1
        if not offline:
            first = next_id
            while queued:
                batch = min(queued, MAX_MUTATIONS_PER_PUSH)
                mutations = [scan(first + k, order_id, epoch) for k in range(batch)]
                op = "push" if batch == 1 else "reconnect_push"
                t0 = time.time()
                try:
                    answer = await conn.push(
                        PushRequest(station_id=station_id, mutations=mutations)
                    )
                    bad = [r for r in answer.results if r.status != "applied"]
                    detail = f"rejected {bad[0].reason}" if bad else ""
                    ok = not bad
                except RequestFailed as exc:
                    ok, detail = False, str(exc)[:200]
                events.append((op, t0, (time.time() - t0) * 1000, ok, detail))
                if not ok:
                    break  # the next scan retries what is still queued
                first += batch
                queued -= batch
            next_id = first
            if time.time() - last_pull >= PULL_SPACING:
                last_pull = time.time()
                cursor = await pull_feed(conn, cursor, events)
        next_at += rng.expovariate(args.rate)


async def pull_feed(conn: StationConnection, cursor: int, events: list[Event]) -> int:
    """Pull until the feed has no more (a first pull walks the paged snapshot)."""
    page: str | None = "first" if cursor == 0 else None
    while True:
        t0 = time.time()
        try:
            answer = await conn.pull(cursor, page=page)
        except RequestFailed as exc:
            events.append(("pull", t0, (time.time() - t0) * 1000, False, str(exc)[:200]))
            return cursor
        events.append(("pull", t0, (time.time() - t0) * 1000, True, ""))
        if page is not None:
            page = answer.next_page
            if page is None:
                return answer.cursor
            continue
        cursor = answer.cursor
        if not answer.more:
            return cursor


def stations_process(
    urls: list[str],
    stations: list[tuple[int, tuple[str, int, int, int]]],
    args: argparse.Namespace,
    window: tuple[float, float],
    cut_window: tuple[float, float],
    cut_every: int,
    results: multiprocessing.queues.Queue[list[Event]],
) -> None:
    """A forked process running some stations on one event loop (bench/_stations.py: real
    stations are machines of their own, and a thread with a StationClient each cost this
    machine 2.7-3.5 ms of CPU a push)."""

    async def run_stations() -> list[Event]:
        events: list[Event] = []
        conns = [StationConnection(urls[index % len(urls)], st[0]) for index, st in stations]
        try:
            await asyncio.gather(
                *(
                    station_loop(
                        conn,
                        st,
                        args,
                        window,
                        cut_window if cut_every and index % cut_every == 0 else None,
                        events,
                    )
                    for conn, (index, st) in zip(conns, stations, strict=True)
                )
            )
        finally:
            for conn in conns:
                await conn.close()
        return events

    results.put(_stations.run(run_stations()))


ANSWERED = {(200, "created"), (202, "queued")}
INBOX_EMPTY = "inbox_empty"  # not an operation: when the burst's last order existed


def burst_process(
    urls: list[str],
    args: argparse.Namespace,
    secret: str,
    start: float,
    db: tuple[str, str],
    results: multiprocessing.queues.Queue[list[Event]],
) -> None:
    """The flash sale: webhook i is offered at start + i * burst_seconds / burst. Once all
    are answered, waits for the inboxes to empty (db: the base URL and schema) and adds an
    INBOX_EMPTY event at that time: the moment the last order existed."""
    bodies = ingest._bodies(args.burst, secret)
    work: queue.Queue[int] = queue.Queue()
    for i in range(args.burst):
        work.put(i)
    events: list[Event] = []
    step = args.burst_seconds / max(1, args.burst)

    def sender(k: int) -> None:
        with httpx.Client(timeout=60) as http:
            while True:
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    return
                due = start + i * step
                time.sleep(max(0.0, due - time.time()))
                body, headers = bodies[i]
                url = f"{urls[i % len(urls)]}/v1/channels/shopify/bench/webhooks"
                t0 = time.time()
                try:
                    r = http.post(url, content=body, headers=headers)
                    # Created while the shop waited, or checked and queued (202): both done.
                    answer = (r.status_code, r.json().get("status"))
                    ok = answer in ANSWERED
                    detail = (
                        "queued"
                        if answer == (202, "queued")
                        else ("" if ok else f"{r.status_code} {r.text[:150]}")
                    )
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{type(exc).__name__}: {exc}"[:200]
                # Latency from when it was due: a webhook waiting for a free sender waits too.
                events.append(("webhook", due, (time.time() - due) * 1000, ok, detail))
                del t0

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.burst_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events.append((INBOX_EMPTY, ingest.wait_applied(*db), 0.0, True, ""))
    results.put(events)


def summarise(events: list[Event], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op in sorted({e[0] for e in events}):
        lat = [e[2] for e in events if e[0] == op]
        out[op] = {
            "count": len(lat),
            "per_s": round(len(lat) / seconds, 1),
            "p50_ms": round(percentile(lat, 0.50), 1),
            "p95_ms": round(percentile(lat, 0.95), 1),
            "p99_ms": round(percentile(lat, 0.99), 1),
            "max_ms": round(max(lat), 1),
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--stations", type=int, default=200)
    p.add_argument("--rate", type=float, default=2.0, help="scans/s per station")
    p.add_argument("--burst", type=int, default=20_000, help="webhooks in the flash sale")
    p.add_argument("--burst-seconds", type=float, default=60.0)
    p.add_argument("--burst-clients", type=int, default=32, help="webhook sender threads")
    p.add_argument(
        "--inline",
        type=int,
        help="webhooks each worker applies while the shop waits (PACKBENCH_WEBHOOK_INLINE)",
    )
    p.add_argument("--cut-fraction", type=float, default=0.1)
    p.add_argument("--cut-seconds", type=float, default=30.0)
    p.add_argument("--history", type=int, default=1_000_000, help="old orders in the database")
    p.add_argument("--seconds", type=float, default=120.0, help="how long the stations run")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--service-procs", type=int, default=1, help="services on one database")
    p.add_argument(
        "--service-cpus",
        type=float,
        help="hold each service to this many CPUs, a machine of its own (bench/_cpubox.py)",
    )
    p.add_argument("--client-procs", type=int, default=2)
    p.add_argument("--db", default=None)
    p.add_argument("--small", action="store_true", help="about a minute on a quiet machine")
    args = p.parse_args()
    if args.small:
        args.stations, args.burst, args.burst_seconds = 20, 1000, 10.0
        args.cut_seconds, args.history, args.seconds = 6.0, 20_000, 25.0
        args.client_procs, args.burst_clients = 2, 8
    base = pg_url(args.db)
    if args.service_cpus:
        try:
            CpuBox("probe", args.service_cpus).remove()
        except CpuBoxUnavailable as exc:
            print(json.dumps({"bench": "site_day", "ok": False, "refused": str(exc)}))
            return 2
    keyring.set_keyring(MemoryKeyring())
    secret = secrets.token_urlsafe(24)
    cleanup = ExitStack()
    procs: list[subprocess.Popen[bytes]] = []
    load_before = load_average()
    try:
        schema = cleanup.enter_context(scratch_schema(base, "siteday"))
        url = schema_url(base, schema)
        ingest._prepare(base, schema)
        history_s = fill_history(url, args.history)
        settle_s = settle_history(url) if args.history else 0.0
        env = dict(os.environ, **{ingest.SECRET_ENV: secret, ingest.SCHEMA_ENV: schema})
        if args.inline is not None:
            env[ingest.INLINE_ENV] = str(args.inline)
        urls = []
        for k in range(args.service_procs):
            port = ingest._free_port()
            box = None
            if args.service_cpus:
                box = CpuBox(f"day{k}", args.service_cpus, k * math.ceil(args.service_cpus))
                cleanup.callback(box.remove)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "bench" / "ingest.py"),
                    "--serve",
                    base,
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                cwd=ROOT,
                preexec_fn=box.enter if box else None,
            )
            procs.append(proc)
            ingest.wait_ready(f"http://127.0.0.1:{port}", proc, timeout=600)
            urls.append(f"http://127.0.0.1:{port}")
        engine = make_engine(url, pool_size=2, max_overflow=2)
        sessions = make_sessionmaker(engine)
        stations = claimed_stations(urls, sessions, args.stations, "day")
        engine.dispose()

        ctx = multiprocessing.get_context("fork")
        results: multiprocessing.queues.Queue[list[Event]] = ctx.Queue()
        start = time.time() + 3.0
        window = (start, start + args.seconds)
        burst_at = start + min(5.0, args.seconds / 5)
        cut_window = (burst_at, burst_at + args.cut_seconds)
        cut_every = round(1 / args.cut_fraction) if args.cut_fraction > 0 else 0
        n = max(1, min(args.client_procs, len(stations)))
        indexed = list(enumerate(stations))
        children = [
            ctx.Process(
                target=stations_process,
                args=(urls, indexed[k::n], args, window, cut_window, cut_every, results),
                daemon=True,
            )
            for k in range(n)
        ]
        children.append(
            ctx.Process(
                target=burst_process,
                args=(urls, args, secret, burst_at, (base, schema), results),
                daemon=True,
            )
        )
        for child in children:
            child.start()
        events: list[Event] = []
        for _ in children:
            events.extend(results.get(timeout=args.seconds + args.burst_seconds + 900))
        for child in children:
            child.join(30)
        # Orders of deliveries answered 202 are created by the services' inboxes: the burst
        # process saw them all exist (read here, the stations' end would bound it below).
        applied_at = max(e[1] for e in events if e[0] == INBOX_EMPTY)
        events = [e for e in events if e[0] != INBOX_EMPTY]
    finally:
        for proc in procs:
            ingest.stop(proc)
        cleanup.close()

    webhooks = [e for e in events if e[0] == "webhook"]
    burst_end = burst_at + args.burst_seconds
    done_at = [e[1] + e[2] / 1000 for e in webhooks]
    backlog = sum(1 for e, d in zip(webhooks, done_at, strict=True) if e[1] < burst_end < d)
    drained = max(done_at, default=burst_end)
    errors = [e for e in events if not e[3]]
    reconnects = [e[2] for e in events if e[0] == "reconnect_push"]
    span = max((e[1] + e[2] / 1000 for e in events), default=start) - start
    load_after = load_average()
    busy = any(load[0] > cores() for load in (load_before, load_after) if load)
    result = {
        "bench": "site_day",
        "stations": args.stations,
        "rate_per_station": args.rate,
        "service_procs": args.service_procs,
        "workers_each": args.workers,
        "cpus_each": args.service_cpus,
        "history_orders": args.history,
        "history_fill_s": round(history_s, 1),
        "history_vacuum_s": round(settle_s, 1),
        "seconds": round(span, 1),
        "operations": summarise(events, max(span, 1e-9)),
        "burst": {
            "webhooks": len(webhooks),
            "offered_per_s": round(args.burst / args.burst_seconds, 1),
            "created": sum(1 for e in webhooks if e[3]),
            "achieved_per_s": round(len(webhooks) / max(drained - burst_at, 1e-9), 1),
            "backlog_at_window_end": backlog,
            "drain_s_after_window": round(max(0.0, drained - burst_end), 2),
            "queued": sum(1 for e in webhooks if e[3] and e[4] == "queued"),
            "orders_applied_per_s": round(len(webhooks) / max(applied_at - burst_at, 1e-9), 1),
            "orders_done_s_after_window": round(max(0.0, applied_at - burst_end), 2),
        },
        "cuts": {
            "stations": len([i for i in range(len(stations)) if cut_every and i % cut_every == 0]),
            "cut_seconds": args.cut_seconds,
            "reconnect_pushes": len(reconnects),
            "reconnect_push_p50_ms": round(percentile(reconnects, 0.5), 1),
            "reconnect_push_max_ms": round(max(reconnects, default=0.0), 1),
        },
        "errors": len(errors),
        "first_errors": [f"{e[0]}: {e[4]}" for e in errors[:5]],
        "load_before": load_before,
        "load_after": load_after,
        "cores": cores(),
        "busy": busy,
        "ok": not errors,
    }
    print(json.dumps(result))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
