"""Chaos at the returns bench: the real station process, in returns mode with a scanner on a
pty against a real service process, is SIGKILLed at random points while a packer scans
return parcels (found by their house return label), units and dispositions.

After each kill the station is started again and the packer goes on as a person would: log
in, `PB:RETURNS`, scan the parcel's label again, and scan again only what the screen (the
station's log) never confirmed. At the end the service has every unit received exactly
once, every RMA closed, every order returned, and the stock ledger moved once per unit.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from service.batching import assign_batch
from service.db import make_sessionmaker
from service.demo import seed_demo
from service.models import (
    Batch,
    Order,
    Product,
    Return,
    ReturnUnit,
    StationMutation,
    StockMovement,
)
from service.stock.ledger import B_GRADE, MAIN, check, level
from service.sync_server.enrollment import issue_enroll_code
from service.users import create_token
from tests.conftest import _make_db, pg_url
from tests.e2e.test_returns_and_count_e2e import _ship
from tests.e2e.test_station_e2e import PackOrder, StationLog, _orders_for_station
from tests.support.printer_emulator import PrinterEmulator
from tests.support.scale_emulators import MtSicsEmulator
from tests.support.serial_scanner import PtyScanner
from tests.support.service_process import ROOT, ServiceProcess, child_env

pytestmark = pytest.mark.slow

KILL_CHANCE = float(os.environ.get("PACKBENCH_RETURN_CHAOS_KILL_CHANCE", "0.35"))
MAX_KILLS = int(os.environ.get("PACKBENCH_RETURN_CHAOS_KILLS", "10"))
# The disposition of every unit of a product (units of one SKU are interchangeable, so a
# rescanned unit gets the same disposition whichever physical unit the station counted).
COMMANDS = ("PB:RESTOCK", "PB:BGRADE:DAMAGED", "PB:WRITEOFF:WRONG-ITEM")
SAID = {
    "PB:RESTOCK": "restocked. Scan the next unit",
    "PB:BGRADE:DAMAGED": "B-grade (damaged). Scan the next unit",
    "PB:WRITEOFF:WRONG-ITEM": "written off (wrong item). Scan the next unit",
}
KIND = {
    "PB:RESTOCK": "returned_to_stock",
    "PB:BGRADE:DAMAGED": "b_grade",
    "PB:WRITEOFF:WRONG-ITEM": "written_off",
}


class Killed(Exception):
    """The station was SIGKILLed before it answered the last scan."""


@dataclass
class Parcel:
    order: PackOrder
    tracking: str  # the house return label's number the packer scans
    code: str  # its RMA
    skus: list[str]  # one per unit
    units_done: int = 0
    closed: bool = False


@dataclass
class Station:
    """The real `packbench` process, SIGKILLed at random after a scan is sent."""

    cmd: list[str]
    env: dict[str, str]
    log: StationLog
    scanner: PtyScanner
    err: Path
    rng: random.Random
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0
    starts: int = 0
    last_code: str = ""
    journal: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.scanner.unplug()  # a scan sent to the dead station is gone, as on a real bench
        self.scanner.plug()
        with self.err.open("ab") as err:
            self.proc = subprocess.Popen(
                self.cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=err
            )
        self.starts += 1
        self.log.wait_for("ready to scan", timeout=90)
        if self.starts == 1:
            self.log.wait_for("snapshot applied", timeout=60)  # the badges come with it
        self.last_code = ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(15)
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def scan(self, code: str, *expect: str, chaos: bool = True) -> str:
        """Send `code`; the log line answering it (one of `expect`). With `chaos`, the
        station may be killed at a random moment after the scan: Killed if the screen had
        not answered by then (the packer saw nothing)."""
        time.sleep(1.0 if code == self.last_code else 0.3)
        self.last_code = code
        self.scanner.send(code.encode() + b"\r")
        if chaos and self.kills < MAX_KILLS and self.rng.random() < KILL_CHANCE:
            # Half the kills land while the station is still answering (saved or not).
            time.sleep(self.rng.uniform(0.0, 0.6 if self.rng.random() < 0.5 else 0.06))
            self.kill()
            try:
                said = self._answer(expect, timeout=0.5)
            except AssertionError:
                self.journal.append(f"killed after {code}, before the screen answered")
                raise Killed(code) from None
            self.journal.append(f"killed after {code}, once the screen answered")
            return said
        return self._answer(expect, timeout=30)

    def _answer(self, expect: tuple[str, ...], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for text in expect:
                try:
                    return self.log.wait_for(text, timeout=0.05)
                except AssertionError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer among {expect}")


def _work(station: Station, parcels: list[Parcel], disposition: dict[str, str]) -> None:
    """The packer's round: until every parcel is closed, through any number of kills."""
    fresh = True
    while True:
        try:
            if fresh:
                if station.proc is None or station.proc.poll() is not None:
                    station.start()
                station.scan("BADGE-P001", "screen batches green", chaos=False)
                station.scan("PB:RETURNS", "Returns mode", chaos=False)
                fresh = False
            todo = [p for p in parcels if not p.closed]
            if not todo:
                return
            _parcel(station, todo[0], disposition)
        except Killed:
            fresh = True
        else:
            if station.proc is not None and station.proc.poll() is not None:
                fresh = True  # killed after it answered: the packer saw the answer


def _parcel(station: Station, parcel: Parcel, disposition: dict[str, str]) -> None:
    number = parcel.order.number
    # The return label's number finds the order and its RMA (once closed: the order alone).
    station.scan(
        parcel.tracking,
        f"Return of order {number} ({parcel.code})",
        f"Return of order {number} (not announced)",
    )
    if station.proc is not None and station.proc.poll() is not None:
        raise Killed(parcel.tracking)
    while parcel.units_done < len(parcel.skus):
        unit = parcel.order.items[parcel.units_done].code
        sku = parcel.skus[parcel.units_done]
        said = station.scan(
            unit, "PB:RESTOCK, PB:BGRADE or PB:WRITEOFF", "all of them are back already"
        )
        if station.proc is not None and station.proc.poll() is not None:
            raise Killed(unit)
        if "back already" in said:
            # The station counted this unit before it died without saying so; it is in.
            parcel.units_done += 1
            continue
        command = disposition[sku]
        station.scan(command, SAID[command])
        parcel.units_done += 1  # the screen said it: never scanned again
        if station.proc is not None and station.proc.poll() is not None:
            raise Killed(command)
    said = station.scan(
        "PB:CLOSE", f"Return of order {number} closed", "No unit was booked in", "No return"
    )
    parcel.closed = True
    if "closed" not in said and station.proc is not None and station.proc.poll() is None:
        # Every unit was already in and the parcel closed before the kill: leave it.
        station.scan("PB:CANCEL", "Parcel left open", chaos=False)


@pytest.fixture
def one_db(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """PostgreSQL when the tests have one (PACKBENCH_TEST_PG_URL), else SQLite."""
    yield from _make_db("pg" if pg_url() else "sqlite", tmp_path)


def test_station_killed_during_returns_loses_nothing_and_doubles_nothing(
    tmp_path: Path, one_db: tuple[str, Engine]
) -> None:
    rng = random.Random(int(os.environ.get("PACKBENCH_CHAOS_SEED", "21")))
    url, engine = one_db
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        seed_demo(s)
        station_row, enroll = issue_enroll_code(s, "returns-bench")
        for batch in s.scalars(select(Batch).where(Batch.station_id.is_(None))):
            assign_batch(s, batch.id, station_row.id, actor="chaos")
        _token, operator = create_token(s, role="operator", name="chaos")
    with sessions() as s:
        orders = [o for o in _orders_for_station(s, "returns-bench") if len(o.items) >= 2][:3]
    assert len(orders) == 3, "the demo seed should give three orders of two units or more"

    env = child_env(tmp_path / "keyring.json")
    env["QT_QPA_PLATFORM"] = "offscreen"
    data = tmp_path / "station"
    data.mkdir()
    (data / "config.toml").write_text("version = 2\noverride_requires_pin = false\n")
    started = time.monotonic()
    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        api = httpx.Client(
            base_url=service.base_url, headers={"Authorization": f"Bearer {operator}"}
        )
        with sessions() as s:
            skus = sorted({li.sku for o in orders for li in s.get(Order, o.id).lines})  # type: ignore[union-attr]
        for sku in skus:  # stock of these products is tracked from here on
            r = api.post("/v1/stock/adjustments", json={"sku": sku, "count": 10, "reason": "chaos"})
            assert r.status_code == 200, r.text
        disposition = {sku: COMMANDS[i % len(COMMANDS)] for i, sku in enumerate(skus)}
        parcels: list[Parcel] = []
        for o in orders:
            with sessions() as s, s.begin():
                units = _ship(s, o.id)
            r = api.post("/v1/returns/labels", json={"order": o.number})
            assert r.status_code == 201, r.text
            parcels.append(Parcel(o, r.json()["tracking_number"], r.json()["return_code"], units))
        with sessions() as s:
            ids = {sku: s.scalar(select(Product.id).where(Product.sku == sku)) for sku in skus}
            before = {sku: level(s, pid).on_hand for sku, pid in ids.items()}  # type: ignore[arg-type]

        enrolled = subprocess.run(
            [sys.executable, "-m", "app.main", "--data-dir", str(data), "enroll",
             "--server", service.base_url, "--code", enroll],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert enrolled.returncode == 0, enrolled.stderr
        scanner = PtyScanner(tmp_path)
        scale = MtSicsEmulator(weight=0)
        with PrinterEmulator() as printer:
            station = Station(
                [sys.executable, "-m", "app.main", "--data-dir", str(data),
                 "--scanner", f"serial://{scanner.path}?suffix=CR",
                 "--scale", f"mtsics+serial://{scale.port}",
                 "--label-printer", printer.url],
                env, StationLog(data / "logs" / "packbench.log"), scanner,
                tmp_path / "station.err", rng,
            )  # fmt: skip
            try:
                _work(station, parcels, disposition)
                _wait_synced(sessions, station_row.id, parcels)
            finally:
                station.stop()
                scanner.close()
                scale.close()
                api.close()
    elapsed = time.monotonic() - started
    db = url.split(":", 1)[0]
    print(f"return chaos on {db}: {station.kills} kills, {station.starts} starts, {elapsed:.0f} s")
    print("\n".join(station.journal))
    assert station.kills >= 1, "the chaos never killed the station; raise the kill chance"

    want: Counter[tuple[str, str]] = Counter()
    for p in parcels:
        for sku in p.skus:
            want[(sku, KIND[disposition[sku]])] += 1
    with sessions() as s:
        for p in parcels:
            rmas = s.scalars(select(Return).where(Return.order_id == p.order.id)).all()
            assert [(r.code, r.status) for r in rmas] == [(p.code, "closed")]
            units = s.scalars(
                select(ReturnUnit.sku).where(
                    ReturnUnit.return_id == rmas[0].id, ReturnUnit.disposition != "missing"
                )
            ).all()
            assert Counter(units) == Counter(p.skus), f"order {p.order.number}: each unit once"
            order = s.get(Order, p.order.id)
            assert order is not None and order.status == "returned"
        moved = Counter(
            (sku, kind)
            for sku, kind in s.execute(
                select(Product.sku, StockMovement.kind)
                .join(Product, Product.id == StockMovement.product_id)
                .where(StockMovement.kind.in_(list(KIND.values())))
            )
        )
        assert moved == want, "one stock movement per unit, none lost, none doubled"
        for sku, pid in ids.items():
            assert pid is not None
            restocked = want[(sku, "returned_to_stock")]
            assert level(s, pid, MAIN).on_hand == before[sku] + restocked
            assert level(s, pid, B_GRADE).on_hand == want[(sku, "b_grade")]
        assert check(s) == []
        statuses = Counter(
            s.scalars(
                select(StationMutation.status).where(StationMutation.station_id == station_row.id)
            )
        )
        print(f"station mutations at the service: {dict(statuses)}")
        assert set(statuses) <= {"applied", "rejected"}


def _wait_synced(sessions: object, station_id: int, parcels: list[Parcel]) -> None:
    """Until the service has every parcel's return closed (the station's outbox drained)."""
    deadline = time.monotonic() + 60
    codes = [p.code for p in parcels]
    while time.monotonic() < deadline:
        with sessions() as s:  # type: ignore[operator]
            done = s.scalar(
                select(func.count())
                .select_from(Return)
                .where(Return.code.in_(codes), Return.status == "closed")
            )
        if done == len(codes):
            time.sleep(2.0)  # and anything queued after the last close
            return
        time.sleep(0.3)
    raise AssertionError("the station's outbox never reached the service")
