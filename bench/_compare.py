"""What every bench shares: its bare limit measured in the same run, and the machine's load.

A figure alone cannot be judged: the same code is 2x slower on a machine that is busy with
something else. So each bench runs the bare limit of what it measures (one SQLite commit,
a bulk SQLite insert, a FastAPI app that does one INSERT) in the same run, interleaved with
its own rounds, and reports ours, the limit, their ratio and the load average before and
after, with `busy: true` when the 1-minute load exceeded the cores: such a figure says
little about the code.

    from _compare import Comparison
    cmp = Comparison("push p99 ms", lower_is_better=True)
    ... rounds, alternating ours / the limit ...
    result["compare"] = cmp.result(ours=..., limit=...)

Bare limits here: `sqlite_commit_ms` (one INSERT+COMMIT, WAL, synchronous=FULL),
`sqlite_bulk_insert_s` (N documents in one transaction), and `bench/_bare_app.py` (a
FastAPI app whose one route does one INSERT + COMMIT on the same database).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def pg_url(given: str | None = None) -> str:
    """The PostgreSQL a bench runs on: `given` (its --db), else PACKBENCH_BENCH_PG_URL, else
    PACKBENCH_TEST_PG_URL, else the local test database."""
    return (
        given
        or os.environ.get("PACKBENCH_BENCH_PG_URL")
        or os.environ.get("PACKBENCH_TEST_PG_URL")
        or DEFAULT_PG
    )


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class Comparison:
    """One figure of ours against its bare limit, with the load recorded around both."""

    def __init__(self, figure: str, *, lower_is_better: bool) -> None:
        self.figure = figure
        self.lower_is_better = lower_is_better
        self.load_before = load_average()
        self.started = time.monotonic()

    def result(
        self, ours: float, limit: float, *, budget_ratio: float | None = None
    ) -> dict[str, Any]:
        """The JSON block: ours, the limit, ours/limit, the load, and whether it was busy.

        `ratio` is always ours / limit; for a time (lower is better) 2.0 means twice as slow
        as the limit, for a rate (higher is better) 0.5 means half its rate. `within_ratio`
        says whether the ratio meets `budget_ratio` (a ceiling for times, a floor for rates).
        """
        after = load_average()
        n = cores()
        ratio = round(ours / limit, 3) if limit else None
        out: dict[str, Any] = {
            "figure": self.figure,
            "ours": round(ours, 4),
            "limit": round(limit, 4),
            "ratio": ratio,
            "lower_is_better": self.lower_is_better,
            "load_before": self.load_before,
            "load_after": after,
            "cores": n,
            "busy": any(load[0] > n for load in (self.load_before, after) if load),
            "seconds": round(time.monotonic() - self.started, 1),
        }
        if budget_ratio is not None:
            out["budget_ratio"] = budget_ratio
            out["within_ratio"] = ratio is not None and (
                ratio <= budget_ratio if self.lower_is_better else ratio >= budget_ratio
            )
        return out


def busy(*blocks: dict[str, Any]) -> bool:
    """Whether any comparison of a bench ran on a busy machine."""
    return any(b.get("busy") for b in blocks)


class SqliteCommit:
    """The scan path's floor: one small INSERT + COMMIT in WAL mode, synchronous=FULL."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, body TEXT)")
        self.body = '{"type":"scan_recorded","code":"4006381333931","outcome":"accepted"}'

    def once_ms(self) -> float:
        """One durable commit, timed (ms)."""
        t0 = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO bare (body) VALUES (?)", (self.body,))
        self.conn.execute("COMMIT")
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        self.conn.close()


def sqlite_commit_ms(path: Path, n: int) -> list[float]:
    """`n` timed one-row durable commits into a fresh SQLite file at `path`."""
    bare = SqliteCommit(path)
    try:
        return [bare.once_ms() for _ in range(n)]
    finally:
        bare.close()


def sqlite_bulk_insert_s(path: Path, docs: list[str]) -> float:
    """Seconds to write `docs` (JSON text) into a fresh SQLite file in one durable
    transaction: the floor under applying a pull of that many documents."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO docs (id, data) VALUES (?, ?)", enumerate(docs, 1))
        conn.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        conn.close()


class CpuUse:
    """CPU seconds spent by each kind of process while a round runs (Linux /proc).

    `start()` before the clients start and `stop()` after they finish; `per_call_ms(n)`
    then says how many milliseconds of CPU each of n requests cost, split by who spent it:
    the measured server's processes (`service`), their nicer children (`background`, the
    webhook inbox's applier), PostgreSQL's processes (`postgres`), this bench process and
    its other children (the clients, `clients`) and everything else on the machine, idle
    servers in `idle_servers` included (`other`). That is where a ratio against the bare app
    comes from. Empty on a system without /proc.
    """

    def __init__(self, server_pid: int, idle_servers: tuple[int, ...] = ()) -> None:
        self.server_pid = server_pid
        self.idle_servers = idle_servers
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    @staticmethod
    def _below(root: int, parents: dict[int, int]) -> set[int]:
        """`root` and every process below it, whatever the depth (uvicorn's workers)."""
        under = {root}
        grew = True
        while grew:
            grew = False
            for pid, ppid in parents.items():
                if ppid in under and pid not in under:
                    under.add(pid)
                    grew = True
        return under

    def _sample(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        procs: dict[int, tuple[int, int, str, float]] = {}  # pid -> ppid, nice, name, seconds
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                raw = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            spent = int(fields[11]) + int(fields[12])
            if int(entry.name) == os.getpid():  # with its children that ended (client procs)
                spent += int(fields[13]) + int(fields[14])
            seconds = spent / tick
            procs[int(entry.name)] = (int(fields[1]), int(fields[16]), name, seconds)
        parents = {pid: ppid for pid, (ppid, _, _, _) in procs.items()}
        served = self._below(self.server_pid, parents)
        idle = set().union(*(self._below(pid, parents) for pid in self.idle_servers))
        mine = self._below(os.getpid(), parents) - served - idle
        base_nice = procs.get(self.server_pid, (0, 0, "", 0.0))[1]
        out = {"service": 0.0, "background": 0.0, "postgres": 0.0, "clients": 0.0, "other": 0.0}
        for pid, (_, nice, name, seconds) in procs.items():
            if pid in served:
                kind = "background" if nice > base_nice else "service"
            elif pid in mine:
                kind = "clients"
            elif name.startswith("postgres"):
                kind = "postgres"
            else:
                kind = "other"
            out[kind] += seconds
        return out

    def start(self) -> None:
        if Path("/proc/self/stat").exists():
            self.before = self._sample()

    def stop(self) -> None:
        if self.before:
            after = self._sample()
            # A process that ended in the round drops out of `after`: never below zero.
            self.spent = {k: max(0.0, after[k] - self.before[k]) for k in after}

    @staticmethod
    def mean(rounds: list[dict[str, float]]) -> dict[str, float]:
        """The mean of several rounds' per_call_ms() (rounds without figures left out)."""
        measured = [r for r in rounds if r]
        if not measured:
            return {}
        return {k: round(sum(r[k] for r in measured) / len(measured), 3) for k in measured[0]}

    def per_call_ms(self, calls: int) -> dict[str, float]:
        if not self.spent or calls <= 0:
            return {}
        out = {k: round(v * 1000 / calls, 3) for k, v in self.spent.items()}
        out["total"] = round(sum(self.spent.values()) * 1000 / calls, 3)
        return out


def counted_instructions(script: str, runs: list[list[str]]) -> list[int]:
    """The instructions `script` executes when run with each argument list, counted by
    valgrind's callgrind (the same count whatever else the machine does), the runs spread
    over the cores. A bench divides the difference of two runs by the work between them:
    start-up and set-up cancel out."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
    with tempfile.TemporaryDirectory() as tmp:

        def one(k: int) -> int:
            out = Path(tmp) / f"run-{k}.out"
            cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
            done = subprocess.run(
                [*cmd, script, *runs[k]], capture_output=True, text=True, check=False
            )
            if done.returncode != 0 or not out.exists():
                raise RuntimeError(f"valgrind run {runs[k]} failed:\n{done.stderr[-2000:]}")
            found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
            if found is None:
                raise RuntimeError(f"no instruction total for the run {runs[k]}")
            return int(found.group(1))

        with ThreadPoolExecutor(max(1, cores())) as pool:
            return list(pool.map(one, range(len(runs))))
