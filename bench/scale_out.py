"""Benchmark: what one more service machine adds, on one PostgreSQL.

Each service "machine" is a `packbench` service process (uvicorn, `--workers` each) held to
`--cpus` CPUs by a cgroup quota and kept on ceil(cpus) cores of its own (bench/_cpubox.py),
so that two of them are two machines' worth of service, not two processes sharing the same
cores. PostgreSQL and this load
generator are not held: they take what is left of the host, as the database server and the
shops and stations would on their own machines. For each count in `--procs` (default 1, 2
and 3 services), on a fresh schema:

1. webhooks: `-n` signed Shopify orders/create deliveries per service from `--clients`
   threads per service, as fast as they are answered; `orders_per_s` is from the first
   delivery until the last order exists (the inboxes drained), `answered_per_s` what the
   shops saw;
2. pushes: `--stations` enrolled stations per service, each pushing one scan at a time as fast
   as it is answered, for `--push-seconds`.

Each service gets the same load (clients and stations per service, not in all): one more
machine comes with its share of the floor and the shops. With a fixed total instead, the one
service is the most overloaded and the least efficient (more deliveries queued and parsed
twice, more requests waiting in one process), which flatters the gain: in the first runs, 40
stations on one, two and three services gave 2.8x and 4.4x the pushes.

Then it checks that nothing was lost or doubled: one order per delivery, one applied
mutation per push answered "applied". The counts run in `--rounds` rounds, interleaved
(1, 2, 3, 1, 2, 3, ...), and the JSON gives each count's rates, p50/p99, `gain` (its rate
over one service's), the CPU each part used (the services from their cgroups, the rest of
the host from /proc/stat: PostgreSQL, this generator and the kernel), how often the quota
held the services back (`throttled`: a service that never hit its quota was not the limit)
and the load average. `busy: true` when the host ran out of CPU (the services' quota was
no longer what bounded them, so a further service could not add its share).

    python bench/scale_out.py                   # 0.3 CPUs a service, 1/2/3 services, 2 rounds
    python bench/scale_out.py --cpus 0.5 --procs 1,2 --rounds 1

Needs root (or a delegated cgroup tree) and the cgroup v1 cpu controller; refuses otherwise.
PostgreSQL URL: --db, else PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))

import httpx  # noqa: E402
import keyring  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench import ingest  # noqa: E402
from bench._compare import cores, load_average, percentile, pg_url  # noqa: E402
from bench._cpubox import CpuBox, CpuBoxUnavailable  # noqa: E402
from bench.site_day import claimed_stations, scan  # noqa: E402
from service.db import make_engine, make_sessionmaker  # noqa: E402
from service.models import Order, StationMutation  # noqa: E402
from sync.client import StationClient  # noqa: E402
from sync.errors import SyncError  # noqa: E402
from sync.protocol import PushRequest  # noqa: E402
from tests.support.keyrings import MemoryKeyring  # noqa: E402
from tests.support.pg_schema import schema_url, scratch_schema  # noqa: E402


def host_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole host so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is counted in user already
    return (total - idle) / tick, total / tick


class Meter:
    """CPU used over one phase: each service box, and the host as a whole."""

    def __init__(self, boxes: list[CpuBox]) -> None:
        self.boxes = boxes
        self.box0 = [b.cpu_seconds() for b in boxes]
        self.throttled0 = [b.throttled() for b in boxes]
        self.host0 = host_cpu()
        self.t0 = time.monotonic()

    def result(self) -> dict[str, Any]:
        wall = time.monotonic() - self.t0
        services = sum(b.cpu_seconds() - s for b, s in zip(self.boxes, self.box0, strict=True))
        busy, total = (a - b for a, b in zip(host_cpu(), self.host0, strict=True))
        return {
            "services_cpus": round(services / wall, 2),
            "rest_of_host_cpus": round((busy - services) / wall, 2),
            "host_idle_fraction": round(1 - busy / total, 3) if total else None,
            "throttled_periods": sum(
                b.throttled() - t for b, t in zip(self.boxes, self.throttled0, strict=True)
            ),
        }


def start_services(
    base: str, schema: str, count: int, args: argparse.Namespace, secret: str, stack: ExitStack
) -> tuple[list[str], list[CpuBox]]:
    """`count` services on the schema, each in its own CPU box; returns their URLs."""
    env = dict(os.environ, **{ingest.SECRET_ENV: secret, ingest.SCHEMA_ENV: schema})
    urls, boxes, procs = [], [], []
    for k in range(count):
        box = CpuBox(f"svc{k}", args.cpus, first_core=k * math.ceil(args.cpus))
        stack.callback(box.remove)
        port = ingest._free_port()
        cmd = [sys.executable, str(ROOT / "bench" / "ingest.py"), "--serve", base]
        cmd += ["--port", str(port), "--workers", str(args.workers)]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, preexec_fn=box.enter)
        stack.callback(ingest.stop, proc)
        procs.append(proc)
        boxes.append(box)
        urls.append(f"http://127.0.0.1:{port}")
    for url, proc in zip(urls, procs, strict=True):
        ingest.wait_ready(url, proc, timeout=300)
    return urls, boxes


ANSWERED = {(200, "created"), (202, "queued")}  # made while the shop waited, or queued


def webhooks(
    urls: list[str], url: str, schema: str, n: int, clients: int, secret: str
) -> dict[str, Any]:
    """n deliveries from `clients` threads, delivery i to service i mod len(urls)."""
    bodies = ingest._bodies(n, secret)
    https = [httpx.Client(timeout=60) for _ in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        mine, bad = [], []
        with https[k] as http:
            for i in range(k, n, clients):
                body, headers = bodies[i]
                t0 = time.perf_counter()
                try:
                    r = http.post(
                        f"{urls[i % len(urls)]}/v1/channels/shopify/bench/webhooks",
                        content=body,
                        headers=headers,
                    )
                    answer = (r.status_code, r.json().get("status"))
                    if answer not in ANSWERED:
                        bad.append(f"{r.status_code} {r.text[:150]}")
                except httpx.HTTPError as exc:
                    bad.append(f"{type(exc).__name__}: {exc}"[:200])
                mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0, started = time.perf_counter(), time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = time.perf_counter() - t0
    applied = ingest.wait_applied(url, schema) - started
    return {
        "count": n,
        "answered_per_s": round(n / answered, 1),
        "orders_per_s": round(n / applied, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def pushes(
    urls: list[str], stations: list[tuple[str, int, int, int]], seconds: float
) -> dict[str, Any]:
    """Each station pushes one scan at a time, as fast as it is answered, for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    applied = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def station(k: int, token: str, station_id: int, order_id: int, epoch: int) -> None:
        nonlocal applied
        mine, bad, next_id = [], [], 1
        client = StationClient(urls[k % len(urls)], token=token)
        try:
            while time.monotonic() < stop_at:
                m = scan(next_id, order_id, epoch)
                t0 = time.perf_counter()
                try:
                    result = client.push(PushRequest(station_id=station_id, mutations=[m]))
                    status = result.results[0]
                    if status.status == "applied":
                        next_id += 1
                    else:
                        bad.append(f"rejected: {status.reason}")
                except SyncError as exc:
                    bad.append(f"{type(exc).__name__}: {exc}"[:200])
                mine.append((time.perf_counter() - t0) * 1000)
        finally:
            client.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)
            applied += next_id - 1

    threads = [threading.Thread(target=station, args=(k, *st)) for k, st in enumerate(stations)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "count": len(latencies),
        "applied": applied,
        "per_s": round(applied / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def one_config(base: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    """`count` boxed services on a fresh schema: webhooks, then pushes, then the checks."""
    secret = secrets.token_urlsafe(24)
    with ExitStack() as stack:
        schema = stack.enter_context(scratch_schema(base, "scaleout"))
        url = schema_url(base, schema)
        ingest._prepare(base, schema)
        urls, boxes = start_services(base, schema, count, args, secret, stack)
        engine = make_engine(url, pool_size=2, max_overflow=2)
        stack.callback(engine.dispose)
        sessions = make_sessionmaker(engine)

        meter = Meter(boxes)
        n, n_stations = args.n * count, args.stations * count
        hooks = webhooks(urls, base, schema, n, args.clients * count, secret) | meter.result()

        stations = claimed_stations(urls, sessions, n_stations, "scale")
        meter = Meter(boxes)
        push = pushes(urls, stations, args.push_seconds) | meter.result()

        with sessions() as s:
            orders = s.scalar(select(func.count()).select_from(Order)) or 0
            mutations = s.scalar(select(func.count()).select_from(StationMutation)) or 0
        # One order per delivery (the stations' own orders came after), one stored mutation
        # per push answered "applied": nothing lost, nothing twice.
        hooks["orders_in_db"] = orders - n_stations
        push["mutations_in_db"] = mutations
        lost_or_doubled = hooks["orders_in_db"] != n or mutations != push["applied"]
        return {
            "services": count,
            "webhooks": hooks,
            "pushes": push,
            "consistent": not lost_or_doubled,
        }


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one service count: mean rates, worst p99, summed errors."""

    def mean(part: str, key: str) -> float:
        return round(statistics.fmean(r[part][key] for r in runs), 2)

    out: dict[str, Any] = {"services": runs[0]["services"], "rounds": len(runs)}
    for part, rate in (("webhooks", "orders_per_s"), ("pushes", "per_s")):
        out[part] = {
            rate: mean(part, rate),
            "each_round": [r[part][rate] for r in runs],
            "p50_ms": mean(part, "p50_ms"),
            "p99_ms_worst": max(r[part]["p99_ms"] for r in runs),
            "services_cpus": mean(part, "services_cpus"),
            "rest_of_host_cpus": mean(part, "rest_of_host_cpus"),
            "host_idle_fraction": mean(part, "host_idle_fraction"),
            "throttled_periods": sum(r[part]["throttled_periods"] for r in runs),
            "errors": sum(r[part]["errors"] for r in runs),
            "first_errors": [e for r in runs for e in r[part]["first_errors"]][:3],
        }
    out["webhooks"]["answered_per_s"] = mean("webhooks", "answered_per_s")
    out["consistent"] = all(r["consistent"] for r in runs)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cpus", type=float, default=0.3, help="CPUs each service may use")
    p.add_argument("--procs", default="1,2,3", help="service counts to compare")
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers per service")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("-n", type=int, default=600, help="webhooks per service")
    p.add_argument("--clients", type=int, default=4, help="webhook client threads per service")
    p.add_argument("--stations", type=int, default=12, help="pushing stations per service")
    p.add_argument("--push-seconds", type=float, default=15.0)
    p.add_argument("--db", default=None)
    args = p.parse_args()
    counts = [int(c) for c in args.procs.split(",")]
    base = pg_url(args.db)
    try:
        CpuBox("probe", args.cpus).remove()
    except CpuBoxUnavailable as exc:
        print(json.dumps({"bench": "scale_out", "ok": False, "refused": str(exc)}))
        return 2
    keyring.set_keyring(MemoryKeyring())
    load_before = load_average()
    runs: dict[int, list[dict[str, Any]]] = {c: [] for c in counts}
    for _ in range(args.rounds):
        for c in counts:
            runs[c].append(one_config(base, c, args))
    load_after = load_average()
    merged = [merge(runs[c]) for c in counts]
    one = merged[0]
    for m in merged:
        for part, rate in (("webhooks", "orders_per_s"), ("pushes", "per_s")):
            m[part]["gain"] = round(m[part][rate] / one[part][rate], 2) if one[part][rate] else None
    errors = sum(m[part]["errors"] for m in merged for part in ("webhooks", "pushes"))
    result = {
        "bench": "scale_out",
        "cpus_per_service": args.cpus,
        "workers_per_service": args.workers,
        "host_cores": cores(),
        "per_service_count": merged,
        "errors": errors,
        "consistent": all(m["consistent"] for m in merged),
        "load_before": load_before,
        "load_after": load_after,
        "busy": any(
            m[part]["host_idle_fraction"] < 0.05 for m in merged for part in ("webhooks", "pushes")
        ),
    }
    result["ok"] = not errors and result["consistent"]
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
