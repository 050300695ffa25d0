"""Scale benchmark: frame-to-callback latency and polling CPU, on a pty emulator.

Latency: from the moment the emulator writes the last part of a stable MT-SICS frame to the
moment `BoxWeighing` accepts that reading inside the poller's callback. CPU: CPU seconds
used by the polling thread per wall second at the default 100 ms interval.
Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.weighing import BoxWeighing, ScalePoller, ScaleReading
from app.weighing.mtsics import MtSicsScale
from tests.support.scale_emulators import MtSicsEmulator

BUDGET_P99_MS = 5.0
SAMPLES = 400
CPU_WINDOW_S = 3.0


def measure_latency(emu: MtSicsEmulator) -> list[float]:
    """Poll fast; each accepted reading's latency in ms, re-weighing after every accept."""
    latencies: list[float] = []
    done = threading.Event()
    box = BoxWeighing()
    box.start(1, at=time.monotonic())

    def on_reading(reading: ScaleReading) -> None:
        outcome = box.feed(reading)
        if outcome.newly_accepted:
            latencies.append((time.perf_counter() - emu.last_answer_at) * 1000)
            box.reweigh(at=time.monotonic())
            if len(latencies) >= SAMPLES:
                done.set()

    driver = MtSicsScale(emu.port, timeout_s=0.5)
    driver.open()
    poller = ScalePoller(driver, on_reading, interval_s=0.005)
    poller.start()
    done.wait(60)
    poller.stop()
    return latencies


def measure_cpu(emu: MtSicsEmulator) -> float:
    """CPU seconds per wall second of the polling thread at the default interval."""
    driver = MtSicsScale(emu.port, timeout_s=0.5)
    driver.open()
    poller = ScalePoller(driver, lambda reading: None)
    started = time.monotonic()
    poller.start()
    time.sleep(CPU_WINDOW_S)
    poller.stop()
    return poller.cpu_seconds / (time.monotonic() - started)


def main() -> None:
    """Run both measurements and print the JSON figures."""
    with MtSicsEmulator(weight=Decimal("812.4")) as emu:
        latencies = measure_latency(emu)
    with MtSicsEmulator(weight=Decimal("812.4")) as emu:
        cpu = measure_cpu(emu)
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = statistics.median(latencies), cuts[98]
    print(
        json.dumps(
            {
                "bench": "scale",
                "protocol": "MT-SICS over pty",
                "samples": len(latencies),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "max_ms": round(max(latencies), 3),
                "budget_p99_ms": BUDGET_P99_MS,
                "poll_interval_s": 0.1,
                "cpu_per_s": round(cpu, 5),
                "ok": p99 <= BUDGET_P99_MS and len(latencies) == SAMPLES,
            }
        )
    )


if __name__ == "__main__":
    main()
