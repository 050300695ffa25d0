"""Benchmark: station cold start to "ready to scan", and its memory, with N orders cached.

Prepares a data dir as an enrolled station would have it after its first start: a replica
filled with N orders (bench/_replica_fill.py) with the `station_id` state set, config.toml
naming a server URL on an unreachable loopback port (the station must start offline), and
the station token in a FileKeyring (tests.support.keyrings). Then, `--runs` times, spawns

    python -m app.main --data-dir D --scanner serial://<pty> --scale sim://
        --label-printer file://D/labels?lang=zpl

with QT_QPA_PLATFORM=offscreen, measures spawn -> the "ready to scan" line in
D/logs/packbench.log, reads VmRSS from /proc/<pid>/status then and 5 s later, terminates.

`--profile` adds where the time goes: the log's own timeline (each line's offset from
spawn), the slowest imports (-X importtime, cumulative) and a cProfile of one in-process
start up to "ready to scan". Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _replica_fill  # noqa: E402

BUDGET_START_S = 2.0
BUDGET_RSS_MB = 300.0
READY = "ready to scan"


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port  # closed again: nothing listens there, connects are refused at once


def prepare(work: Path, orders: int) -> tuple[Path, dict[str, str], Any]:
    """A data dir with a filled replica, config and token; returns (dir, env, filled)."""
    from sync.replica import Replica

    data = work / "station"
    data.mkdir(parents=True)
    server = f"http://127.0.0.1:{_free_port()}"
    (data / "config.toml").write_text(
        f'version = 2\nserver_url = "{server}"\nstation_name = "{_replica_fill.STATION_NAME}"\n'
        "sounds = false\n"
    )
    keyring_file = work / "keyring.json"
    keyring_file.write_text(json.dumps({f"packbench-station\x00{server}": "bench-token"}))
    replica = Replica.open(data / "station.sqlite3")
    try:
        filled = _replica_fill.fill(replica, orders)
    finally:
        replica.close()
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "tests.support.keyrings.FileKeyring"
    env["PACKBENCH_TEST_KEYRING_FILE"] = str(keyring_file)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["QT_QPA_PLATFORM"] = "offscreen"
    return data, env, filled


def _argv(data: Path, pty: Path) -> list[str]:
    return [
        "--data-dir", str(data),
        "--scanner", f"serial://{pty}?suffix=CR",
        "--scale", "sim://",
        "--label-printer", f"file://{data / 'labels'}?lang=zpl",
    ]  # fmt: skip


def _rss_mb(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) / 1024 if found else None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def start_once(
    data: Path, env: dict[str, str], pty: Path, settle_s: float, timeout_s: float = 60
) -> dict[str, Any]:
    """One cold start: seconds to ready, RSS at ready and after `settle_s`, the log timeline."""
    log = data / "logs" / "packbench.log"
    shutil.rmtree(data / "logs", ignore_errors=True)
    err = (data.parent / "station.err").open("wb")
    wall0 = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.main", *_argv(data, pty)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    ready_s = rss_ready = rss_settled = None
    try:
        while time.perf_counter() - t0 < timeout_s and proc.poll() is None:
            if log.exists() and READY in log.read_text(encoding="utf-8", errors="replace"):
                ready_s = time.perf_counter() - t0
                rss_ready = _rss_mb(proc.pid)
                break
            time.sleep(0.005)
        if ready_s is not None:
            time.sleep(settle_s)
            rss_settled = _rss_mb(proc.pid)
    finally:
        _stop(proc)
        err.close()
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return {
        "ready_s": ready_s,
        "rss_ready_mb": rss_ready,
        "rss_settled_mb": rss_settled,
        "exit": proc.returncode,
        "timeline": _timeline(text, wall0),
        "stderr_tail": (data.parent / "station.err").read_text(errors="replace")[-400:]
        if ready_s is None
        else "",
    }


def _timeline(text: str, wall0: float) -> list[str]:
    """Each log line as '+seconds message' relative to the spawn."""
    out = []
    for line in text.splitlines():
        found = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (.*)", line)
        if not found:
            continue
        stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        out.append(f"+{stamp - wall0:.2f}s {found.group(2)[:110]}")
    return out


def importtime(data: Path, env: dict[str, str], pty: Path, top: int = 12) -> list[str]:
    """The slowest imports (cumulative µs) of one start, up to "ready to scan"."""
    errfile = data.parent / "importtime.err"
    with errfile.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "app.main", *_argv(data, pty)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        log = data / "logs" / "packbench.log"
        shutil.rmtree(data / "logs", ignore_errors=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and READY in log.read_text(encoding="utf-8", errors="replace"):
                break
            time.sleep(0.05)
        _stop(proc)
    rows = []
    for line in errfile.read_text(errors="replace").splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if found:
            rows.append((int(found.group(2)), len(found.group(3)), found.group(4)))
    # Top-level-ish packages only (depth <= 2 in importtime's tree), by cumulative time.
    rows = [r for r in rows if r[1] <= 3]
    rows.sort(reverse=True)
    return [f"{cum / 1000:.0f} ms {name}" for cum, _depth, name in rows[:top]]


_PROFILE = """
import cProfile, logging, pstats, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
class Quit(logging.Handler):
    def emit(self, record):
        if "ready to scan" in record.getMessage():
            QTimer.singleShot(0, QApplication.instance().quit)
import app.logs
_setup = app.logs.setup_logging
def setup(*a, **k):
    path = _setup(*a, **k)
    logging.getLogger().addHandler(Quit())
    return path
app.logs.setup_logging = setup
import app.launch
app.launch.setup_logging = setup
from app.main import main
prof = cProfile.Profile()
prof.enable()
try:
    main(sys.argv[2:])
finally:
    prof.disable()
    prof.dump_stats(sys.argv[1])
"""


def cprofile(data: Path, env: dict[str, str], pty: Path, top: int = 15) -> list[str]:
    """cProfile of one in-process start until "ready to scan": top functions by cumtime."""
    import pstats

    out = data.parent / "start.prof"
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            [sys.executable, "-c", _PROFILE, str(out), *_argv(data, pty)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    if not out.exists():
        return ["profile not written"]
    stats = pstats.Stats(str(out))
    rows = []
    for (file, line, name), (_cc, _nc, _tt, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>")
        rows.append((cum, f"{short}:{line}({name})"))
    rows.sort(reverse=True)
    wanted = [r for r in rows if "/app/" in r[1] or "sync/" in r[1] or "app/" in r[1]]
    return [f"{cum:.2f} s {where}" for cum, where in wanted[:top]]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--settle", type=float, default=5.0, help="seconds before the second RSS")
    p.add_argument("--profile", action="store_true", help="add importtime and cProfile")
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    args = p.parse_args(argv)
    if args.quick:
        args.orders, args.runs, args.settle = 200, 1, 0.2
    from tests.support.serial_scanner import PtyScanner

    with tempfile.TemporaryDirectory(prefix="pb-start-bench-") as tmp:
        work = Path(tmp)
        t_fill = time.perf_counter()
        data, env, filled = prepare(work, args.orders)
        fill_s = time.perf_counter() - t_fill
        pty = PtyScanner(work)
        try:
            runs = [start_once(data, env, pty.path, args.settle) for _ in range(args.runs)]
            extra: dict[str, Any] = {}
            if args.profile:
                extra["slowest_imports"] = importtime(data, env, pty.path)
                extra["cprofile_top"] = cprofile(data, env, pty.path)
        finally:
            pty.close()
        db_mb = (data / "station.sqlite3").stat().st_size / 1e6
    ready = [r["ready_s"] for r in runs if r["ready_s"] is not None]
    rss = [r["rss_ready_mb"] for r in runs if r["rss_ready_mb"] is not None]
    settled = [r["rss_settled_mb"] for r in runs if r["rss_settled_mb"] is not None]
    result: dict[str, Any] = {
        "bench": "station_start",
        "orders_cached": filled.orders,
        "db_mb": round(db_mb, 1),
        "runs": len(runs),
        "ready_s": [round(x, 2) for x in ready],
        "ready_min_s": round(min(ready), 2) if ready else None,
        "ready_median_s": round(statistics.median(ready), 2) if ready else None,
        "budget_ready_s": BUDGET_START_S,
        "rss_ready_mb": [round(x, 1) for x in rss],
        "rss_settled_mb": [round(x, 1) for x in settled],
        "rss_max_mb": round(max(rss + settled), 1) if rss else None,
        "budget_rss_mb": BUDGET_RSS_MB,
        "timeline_last_run": runs[-1]["timeline"][:25],
        "fill_s": round(fill_s, 1),
        "loadavg": _loadavg(),
        **extra,
    }
    failed = [r["stderr_tail"] for r in runs if r["ready_s"] is None]
    if failed:
        result["failed_runs"] = failed
    result["ok"] = bool(
        ready
        and not failed
        and statistics.median(ready) <= BUDGET_START_S
        and max(rss + settled) <= BUDGET_RSS_MB
    )
    return result


if __name__ == "__main__":
    out = main()
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)
