"""Benchmark: what a station's pulls cost the service's process, in CPU time and instructions.

The pull's companion to `push_cost.py`: in one process, on PostgreSQL, 20 enrolled stations
each holding one order's lease (as `sync_load` sets them up) take turns to pull, through
`service.sync_server.pull.pull` in a transaction of its own as the route runs it:
- a snapshot (cursor 0, one response), as `sync_load`'s stations take it, 200 at once at a
  round's start;
- a paged snapshot (every page, `pull.snapshot_page`), as a station's sync engine takes it
  when it joins or its cache is replaced;
- an incremental pull from cursor 1, which reads and resolves the feed's rows (the
  stations' claims) that concern the station.

No bare limit: no simpler program does what a pull does, so the figure has no budget. It is
for comparing two versions of the code, as `push_cost`'s count is. Not included: the HTTP
request around it and PostgreSQL's own CPU (another process).

- `cpu_ms`: this process's CPU time per pull of each kind, median of
  `--rounds` rounds, with the load average (`bench/_compare.py`).
- `--instructions`: the instructions one (snapshot + incremental pull) pair executes,
  counted by valgrind's callgrind: the bench runs itself under valgrind with `--pulls` and
  with 5x as many pairs and divides the difference (set-up cancels out). About a minute.

    python bench/pull_cost.py [--db URL] [--pulls 200] [--rounds 3] [--instructions]

PostgreSQL URL: --db, else PACKBENCH_BENCH_PG_URL, else PACKBENCH_TEST_PG_URL, else
postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring
from sqlalchemy.orm import Session, sessionmaker

from bench._compare import cores, counted_instructions, load_average, pg_url
from bench.push_cost import SimStation, enrolled_stations
from service.changes import number_changes
from service.db import make_engine, make_sessionmaker
from service.sync_server import pull
from tests.support.keyrings import MemoryKeyring
from tests.support.pg_schema import schema_url, scratch_schema

WARM_UP = 20  # pairs before any is counted: statements prepared, caches filled
INSTRUCTION_FACTOR = 5  # the second valgrind run makes this many times --pulls


KINDS = {"snapshot": 0, "paged_snapshot": 0, "incremental": 1}  # kind: cursor


def pull_once(sessions: sessionmaker[Session], station: SimStation, kind: str) -> int:
    """One pull of `station` (every page of a paged snapshot), each page in a transaction
    of its own as the route runs it; how many changes came."""
    cursor = KINDS[kind]
    if kind != "paged_snapshot":
        with sessions() as session, session.begin():
            if cursor == 0:
                pull.use_snapshot_isolation(session)
            return len(pull.pull(session, station.station_id, cursor).changes)
    brought, page = 0, pull.FIRST_PAGE
    while page is not None:
        with sessions() as session, session.begin():
            answer = pull.snapshot_page(session, station.station_id, page)
        brought += len(answer.changes)
        page = answer.next_page
    return brought


def measure(
    sessions: sessionmaker[Session], stations: list[SimStation], count: int, kind: str
) -> float:
    """CPU seconds for `count` pulls of `kind`, the stations taking turns."""
    started = time.process_time()
    brought = sum(pull_once(sessions, stations[k % len(stations)], kind) for k in range(count))
    spent = time.process_time() - started
    if brought == 0:
        raise RuntimeError(f"the {kind} pulls brought nothing: nothing measured")
    return spent


def setup(url: str) -> tuple[sessionmaker[Session], list[SimStation]]:
    """The stations, their claims numbered in the feed, and a session factory."""
    stations = enrolled_stations(url)
    sessions = make_sessionmaker(make_engine(url, pool_size=1, max_overflow=0))
    with sessions() as session:
        number_changes(session)
    return sessions, stations


def run_counted(url: str, pairs: int) -> None:
    """What valgrind runs: set-up, warm-up and `pairs` snapshot + incremental pulls."""
    sessions, stations = setup(url)
    for kind in KINDS:
        measure(sessions, stations, WARM_UP, kind)
    for k in range(pairs):
        station = stations[k % len(stations)]
        pull_once(sessions, station, "snapshot")
        pull_once(sessions, station, "incremental")


def instructions(db: str, pairs: int) -> int:
    """Instructions per (snapshot + incremental pull): callgrind's totals of two runs."""
    runs = [pairs, pairs * INSTRUCTION_FACTOR]
    args = [["--db", db, "--counted", str(n)] for n in runs]
    small, large = counted_instructions(__file__, args)
    return round((large - small) / (pairs * (INSTRUCTION_FACTOR - 1)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--pulls", type=int, default=200, help="pulls of each kind per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (valgrind)"
    )
    parser.add_argument("--counted", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    base = pg_url(args.db)
    keyring.set_keyring(MemoryKeyring())
    with ExitStack() as cleanup:
        url = schema_url(base, cleanup.enter_context(scratch_schema(base, "pullcost")))
        if args.counted is not None:  # one counted run under valgrind
            run_counted(url, args.counted)
            return
        load_before = load_average()
        sessions, stations = setup(url)
        for kind in KINDS:
            measure(sessions, stations, WARM_UP, kind)
        spent: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _round in range(args.rounds):
            for kind in KINDS:
                cpu = measure(sessions, stations, args.pulls, kind)
                spent[kind].append(cpu / args.pulls * 1000)
        load_after = load_average()
    result: dict[str, Any] = {
        "bench": "pull_cost",
        "database": "postgresql",
        "stations": len(stations),
        "pulls_per_round": args.pulls,
        "rounds": args.rounds,
        "cpu_ms": {kind: round(statistics.median(v), 3) for kind, v in spent.items()},
        "cpu_ms_rounds": {kind: [round(x, 3) for x in v] for kind, v in spent.items()},
        "load_before": load_before,
        "load_after": load_after,
        "cores": cores(),
        "busy": max(load_before[0], load_after[0]) > cores(),
    }
    if args.instructions:
        result["instructions_per_pair"] = instructions(base, args.pulls // 5 or 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
