"""Benchmark: what one push costs the service's process, in CPU time and in instructions.

`sync_load` measures a push under load: its p99 on this 2-core machine moves by 2x from one
hour to the next with whatever else the host runs, so it cannot tell a 5 % saving from
noise. This bench measures the cost the load is made of, one push at a time, in one
process: the request through the real app (`serving_app`: its middleware, dependencies,
the hand-over to a worker thread, the push handler on PostgreSQL, the JSON answer),
called as uvicorn calls it (an ASGI call on a uvloop event loop), for scans from 20
stations each holding its own order's lease, as `sync_load` pushes them. The bare limit,
interleaved in the same run: the same bodies POSTed to `bench/_bare_app.py` (FastAPI + one
INSERT + COMMIT) through the same ASGI call. Not included: uvicorn's HTTP parsing (the
same for both) and PostgreSQL's own CPU (another process).

- `cpu_ms_per_push`: this process's CPU time (user + system) per request, ours and bare,
  median of `--rounds` alternating rounds, with the load average (`bench/_compare.py`).
- `wall_ms_per_push_p50`: the median wall-clock time of one request, sent one at a time
  with nothing else running, ours and bare (`wall_ratio`): the floor under `sync_load`'s
  p50, PostgreSQL's round trips and its work included. PostgreSQL's own share of it can be
  read from the server's log with `log_min_duration_statement = 0` (parse, bind and execute
  per statement).
- `--instructions`: also the instructions one request executes, counted by valgrind's
  callgrind, which counts the same for the same code whatever else the machine does: the
  bench runs itself under valgrind with `--pushes` and with 4x as many, for ours and for the
  bare app, and divides the difference (start-up and schema set-up cancel out). About three
  minutes on two cores. Use it to compare two versions of the code.

    python bench/push_cost.py [--db URL] [--pushes 400] [--rounds 3] [--instructions]

PostgreSQL URL: --db, else PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring
from sqlalchemy.orm import sessionmaker

from bench import _bare_app, _stations
from bench._compare import Comparison, counted_instructions, pg_url
from service.api.app import serving_app
from service.db import make_engine
from service.models import Station
from service.schema import create_all
from service.sync_server import enrollment, leases
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, ClaimRequest, PushRequest
from tests.integration.sync.service_runner import enroll_code, make_orders, scan
from tests.support.keyrings import MemoryKeyring
from tests.support.pg_schema import schema_url, scratch_schema

STATIONS = 20
WARM_UP = 100  # requests before any is counted: statements prepared, caches filled
INSTRUCTION_FACTOR = 4  # the second valgrind run makes this many times --pushes
ASGIApp = Callable[..., Awaitable[None]]


class SimStation:
    """One simulated station: its token, id, leased order and next mutation id."""

    def __init__(self, token: str, station_id: int, order_id: int, epoch: int) -> None:
        self.token, self.station_id, self.order_id, self.epoch = token, station_id, order_id, epoch
        self.next_id = 1

    def body(self, *, advance: bool) -> bytes:
        """The next scan's push body (the bare app's bodies do not use up an id)."""
        mutation = scan(self.next_id, self.order_id, self.epoch)
        self.next_id += advance
        return (
            PushRequest(station_id=self.station_id, mutations=[mutation]).model_dump_json().encode()
        )


def enrolled_stations(url: str) -> list[SimStation]:
    """STATIONS stations, each enrolled and holding the lease of an order of its own."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    out = []
    for i, order_id in enumerate(make_orders(sessions, STATIONS, lines=1)):
        code = enroll_code(sessions, f"cost-{i}")
        with sessions() as s, s.begin():
            enrolled = enrollment.enroll(s, code, "bench")
        with sessions() as s, s.begin():
            station = s.get(Station, enrolled.station_id)
            assert station is not None
            lease = leases.claim_orders(s, station, ClaimRequest(order_id=order_id)).leases[0]
        out.append(SimStation(enrolled.token, enrolled.station_id, order_id, lease.epoch))
    engine.dispose()
    return out


async def post(app: ASGIApp, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:
    """One POST through `app` as uvicorn hands it over: (status, response body)."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (PROTOCOL_HEADER.lower().encode(), str(PROTOCOL_VERSION).encode()),
    ]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # uvicorn would wait for a disconnect; here a second read is a bug
            raise RuntimeError("the app read past the request body")
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def push_once(app: ASGIApp, station: SimStation, bare: bool) -> None:
    """One scan of `station` pushed to our app, or its body to the bare app's one route."""
    body = station.body(advance=not bare)
    if bare:
        status, answer = await post(app, "/bare", body, None)
    else:
        status, answer = await post(app, "/v1/sync/push", body, station.token)
        if status == 200 and b'"status":"applied"' not in answer:
            raise RuntimeError(f"push not applied: {answer[:300]!r}")
    if status != 200:
        raise RuntimeError(f"{'bare' if bare else 'push'} answered {status}: {answer[:300]!r}")


async def measure(
    app: ASGIApp,
    stations: list[SimStation],
    count: int,
    bare: bool,
    offset: int = 0,
    walls: list[float] | None = None,
) -> float:
    """CPU seconds this process spent on `count` requests, one after the other; each one's
    wall-clock milliseconds appended to `walls`."""
    started = time.process_time()
    for k in range(count):
        t0 = time.perf_counter()
        await push_once(app, stations[(offset + k) % len(stations)], bare)
        if walls is not None:
            walls.append((time.perf_counter() - t0) * 1000)
    return time.process_time() - started


def apps(url: str) -> tuple[ASGIApp, ASGIApp]:
    """Ours (as a `serve` worker builds it) and the bare app, on the same database."""
    os.environ["PACKBENCH_DB_URL"] = url
    _bare_app.prepare(url)
    return serving_app(url), _bare_app.app_factory()


def run_counted(url: str, only: str, pushes: int) -> None:
    """What valgrind runs: set-up, warm-up and `pushes` requests of one kind, nothing else."""
    stations = enrolled_stations(url)
    ours, bare = apps(url)
    app = bare if only == "bare" else ours

    async def go() -> None:
        await measure(app, stations, WARM_UP, only == "bare")
        await measure(app, stations, pushes, only == "bare", offset=WARM_UP)

    _stations.run(go())


def instructions(db: str, pushes: int) -> dict[str, float]:
    """Instructions per request, ours and bare: callgrind's totals of two runs each."""
    runs = [(kind, n) for kind in ("ours", "bare") for n in (pushes, pushes * INSTRUCTION_FACTOR)]
    args = [["--db", db, "--only", kind, "--pushes", str(n)] for kind, n in runs]
    totals = dict(zip(runs, counted_instructions(__file__, args), strict=True))
    extra = pushes * (INSTRUCTION_FACTOR - 1)
    per = {
        kind: (totals[(kind, pushes * INSTRUCTION_FACTOR)] - totals[(kind, pushes)]) / extra
        for kind in ("ours", "bare")
    }
    return {
        "ours": round(per["ours"]),
        "bare": round(per["bare"]),
        "ratio": round(per["ours"] / per["bare"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--pushes", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="ours/bare alternations")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    parser.add_argument("--only", choices=("ours", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    base = pg_url(args.db)
    keyring.set_keyring(MemoryKeyring())
    with ExitStack() as cleanup:
        url = schema_url(base, cleanup.enter_context(scratch_schema(base, "cost")))
        if args.only:  # one counted run under valgrind
            run_counted(url, args.only, args.pushes)
            return
        stations = enrolled_stations(url)
        ours, bare = apps(url)
        comparison = Comparison("push CPU ms a request, one process", lower_is_better=True)
        spent: dict[str, list[float]] = {"ours": [], "bare": []}
        walls: dict[str, list[float]] = {"ours": [], "bare": []}

        async def rounds() -> None:
            await measure(ours, stations, WARM_UP, False)
            await measure(bare, stations, WARM_UP, True)
            for r in range(args.rounds):
                for kind, app in (("ours", ours), ("bare", bare)):
                    cpu = await measure(
                        app, stations, args.pushes, kind == "bare", r * args.pushes, walls[kind]
                    )
                    spent[kind].append(cpu / args.pushes * 1000)

        _stations.run(rounds())
    ms = {kind: round(statistics.median(v), 3) for kind, v in spent.items()}
    wall = {kind: round(statistics.median(v), 3) for kind, v in walls.items()}
    result: dict[str, Any] = {
        "bench": "push_cost",
        "database": "postgresql",
        "stations": STATIONS,
        "pushes_per_round": args.pushes,
        "rounds": args.rounds,
        "cpu_ms_per_push": ms,
        "cpu_ms_rounds": {kind: [round(x, 3) for x in v] for kind, v in spent.items()},
        # One request at a time with nothing else running: the floor under sync_load's p50,
        # PostgreSQL's round trips and work included.
        "wall_ms_per_push_p50": wall,
        "wall_ratio": round(wall["ours"] / wall["bare"], 3),
        "compare": comparison.result(ms["ours"], ms["bare"]),
    }
    if args.instructions:
        result["instructions_per_push"] = instructions(base, args.pushes)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
