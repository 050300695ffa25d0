"""Benchmark: N simulated stations at R mutations/s each against the service on PostgreSQL.

Budget: 50 stations x 2 mutations/s -> push p99 within 2x the bare app's, zero errors (and
under 50 ms at 200 stations). Each simulated station has its own claimed order and its own
keep-alive connection and does what a station's sync engine does per recorded scan (scans
arrive at random, R a second on average): push it at once (its own gap-free ids), and pull
the feed from its cursor until it has no more whenever sync.engine.PULL_SPACING has passed
since its last pull. The stations send the bytes `sync.client.StationClient` sends, but
through `bench/_stations.py` (asyncio and h11, a few processes), not StationClient itself:
real stations are machines of their own, and StationClient's httpx, pydantic and a thread
per station cost 2.9-4.5 ms of this machine's CPU a push, most of a core at 200 stations,
taken from the service being measured. The service runs as it does in production
(two uvicorn workers, `--workers`) on a fresh PostgreSQL schema. Push latency is the budget;
pull latency is reported beside it. The first seconds at full load against the freshly
started service (connections opening, caches filling) are a warm-up reported on their own:
the budget is for the service running, not for its first second after a restart.

The bare limit runs in the same run, interleaved with ours (`--rounds`, alternating ours
and the limit, each for seconds/rounds after its own warm-up): the same stations at the same
rate POST the same mutation to `bench/_bare_app.py` (FastAPI + one INSERT + COMMIT, same
workers, same database). `compare` gives our push p99, the bare p99, the ratio and the load
average (bench/_compare.py); the budget is a ratio (docs/ARCHITECTURE.md).

    python bench/sync_load.py [--stations 50] [--rate 2] [--seconds 60] [--db URL]
        [--workers 2] [--no-pull] [--rounds 2]

PostgreSQL URL: --db, else PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.queues
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import keyring
from sqlalchemy.orm import sessionmaker

from bench import _bare_app, _stations
from bench._compare import Comparison, CpuUse, pg_url
from bench._stations import RequestFailed, StationConnection
from service.db import make_engine
from service.schema import create_all
from sync.client import StationClient, enroll
from sync.engine import PULL_SPACING
from sync.protocol import ClaimRequest, PushRequest
from tests.integration.sync.service_runner import (
    ServiceProcess,
    enroll_code,
    make_orders,
    scan,
)
from tests.support.keyrings import MemoryKeyring
from tests.support.pg_schema import schema_url, scratch_schema

BUDGET_P99_MS = 100.0
BUDGET_P99_RATIO = 2.0  # push p99 within 2x the bare one-row INSERT app's at the same rate
# What a client process reports: push latencies (measured, warm-up), errors, pull latencies.
Outcome = tuple[list[float], list[float], list[str], list[float]]


async def pull_feed(
    conn: StationConnection, cursor: int, pulls: list[float], errors: list[str]
) -> int:
    """Pull from `cursor` until the feed has no more (as the engine does); the new cursor."""
    while True:
        t0 = time.perf_counter()
        try:
            page = await conn.pull(cursor)
        except RequestFailed as exc:
            errors.append(str(exc))
            return cursor
        finally:
            pulls.append((time.perf_counter() - t0) * 1000)
        cursor = page.cursor
        if not page.more:
            return cursor


async def station_loop(
    conn: StationConnection,
    station_id: int,
    order_id: int,
    epoch: int,
    rate: float,
    window: tuple[float, float],
    out: Outcome,
    pull: bool,
    bare: bool,
) -> None:
    """One station: scans pushed at once (to the bare app's one route when `bare`), the feed
    pulled whenever PULL_SPACING has passed since the last pull (not against the bare app)."""
    latencies, warmup, errors, pulls = out
    count_from, stop_at = window  # pushes that start before count_from are the warm-up
    next_id = 1
    # Packers scan independently: each station's scans arrive as a Poisson process (random
    # gaps averaging 1/rate). Starting every station's clock together, with even ticks, sent
    # all 50 pushes in the same millisecond twice a second: a burst no floor produces.
    # That includes the first scan: every station pushing at t=0 (and taking its snapshot in
    # the same millisecond) was a 50-request burst that alone made the warm-up p99 ~300 ms.
    rng = random.Random(station_id)
    next_at = time.monotonic() + rng.expovariate(rate)
    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    pulling = pull and not bare
    cursor = await pull_feed(conn, 0, [], errors) if pulling else 0  # the snapshot
    last_pull = time.monotonic()
    while time.monotonic() < stop_at:
        request = PushRequest(station_id=station_id, mutations=[scan(next_id, order_id, epoch)])
        t0 = time.perf_counter()
        try:
            if bare:  # the limit: the same body, one INSERT + COMMIT
                body = request.model_dump_json().encode()
                status, data = await conn.request("POST", "/bare", body=body)
                if status != 200:
                    raise RequestFailed(f"bare {status}: {data[:200]!r}")
            else:
                result = (await conn.push(request)).results[0]
                if result.status != "applied":
                    errors.append(f"rejected: {result.reason}")
            next_id += 1
        except RequestFailed as exc:
            errors.append(str(exc))
        took = (time.perf_counter() - t0) * 1000
        started = time.monotonic() - took / 1000
        (latencies if started >= count_from else warmup).append(took)
        if pulling and time.monotonic() - last_pull >= PULL_SPACING:
            last_pull = time.monotonic()
            measured = pulls if last_pull >= count_from else []
            cursor = await pull_feed(conn, cursor, measured, errors)
        next_at += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def client_process(
    url: str,
    stations: list[tuple[str, int, int, int]],
    args: argparse.Namespace,
    start_at: float,
    results: multiprocessing.queues.Queue[Outcome],
    bare_url: str | None = None,
) -> None:
    """A forked process running some of the simulated stations on one event loop (against
    the bare app instead of the service when `bare_url` is given)."""
    bare = bare_url is not None

    async def run_stations() -> Outcome:
        out: Outcome = ([], [], [], [])
        conns = [StationConnection(bare_url or url, None if bare else t) for t, *_ in stations]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        count_from = time.monotonic() + args.warmup
        window = (count_from, count_from + args.seconds / args.rounds)
        try:
            await asyncio.gather(
                *(
                    station_loop(c, sid, oid, ep, args.rate, window, out, not args.no_pull, bare)
                    for c, (_tok, sid, oid, ep) in zip(conns, stations, strict=True)
                )
            )
        finally:
            for c in conns:
                await c.close()
        return out

    results.put(_stations.run(run_stations()))


class _BareApp:
    """bench/_bare_app.py served on the bench's database, beside the service."""

    def __init__(self, url: str, workers: int) -> None:
        from tests.support.service_process import free_port

        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc = _bare_app.start(url, port, workers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the bare app did not start within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="mutations/s per station")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--db", default=None)
    parser.add_argument(
        "--workers", type=int, default=2, help="service worker processes (production: 2)"
    )
    parser.add_argument("--no-pull", action="store_true", help="push only, no pull after it")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="seconds at full load before the measured window (reported on their own)",
    )
    parser.add_argument(
        "--client-procs", type=int, default=2, help="processes the stations are spread over"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="ours/bare alternations (seconds split over them)"
    )
    args = parser.parse_args()
    base = pg_url(args.db)
    keyring.set_keyring(MemoryKeyring())
    cleanup = ExitStack()
    url = schema_url(base, cleanup.enter_context(scratch_schema(base, "bench")))
    engine = make_engine(url, pool_size=2, max_overflow=2)
    create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    service = ServiceProcess(url, workers=args.workers).start()
    _bare_app.prepare(url)
    bare = _BareApp(url, args.workers)
    comparison = Comparison(f"push p99 ms, {args.stations} stations", lower_is_better=True)
    bare_latencies: list[float] = []
    bare_errors: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    pulls: list[float] | None = None if args.no_pull else []
    warmup: list[float] = []
    try:
        orders = make_orders(sessions, args.stations, lines=1)
        stations = []
        for i, order_id in enumerate(orders):
            enrolled = enroll(service.url, enroll_code(sessions, f"load-{i}"))
            client = StationClient(service.url, token=enrolled.token)
            lease = client.claim(ClaimRequest(order_id=order_id)).leases[0]
            client.close()
            stations.append((enrolled.token, enrolled.station_id, order_id, lease.epoch))
        # Real stations are separate machines: the simulated ones run on an event loop in a
        # few processes, so that their own CPU is small beside the service's.
        procs = max(1, min(args.client_procs, len(stations)))
        engine.dispose()  # no pooled database connection is shared with a forked child
        ctx = multiprocessing.get_context("fork")

        assert service.proc is not None
        servers = {"ours": service.proc.pid, "bare": bare.proc.pid}
        cpu_spent: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}

        def phase(bare_url: str | None) -> Outcome:
            kind = "bare" if bare_url else "ours"
            cpu = CpuUse(servers[kind], tuple(p for k, p in servers.items() if k != kind))
            results: multiprocessing.queues.Queue[Outcome] = ctx.Queue()
            start_at = time.time() + 2.0  # every process is forked and connected by then
            children = [
                ctx.Process(
                    target=client_process,
                    args=(service.url, stations[k::procs], args, start_at, results, bare_url),
                    daemon=True,
                )
                for k in range(procs)
            ]
            cpu.start()
            for child in children:
                child.start()
            out: Outcome = ([], [], [], [])
            for _ in children:
                got = results.get(timeout=args.warmup + args.seconds + 120)
                for mine, theirs in zip(out, got, strict=True):
                    mine.extend(theirs)  # type: ignore[arg-type]
            for child in children:
                child.join(30)
            cpu.stop()
            # Per push, warm-up included (the CPU cannot be split at the window's edge).
            cpu_spent[kind].append(cpu.per_call_ms(len(out[0]) + len(out[1])))
            return out

        for _round in range(args.rounds):
            pushed, warm, failed, pulled_ms = phase(None)
            latencies.extend(pushed)
            warmup.extend(warm)
            errors.extend(failed)
            if pulls is not None:
                pulls.extend(pulled_ms)
            bare_pushed, _warm, bare_failed, _ = phase(bare.base_url)
            bare_latencies.extend(bare_pushed)
            bare_errors.extend(bare_failed)
        elapsed = args.seconds
        cpu_ms = {kind: CpuUse.mean(rounds) for kind, rounds in cpu_spent.items()}
    finally:
        service.stop()
        bare.stop()
        engine.dispose()
        cleanup.close()
    ordered = sorted(latencies)

    def pct(q: float, values: list[float] = ordered) -> float:
        return round(values[min(len(values) - 1, int(len(values) * q))], 2) if values else 0.0

    pulled = sorted(pulls or [])
    warm = sorted(warmup)
    bare_sorted = sorted(bare_latencies)
    compare = comparison.result(pct(0.99), pct(0.99, bare_sorted), budget_ratio=BUDGET_P99_RATIO)

    print(
        json.dumps(
            {
                "bench": "sync_load",
                "database": "postgresql",
                "stations": args.stations,
                "client_processes": max(1, min(args.client_procs, args.stations)),
                "service_workers": args.workers,
                "rate_per_station": args.rate,
                "seconds": round(elapsed, 1),
                "pushes": len(latencies),
                "pushes_per_s": round(len(latencies) / elapsed, 1),
                "errors": len(errors),
                "first_errors": errors[:3],
                "push_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
                "warmup": {
                    "seconds": args.warmup,
                    "pushes": len(warm),
                    "p99_ms": pct(0.99, warm),
                    "max_ms": pct(1.0, warm),
                },
                "pulls": len(pulled),
                "pull_ms": {"p50": pct(0.5, pulled), "p99": pct(0.99, pulled)},
                "within_budget": not errors and bool(compare["within_ratio"]),
                "budget_p99_ratio": BUDGET_P99_RATIO,
                "budget_p99_ms": BUDGET_P99_MS,
                "bare_push_ms": {"p50": pct(0.5, bare_sorted), "p99": pct(0.99, bare_sorted)},
                "bare_errors": len(bare_errors),
                # CPU per push (ours: with its pulls), by who spent it (bench._compare.CpuUse)
                "cpu_ms_per_push": cpu_ms,
                "compare": compare,
                "busy": compare["busy"],
            }
        )
    )


if __name__ == "__main__":
    main()
