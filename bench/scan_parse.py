"""Benchmark: parse and classify 100,000 mixed scans; prints one JSON object.

Scans are generated unique (random GTINs, lots, serials, garbage) so no cache can help.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.scanning.classify import classify

BUDGET_P99_MS = 0.5


def _check(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _scan(rng: random.Random) -> bytes:
    gtin13 = (p := _digits(rng, 12)) + _check(p)
    gtin14 = (q := _digits(rng, 13)) + _check(q)
    lot = "".join(rng.choice("ABCDEFGHJK0123456789") for _ in range(rng.randint(3, 12)))
    sscc = (s := _digits(rng, 17)) + _check(s)
    choices = [
        lambda: b"]E0" + gtin13.encode(),
        lambda: gtin13.encode(),
        lambda: b"]E0" + (gtin13[:-1] + str((int(gtin13[-1]) + 1) % 10)).encode(),
        lambda: f"]C101{gtin14}10{lot}\x1d17{rng.randint(24, 30)}0131".encode(),
        lambda: f"]d201{gtin14}17261130{'10'}{lot}\x1d21{_digits(rng, 8)}".encode(),
        lambda: f"]C100{sscc}".encode(),
        lambda: f"]I1{gtin14}".encode(),
        lambda: f"ORD-{rng.randint(1000, 999999)}".encode(),
        lambda: f"T-{lot}".encode(),
        lambda: b"PB:CLOSE",
        lambda: f"PBX{_digits(rng, 11)}".encode(),
        lambda: f"1Z{lot.ljust(16, '9')[:16]}".encode(),
        lambda: f"SKU-{lot}".encode(),
        lambda: f"]C101{gtin14[:7]}".encode(),  # truncated GS1
        lambda: rng.randbytes(rng.randint(1, 40)),  # garbage
    ]
    return rng.choice(choices)()


def main(n: int = 100_000) -> dict[str, object]:
    rng = random.Random(5)
    scans = [_scan(rng) for _ in range(n)]
    for raw in scans[:2000]:  # warm-up: imports, regex caches, biip tables
        classify(raw)
    # Per-scan cost is measured in thread CPU time: this machine is shared, and wall time
    # mostly measures how long other processes held the CPU. Wall p99 is reported too.
    cpu: list[int] = []
    wall: list[int] = []
    cpu_clock, wall_clock = time.thread_time_ns, time.perf_counter_ns
    for raw in scans:
        w0, c0 = wall_clock(), cpu_clock()
        classify(raw)
        cpu.append(cpu_clock() - c0)
        wall.append(wall_clock() - w0)
    cpu.sort()
    wall.sort()
    p99_index = int(len(cpu) * 0.99) - 1
    p99 = cpu[p99_index] / 1e6
    return {
        "bench": "scan_parse",
        "n": n,
        "clock": "thread_cpu",
        "p50_ms": round(statistics.median(cpu) / 1e6, 4),
        "p99_ms": round(p99, 4),
        "max_ms": round(cpu[-1] / 1e6, 3),
        "wall_p50_ms": round(statistics.median(wall) / 1e6, 4),
        "wall_p99_ms": round(wall[p99_index] / 1e6, 4),
        "budget_p99_ms": BUDGET_P99_MS,
        "ok": p99 <= BUDGET_P99_MS,
    }


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
