"""Benchmark: scan bytes in -> durable verdict on screen, over the station's real path.

One process, real parts: a PtyScanner (tests/support) writes `<EAN-13>\\r` to a pty; the
station's `serial://` scanner source reads it on its own thread; the DeviceBridge queues the
Scan to the GUI thread; StationWindow.on_scan -> StationRuntime.handle_scan -> PackSession
-> ReplicaStore.record (outbox + mutation log, one IMMEDIATE transaction, synchronous=FULL,
into a replica file holding N orders) -> session.apply -> on_change -> StationWindow.show_model
(offscreen). t0 is taken just before the pty write, t1 when show_model has returned with the
new banner text. Prints one JSON object.

The bench order (100 lines x 25 units) is pre-leased to this station in the replica, so no
claim (network) is involved. Scans go round-robin over the lines, so consecutive codes always
differ; the scanner URL also sets `blanking_ms=0&double_scan_ms=0` so the guard never flags a
read (a bench fires scans every few ms, faster than any person).

Also measures Replica.order_by_code (budget 2 ms) on random numbers/totes/misses and the
station's full ReplicaStore.order_by_code of the 100-line bench order.

The bare limit runs in the same run, interleaved: after every scan's verdict, one SQLite
INSERT + COMMIT (WAL, synchronous=FULL) into a file beside the replica, timed on its own.
`compare` gives our p99, the commit's p99, the ratio and the load (bench/_compare.py).
"""

from __future__ import annotations

import argparse
import cProfile
import faulthandler
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import _replica_fill  # noqa: E402
from _compare import Comparison, SqliteCommit, percentile  # noqa: E402

# The target: p99 <= 4 ms at 100k cached orders, of which the one durable commit
# is ~0.3 ms on a quiet machine. When the machine is busy (load above the cores) the commit
# alone can take 10 ms at p99; then the part that is ours, p99 minus the bare commit's p99
# in the same run, is what is judged, and the output says so.
BUDGET_SCAN_P99_MS = 4.0
BUDGET_ABOVE_COMMIT_MS = 3.7
BUDGET_LOOKUP_P99_MS = 2.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""


class _FakeClaims:
    """Grants at once; unused while the bench order is pre-leased."""

    def claim_order(self, order_id: int) -> Any:
        from app.station.ports import LeaseRecord

        return LeaseRecord(_replica_fill.STATION_ID, _replica_fill.STATION_NAME, 3, None)


class _FakeLabels:
    def __init__(self) -> None:
        self.jobs = 0

    def print_label(self, order: Any, box_no: int, box_count: int, grams: int) -> int:
        self.jobs += 1
        return self.jobs

    def reprint_label(self, order: Any, box_no: int, by_user: int, reason: str) -> int:
        self.jobs += 1
        return self.jobs


class Stages:
    """Per-scan time spent in each stage of the path, by wrapping the real functions.

    The wrappers sit on the classes and module functions the station really calls (nothing
    is replaced, only timed), so the breakdown is of the same run as the end-to-end figure.
    A stage may run on the reader thread (`read`, `parse`); the others on the GUI thread.
    Wrapping costs about a microsecond per call, which the end-to-end figure includes.
    """

    # (stage, what it is) in path order; `rest` is the end-to-end time no stage accounts for.
    ORDER = (
        ("read", "pty write -> bytes framed on the reader thread"),
        ("parse", "frame -> Scan (classify, GTIN check)"),
        ("deliver", "guard + queued Qt signal -> GUI thread's on_scan"),
        ("step", "PackSession.scan, catalogue lookup excluded"),
        ("catalog", "product lookup in the replica (by GTIN/SKU/alias)"),
        ("validate", "event payloads validated + JSON (record, before the transaction)"),
        ("commit", "durable write: BEGIN IMMEDIATE, INSERTs, COMMIT (WAL, FULL)"),
        ("model", "screen model: order_parts, queue depth, instruction, log line"),
        ("queue_depth", "outbox depth for the status bar (part of model)"),
        ("show", "StationWindow.show_model (Qt widgets updated)"),
        ("after", "after the verdict: capture/labels check, auto-complete check"),
        ("paint", "banner repaint, forced synchronously after the verdict"),
        ("rest", "end to end minus the stages above (dispatch, bench bookkeeping)"),
        ("gc", "Python's cyclic garbage collector (inside the stages above, not added)"),
    )
    OVERLAYS = ("queue_depth", "gc")  # reported, but already inside another stage

    def __init__(self) -> None:
        self.cur: dict[str, float] = {}
        self.marks: dict[str, float] = {}
        self.rows: list[dict[str, float]] = []
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str, stage: str, *, exclusive_of: str = "") -> None:
        """Time every call of owner.name into `stage` (minus time spent in `exclusive_of`)."""
        original = getattr(owner, name)
        own = name in vars(owner)
        cur = self.cur
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            inner0 = cur.get(exclusive_of, 0.0) if exclusive_of else 0.0
            t0 = clock()
            try:
                return original(*args, **kwargs)
            finally:
                spent = clock() - t0
                if exclusive_of:
                    spent -= cur.get(exclusive_of, 0.0) - inner0
                cur[stage] = cur.get(stage, 0.0) + spent

        setattr(owner, name, timed)
        self._undo.append((owner, name, original if own else None))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            if original is None:
                delattr(owner, name)  # it was inherited (or a bound method): unshadow it
            else:
                setattr(owner, name, original)
        self._undo.clear()

    def start(self) -> None:
        self.cur.clear()
        self.marks.clear()

    def gc_callback(self, phase: str, _info: dict[str, Any]) -> None:
        """gc.callbacks hook: time spent collecting, whichever thread it stopped."""
        if phase == "start":
            self.marks["gc"] = time.perf_counter()
        elif "gc" in self.marks:
            self.cur["gc"] = self.cur.get("gc", 0.0) + time.perf_counter() - self.marks.pop("gc")

    def finish(self, total_s: float, keep: bool) -> None:
        row = {k: v * 1000 for k, v in self.cur.items()}
        # model as shown by _show is inclusive of show, queue depth is reported inside model
        row["model"] = row.get("model", 0.0) - row.get("show", 0.0)
        row["commit"] = row.get("commit", 0.0) - row.get("validate", 0.0)
        row["step"] = row.get("step", 0.0) - row.get("catalog", 0.0)
        accounted = sum(v for k, v in row.items() if k not in self.OVERLAYS)
        row["rest"] = max(0.0, total_s * 1000 - accounted)
        if keep:
            self.rows.append(row)

    def table(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for stage, what in self.ORDER:
            values = [r.get(stage, 0.0) for r in self.rows]
            if not values:
                continue
            out[stage] = {
                "p50_ms": round(statistics.median(values), 3),
                "p99_ms": round(_pct(values, 0.99), 3),
                "mean_ms": round(statistics.fmean(values), 3),
                "what": what,
            }
        return out


def print_breakdown(result: dict[str, Any], out: Any = sys.stderr) -> None:
    """The breakdown as a table a person reads (stderr; stdout stays one JSON object)."""
    cmp = result["compare"]
    print(
        f"scan -> verdict at {result['orders_cached']:,} cached orders, {result['scans']} scans:"
        f" p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        f" (painted: p99 {result['painted_p99_ms']} ms);"
        f" bare commit p50 {result['bare_commit_p50_ms']} ms, p99 {cmp['limit']} ms,"
        f" ratio {cmp['ratio']}; ours above the commit (p99) {result['above_commit_p99_ms']} ms;"
        f" within budget: {result['within_budget']} ({result['judged_by']});"
        f" load {cmp['load_before']} -> {cmp['load_after']}{' BUSY' if cmp['busy'] else ''}",
        file=out,
    )
    print(f"  {'stage':<12} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}  what", file=out)
    for stage, row in result["breakdown"].items():
        print(
            f"  {stage:<12} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} {row['mean_ms']:>8.3f}"
            f"  {row['what']}",
            file=out,
        )


def lookups(replica: Any, store: Any, filled: Any, n: int) -> dict[str, Any]:
    """order_by_code p50/p99 (ms) on hits by number, by tote, and misses."""
    rng = random.Random(3)
    codes = []
    for i in range(n):
        kind = i % 4
        if kind in (0, 1):
            codes.append(rng.choice(filled.order_numbers_sample))
        elif kind == 2 and filled.totes_sample:
            codes.append(rng.choice(filled.totes_sample))
        else:
            codes.append(f"ORD-{rng.randint(9_000_000, 9_900_000)}")  # not cached
    for code in codes[:200]:
        replica.order_by_code(code)
    times = []
    for code in codes:
        t0 = time.perf_counter()
        replica.order_by_code(code)
        times.append((time.perf_counter() - t0) * 1000)
    store_times = []
    for _ in range(max(5, n // 100)):
        t0 = time.perf_counter()
        store.order_by_code(filled.bench_order_number)
        store_times.append((time.perf_counter() - t0) * 1000)
    return {
        "lookup_n": n,
        "lookup_p50_ms": round(statistics.median(times), 3),
        "lookup_p99_ms": round(_pct(times, 0.99), 3),
        "lookup_max_ms": round(max(times), 3),
        # What the station does on an order scan: lookup + one product query per line.
        "store_open_100_lines_p50_ms": round(statistics.median(store_times), 2),
        "store_open_100_lines_max_ms": round(max(store_times), 2),
    }


def run(
    orders: int,
    scans: int,
    warmup: int,
    gap_ms: float,
    work: Path,
    max_s: float,
    station_logging: bool = True,
) -> dict[str, Any]:
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication

    import app.scanning.serial_source as serial_source
    import sync.replica.store as replica_module
    from app.bridge import DeviceBridge
    from app.logs import setup_logging
    from app.packing.session import PackSession
    from app.scanning.source import open_scanner
    from app.station.replica_store import ReplicaCatalog, ReplicaStore
    from app.station.runtime import StationRuntime
    from app.views.main_window import StationWindow
    from sync.replica import Replica
    from tests.support.serial_scanner import PtyScanner

    db = work / "station.sqlite3"
    if station_logging:
        setup_logging(work / "logs")  # as the station runs: INFO to a rotating file
    comparison = Comparison("scan -> verdict p99 ms", lower_is_better=True)
    bare = SqliteCommit(work / "bare.sqlite3")
    bare_ms: list[float] = []
    replica = Replica.open(db)
    t_fill = time.perf_counter()
    filled = _replica_fill.fill(replica, orders)
    fill_s = time.perf_counter() - t_fill
    store = ReplicaStore(replica, _replica_fill.STATION_ID)
    lookup = lookups(replica, store, filled, 2000 if scans >= 1000 else 200)

    qt = QApplication.instance() or QApplication(sys.argv[:1])
    bridge = DeviceBridge()
    runtime = StationRuntime(
        store, _FakeClaims(), _FakeLabels(), bridge.run_in_background, lambda _m: None
    )
    window = StationWindow(runtime, "bench", store.batches)
    window.resize(1366, 768)
    window.show()

    banner = window.pack.banner
    state: dict[str, Any] = {"t0": 0.0, "shown": 0.0, "text": banner.text(), "tone": ""}
    done = threading.Event()

    def timed_show(model: Any) -> None:
        window.show_model(model)  # looked up per call: the breakdown times it
        state["shown"] = time.perf_counter()

    runtime.on_change = timed_show
    stages = Stages()
    marks = stages.marks
    original_frame_to_scan = serial_source.frame_to_scan

    def timed_frame_to_scan(*args: Any, **kwargs: Any) -> Any:
        marks["framed"] = time.perf_counter()
        try:
            return original_frame_to_scan(*args, **kwargs)
        finally:
            marks["parsed"] = time.perf_counter()

    serial_source.frame_to_scan = timed_frame_to_scan  # type: ignore[assignment]
    for name in ("by_gtin14", "by_code", "code_containing"):
        stages.wrap(ReplicaCatalog, name, "catalog")
    stages.wrap(PackSession, "scan", "step")
    stages.wrap(replica_module, "_payload", "validate")
    stages.wrap(ReplicaStore, "record", "commit")
    stages.wrap(ReplicaStore, "queue_depth", "queue_depth")
    stages.wrap(StationRuntime, "_show", "model")
    stages.wrap(window, "show_model", "show")
    stages.wrap(StationRuntime, "_after_state_change", "after")
    stages.wrap(StationRuntime, "_finish_if_complete", "after")
    painted: list[float] = []
    profiler = cProfile.Profile() if os.environ.get("PB_BENCH_PROFILE") else None
    gc.callbacks.append(stages.gc_callback)
    latencies: list[float] = []
    tones: dict[str, int] = {}
    failures: list[str] = []

    def on_scan(scan: Any) -> None:
        t_gui = time.perf_counter()
        state["shown"] = 0.0
        if profiler is not None:
            profiler.enable()
        window.on_scan(scan)
        if profiler is not None:
            profiler.disable()
        t1 = state["shown"]
        t_back = time.perf_counter()
        window.pack.banner.repaint()  # the verdict's pixels, now rather than at the next idle
        paint = time.perf_counter() - t_back
        text = window.pack.banner.text()
        if len(latencies) > 0 and (not t1 or text == state["text"]):
            failures.append(f"banner unchanged after {scan.text!r}: {text!r}")
        state["text"] = text
        latencies.append((t1 or t_back) - state["t0"])
        painted.append(t_back + paint - state["t0"])
        cur = stages.cur
        cur["paint"] = paint
        framed, parsed = marks.get("framed", state["t0"]), marks.get("parsed", t_gui)
        cur["read"] = framed - state["t0"]
        cur["parse"] = parsed - framed
        cur["deliver"] = t_gui - parsed
        stages.finish(painted[-1], keep=len(latencies) > 2 + warmup)
        if os.environ.get("PB_BENCH_TRACE"):
            print(len(latencies), scan.text, round(latencies[-1] * 1000, 1), file=sys.stderr)
        tone = runtime.model.tone
        tones[tone] = tones.get(tone, 0) + 1
        done.set()

    bridge.scan.connect(on_scan)

    class _Quit(QObject):
        quit = Signal()  # emitted from the driver thread, delivered queued on the GUI thread

    quitter = _Quit()
    quitter.quit.connect(qt.quit)
    pty = PtyScanner(work)
    scanner = open_scanner(f"serial://{pty.path}?suffix=CR&blanking_ms=0&double_scan_ms=0")
    ready = threading.Event()

    def on_status(status: Any) -> None:
        bridge.device_status.emit(status)
        if "ready" in status.message:
            ready.set()

    scanner.start(bridge.scan.emit, on_status)
    codes = list(filled.bench_codes)
    script = [b"BADGE-P001", filled.bench_order_number.encode()]
    script += [codes[i % len(codes)].encode() for i in range(warmup + scans)]
    result: dict[str, Any] = {}

    def drive() -> None:
        try:
            if not ready.wait(10):
                failures.append("scanner never became ready")
                return
            stop_at = time.perf_counter() + max_s
            for i, code in enumerate(script):
                if time.perf_counter() > stop_at:
                    failures.append(f"stopped after {max_s:.0f} s: {i} of {len(script)} scans")
                    return
                done.clear()
                time.sleep(gap_ms / 1000)
                stages.start()
                state["t0"] = time.perf_counter()
                pty.send(code + b"\r")
                if not done.wait(60):
                    failures.append(f"no verdict for scan {i} {code!r}")
                    return
                if i >= 2 + warmup:
                    bare_ms.append(bare.once_ms())  # the limit, between two of our scans
        finally:
            quitter.quit.emit()

    driver = threading.Thread(target=drive, name="bench driver", daemon=True)
    wall0 = time.perf_counter()
    driver.start()
    qt.exec()
    if profiler is not None:  # PB_BENCH_PROFILE=FILE: the GUI thread's share, for pstats
        profiler.dump_stats(os.environ["PB_BENCH_PROFILE"])
    wall = time.perf_counter() - wall0
    driver.join(5)
    stages.undo()
    gc.callbacks.remove(stages.gc_callback)
    serial_source.frame_to_scan = original_frame_to_scan  # type: ignore[assignment]
    scanner.stop()
    pty.close()
    window.close()
    measured = [x * 1000 for x in latencies[2 + warmup :]] or [x * 1000 for x in latencies[2:]]
    queue_depth = store.queue_depth()
    replica.close()
    if not measured:
        raise SystemExit(f"no scans measured: {failures[:3]}")
    p99 = _pct(measured, 0.99)
    painted_ms = [x * 1000 for x in painted[2 + warmup :]] or [x * 1000 for x in painted[2:]]
    bare.close()
    bare_p99 = percentile(bare_ms, 0.99)
    compare = comparison.result(p99, bare_p99)
    above = p99 - bare_p99
    judged_by = "above the bare commit (busy machine)" if compare["busy"] else "absolute p99"
    within = p99 <= BUDGET_SCAN_P99_MS or (compare["busy"] and above <= BUDGET_ABOVE_COMMIT_MS)
    green = runtime.model.tone
    result = {
        "bench": "scan_latency",
        "orders_cached": filled.orders,
        "products_cached": filled.products,
        "order_lines": len(codes),
        "line_qty": filled.bench_qty,
        "scans": len(measured),
        "warmup_scans": warmup,
        "gap_between_scans_ms": gap_ms,
        "guard": "blanking_ms=0&double_scan_ms=0 (and codes alternate)",
        "tones": tones,
        "last_tone": green,
        "outbox_depth_after": queue_depth,
        "p50_ms": round(statistics.median(measured), 2),
        "p90_ms": round(_pct(measured, 0.90), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(measured), 2),
        "painted_p50_ms": round(statistics.median(painted_ms), 2),
        "painted_p99_ms": round(_pct(painted_ms, 0.99), 2),
        "breakdown": stages.table(),
        "station_logging": station_logging,
        "budget_p99_ms": BUDGET_SCAN_P99_MS,
        "bare_commit_p50_ms": round(percentile(bare_ms, 0.5), 3),
        "bare_commit_p99_ms": round(bare_p99, 3),
        "above_commit_p99_ms": round(above, 2),
        "budget_above_commit_ms": BUDGET_ABOVE_COMMIT_MS,
        "judged_by": judged_by,
        "within_budget": within,
        **lookup,
        "budget_lookup_p99_ms": BUDGET_LOOKUP_P99_MS,
        "fill_s": round(fill_s, 1),
        "run_s": round(wall, 1),
        "db_mb": round(db.stat().st_size / 1e6, 1),
        "failures": failures[:5],
        "loadavg": _loadavg(),
        "compare": compare,
        "busy": compare["busy"],
    }
    result["ok"] = bool(
        not failures
        and within
        and result["lookup_p99_ms"] <= BUDGET_LOOKUP_P99_MS
        and tones.get("red", 0) == 0
    )
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--scans", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--gap-ms", type=float, default=5.0, help="pause before each pty write")
    p.add_argument("--max-seconds", type=float, default=300, help="stop scanning after this")
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test): 500 orders")
    p.add_argument(
        "--no-station-logging",
        action="store_true",
        help="skip the station's INFO log file (on by default, as a real station runs)",
    )
    p.add_argument("--table", action="store_true", help="also print the breakdown to stderr")
    args = p.parse_args(argv)
    if args.quick:
        args.orders, args.scans, args.warmup = 300, 20, 2
        args.max_seconds = min(args.max_seconds, 4)
    faulthandler.dump_traceback_later(args.max_seconds + 600, exit=True)
    with tempfile.TemporaryDirectory(prefix="pb-scan-bench-") as tmp:
        out = run(
            args.orders,
            args.scans,
            args.warmup,
            args.gap_ms,
            Path(tmp),
            args.max_seconds,
            station_logging=not args.no_station_logging,
        )
    if args.table:
        print_breakdown(out)
    return out


if __name__ == "__main__":
    out = main()
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)
