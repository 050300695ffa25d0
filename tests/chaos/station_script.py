"""A scripted packing station for the chaos test: records scans, syncs, gets SIGKILLed.

Usage: python -m tests.chaos.station_script DB SERVER_URL STATION_ID TARGET SEED [linger]

Records batches of scan events for the orders it holds leases on until its mutation
counter reaches TARGET, printing "saved <last id>" after every record() returns (that is
the moment the UI would show green), then waits for the outbox to drain and prints "done".
With "linger" it then stays up, syncing, until it is killed: a life of the chaos test never
ends on its own, whatever the machine's speed.
The token comes from the keyring (the test selects FileKeyring via PYTHON_KEYRING_BACKEND).
"""

from __future__ import annotations

import logging
import random
import sys
import time

from sqlalchemy import select

from sync.client import StationClient
from sync.engine import SyncEngine
from sync.replica import Replica
from sync.replica import tables as t
from sync.status import Backoff


def leased_orders(replica: Replica, station_id: int) -> list[tuple[int, int]]:
    with replica._engine.connect() as conn:
        rows = conn.execute(
            select(t.orders.c.id, t.orders.c.lease_epoch).where(
                t.orders.c.lease_station_id == station_id
            )
        ).all()
    return [(r.id, r.lease_epoch) for r in rows]


def main(argv: list[str]) -> int:
    db, server, station_id, target, seed = argv[:5]
    linger = argv[5:6] == ["linger"]
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    rng = random.Random(int(seed))
    replica = Replica.open(db)
    client = StationClient(server)
    engine = SyncEngine(
        replica,
        client,
        int(station_id),
        poll_interval=0.5,
        checksum_interval=5.0,
        backoff=Backoff(base=0.05, cap=1.0),
    )
    engine.start()
    print("ready", flush=True)
    orders: list[tuple[int, int]] = []
    while replica.last_mutation_id() < int(target):
        if not orders:
            orders = leased_orders(replica, int(station_id))
            if not orders:
                time.sleep(0.05)  # not pulled yet
                continue
        oid, epoch = rng.choice(orders)
        n = rng.randint(1, 6)
        ids = replica.record(
            [("scan_recorded", oid, epoch, {"code": "SKU0", "outcome": "accepted"})] * n
        )
        print(f"saved {ids[-1]}", flush=True)
        time.sleep(rng.uniform(0, 0.003))
    while replica.queue_depth():
        time.sleep(0.05)
    print("done", flush=True)
    while linger:
        time.sleep(1)
    engine.stop()
    return 0


def zygote() -> None:
    """Fork a station per request line, with everything imported once (startup in ms).

    Reads JSON lines {"args": [...], "out": path, "err": path} on stdin; answers each with
    the child's PID. Single-threaded, so forking is safe; children are reaped by SIG_IGN.
    """
    import json
    import os
    import signal
    import traceback

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            err = os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.dup2(out, 1)
            os.dup2(err, 2)
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            code = 1
            try:
                code = main(request["args"])
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        print(pid, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        zygote()
    else:
        sys.exit(main(sys.argv[1:]))
