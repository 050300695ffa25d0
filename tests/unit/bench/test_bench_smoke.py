"""The station benches still run: each in its tiny `--quick` mode, as a real subprocess.

Only the shape of the output is checked (one JSON object with figures and budgets), not the
budgets themselves: those are for a quiet 2-core machine, not a busy CI runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _start(script: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), "--quick"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=90)
    assert proc.returncode in (0, 1), err[-2000:]
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    result: dict[str, object] = json.loads(lines[0])
    assert isinstance(result["ok"], bool)
    return result


def test_benches_run_in_quick_mode() -> None:
    scan, start = _start("scan_latency.py"), _start("station_start.py")  # in parallel
    s = _result(scan)
    assert s["bench"] == "scan_latency"
    assert s["scans"] and s["p99_ms"] and s["lookup_p99_ms"]
    assert s["budget_p99_ms"] == 4.0 and s["budget_lookup_p99_ms"] == 2.0
    stages = s["breakdown"]  # the per-stage breakdown accounts for the painted figure
    assert {"read", "parse", "deliver", "step", "commit", "model", "show", "paint"} <= set(stages)
    assert stages["commit"]["p50_ms"] > 0 and stages["show"]["p50_ms"] > 0
    assert s["painted_p99_ms"] >= s["p99_ms"] and s["bare_commit_p99_ms"] > 0
    assert s["outbox_depth_after"] and s["tones"]
    r = _result(start)
    assert r["bench"] == "station_start"
    assert r["ready_s"] and r["rss_ready_mb"], r
    assert r["budget_ready_s"] == 2.0 and r["budget_rss_mb"] == 300.0
