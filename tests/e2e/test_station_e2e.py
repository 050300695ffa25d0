"""End to end: the real `packbench` process against a real `packbench-service` process.

The station is driven only through emulated devices: a serial scanner and an MT-SICS scale on
pseudo-terminals, a Zebra printer on a loopback socket. It packs a single-item order, a
multi-item order in two boxes, holds one and gets a supervisor override on another; then the
service's own API must show the order states and the audit events.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.batching import assign_batch
from service.db import make_engine, make_sessionmaker
from service.demo import seed_demo
from service.models import Batch, Order, Product, Station
from service.schema import create_all
from service.sync_server.enrollment import issue_enroll_code
from service.users import create_token
from tests.support.printer_emulator import PrinterEmulator
from tests.support.scale_emulators import MtSicsEmulator
from tests.support.serial_scanner import PtyScanner
from tests.support.service_process import ROOT, ServiceProcess, child_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

BOX_M_GRAMS = 250


@dataclass(frozen=True)
class PackItem:
    code: str  # what the scanner sends: the product's EAN-13 (or SKU when it has no GTIN)
    grams: int


@dataclass(frozen=True)
class PackOrder:
    id: int
    number: str
    items: tuple[PackItem, ...]  # one entry per unit

    @property
    def grams(self) -> int:
        return sum(i.grams for i in self.items) + BOX_M_GRAMS


def _orders_for_station(session: Session, station: str) -> list[PackOrder]:
    """The demo orders assigned to `station` that need no serial numbers, as units to scan."""
    station_row = session.scalars(select(Station).where(Station.name == station)).one()
    batch_ids = session.scalars(select(Batch.id).where(Batch.station_id == station_row.id)).all()
    products = {p.sku: p for p in session.scalars(select(Product))}
    found = []
    for order in session.scalars(
        select(Order).where(Order.batch_id.in_(batch_ids), Order.status == "allocated")
    ):
        units: list[PackItem] = []
        for line in order.lines:
            product = products.get(line.sku)
            if product is None or product.serial_required or product.weight_grams is None:
                break
            gtin = product.gtins[0].gtin14 if product.gtins else None
            code = gtin[1:] if gtin and gtin.startswith("0") else (gtin or product.sku)
            units += [PackItem(code, product.weight_grams)] * line.quantity
        else:
            found.append(PackOrder(order.id, order.number, tuple(units)))
    return found


class StationLog:
    """Follows the station's log file; waits for the screen sentences it writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pos = 0

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            if self.path.exists():
                with self.path.open(encoding="utf-8") as fh:
                    fh.seek(self.pos)
                    chunk = fh.read()
                for line in chunk.splitlines(keepends=True):
                    seen += line
                    if text in line:
                        self.pos += len(seen.encode())
                        return line
                # keep unread partial progress: only advance past whole lines we consumed
            time.sleep(0.05)
            seen = ""
        tail = self.path.read_text(encoding="utf-8")[-3000:] if self.path.exists() else ""
        raise AssertionError(f"station never logged {text!r}; log tail:\n{tail}")


@dataclass
class Bench:
    scanner: PtyScanner
    scale: MtSicsEmulator
    printer: PrinterEmulator
    log: StationLog
    api: httpx.Client
    orders: list[PackOrder]
    last_code: str = ""
    prepared: object = None  # what the `prepare` hook returned

    def scan(self, code: str, expect: str, timeout: float = 20.0) -> str:
        # No person scans twice within the blanking period, and the same code again within
        # the double-scan window is (rightly) taken for one label read twice.
        time.sleep(1.0 if code == self.last_code else 0.25)
        self.last_code = code
        self.scanner.send(code.encode() + b"\r")
        return self.log.wait_for(expect, timeout)

    def weigh(self, grams: int, expect: str) -> str:
        self.scale.weight = type(self.scale.weight)(grams)
        return self.log.wait_for(expect)

    def lift(self) -> None:
        self.scale.weight = type(self.scale.weight)(0)
        time.sleep(0.5)  # the station must see the empty platter before the next parcel

    def order(self, order_id: int) -> dict[str, object]:
        response = self.api.get(f"/v1/orders/{order_id}")
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body


def _identical_orders(session: Session, station: str, count: int = 10) -> None:
    """Make `count` of the station's allocated orders one unit of the same product each."""
    station_row = session.scalars(select(Station).where(Station.name == station)).one()
    batch_ids = session.scalars(select(Batch.id).where(Batch.station_id == station_row.id)).all()
    product = next(
        p
        for p in session.scalars(select(Product).order_by(Product.id))
        if not p.serial_required and p.weight_grams and p.gtins
    )
    orders = session.scalars(
        select(Order)
        .where(Order.batch_id.in_(batch_ids), Order.status == "allocated")
        .order_by(Order.id)
        .limit(count)
    ).all()
    assert len(orders) == count
    for order in orders:
        del order.lines[1:]
        line = order.lines[0]
        line.sku, line.product_id, line.name, line.quantity = (
            product.sku,
            product.id,
            product.name,
            1,
        )
    session.flush()


Prepare = Callable[[Session], object]


@contextmanager
def _bench(
    tmp_path: Path,
    identical: bool = False,
    prepare: Prepare | None = None,
    station_args: tuple[str, ...] = (),
    service_env: dict[str, str] | None = None,
) -> Iterator[Bench]:
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(db_url)
    create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        seed_demo(session)
        station, code = issue_enroll_code(session, "demo-station")
        for batch in session.scalars(select(Batch).where(Batch.station_id.is_(None))):
            assign_batch(session, batch.id, station.id, actor="e2e")
        _token, operator = create_token(session, role="operator", name="e2e")
        if identical:
            _identical_orders(session, "demo-station")
        prepared = prepare(session) if prepare is not None else None
    with sessions() as session:
        orders = _orders_for_station(session, "demo-station")
    engine.dispose()
    assert len(orders) >= 4, "the demo seed should give demo-station enough plain orders"

    keyring_file = tmp_path / "keyring.json"
    env = child_env(keyring_file)
    env["QT_QPA_PLATFORM"] = "offscreen"
    data = tmp_path / "station"
    data.mkdir()
    # auto_complete off: these runs walk the PB:CLOSE path (auto-complete: test_first_day.py)
    (data / "config.toml").write_text(
        "version = 2\noverride_requires_pin = false\nauto_complete = false\n"
    )
    env["PACKBENCH_ALLOW_UNVERIFIED_OVERRIDES"] = "1"  # this bench confirms overrides by badge
    env.update(service_env or {})

    with ServiceProcess(db_url, env, tmp_path / "service.log") as service:
        enrolled = subprocess.run(
            [sys.executable, "-m", "app.main", "--data-dir", str(data), "enroll",
             "--server", service.base_url, "--code", code],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert enrolled.returncode == 0, enrolled.stderr
        assert "token" not in (data / "config.toml").read_text().lower()

        scanner = PtyScanner(tmp_path)
        scale = MtSicsEmulator(weight=0)
        with PrinterEmulator() as printer, (tmp_path / "station.err").open("wb") as err:
            station = subprocess.Popen(
                [sys.executable, "-m", "app.main", "--data-dir", str(data),
                 "--scanner", f"serial://{scanner.path}?suffix=CR",
                 "--scale", f"mtsics+serial://{scale.port}",
                 "--label-printer", printer.url, *station_args],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
            log = StationLog(data / "logs" / "packbench.log")
            api = httpx.Client(
                base_url=service.base_url, headers={"Authorization": f"Bearer {operator}"}
            )
            try:
                log.wait_for("snapshot applied", timeout=60)
                yield Bench(scanner, scale, printer, log, api, orders, prepared=prepared)
            finally:
                station.terminate()
                try:
                    station.wait(15)
                except subprocess.TimeoutExpired:
                    station.kill()
                api.close()
                scanner.close()
                scale.close()


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    with _bench(tmp_path) as bench:
        yield bench


@pytest.fixture
def identical_bench(tmp_path: Path) -> Iterator[Bench]:
    with _bench(tmp_path, identical=True) as bench:
        yield bench


def _pack(bench: Bench, order: PackOrder, box_split: int | None = None) -> None:
    """Scan every unit, weigh, let the label print, close. `box_split`: units in box 1."""
    bench.scan(order.number, f"screen pack green: Order {order.number} is open")
    labels_before = len(bench.printer.jobs)
    for n, item in enumerate(order.items, start=1):
        bench.scan(item.code, "screen pack green")
        if box_split is not None and n == box_split:
            bench.scan("PB:NEW-BOX", "put it on the scale")
            first = sum(i.grams for i in order.items[:box_split]) + BOX_M_GRAMS
            bench.weigh(first, "its label prints with the last box's")
            bench.lift()
    rest = order.items[box_split:] if box_split else order.items
    bench.weigh(sum(i.grams for i in rest) + BOX_M_GRAMS, "then scan PB:CLOSE")
    bench.lift()
    bench.scan("PB:CLOSE", f"Order {order.number} is packed")
    printed = bench.printer.jobs[labels_before:]
    # Every label knows how many boxes the order has: printed once the last box is weighed.
    count = 2 if box_split else 1
    assert [f"Parcel {n} of {count}".encode() in job for n, job in enumerate(printed, 1)] == [
        True
    ] * count


def _wait_status(
    bench: Bench, order_id: int, status: str, timeout: float = 30
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    body = bench.order(order_id)
    while body["status"] != status and time.monotonic() < deadline:
        time.sleep(0.3)
        body = bench.order(order_id)
    assert body["status"] == status, body
    return body


def test_pack_orders_with_devices_only(bench: Bench) -> None:
    single = next(o for o in bench.orders if len(o.items) == 1)
    multi = next(o for o in bench.orders if len(o.items) >= 2)
    rest = [o for o in bench.orders if o not in (single, multi)]
    held, overridden = rest[0], rest[1]

    bench.scan("BADGE-X999", "screen login red")  # unknown badge: red, nothing changes
    bench.scan("BADGE-P001", "screen batches green")
    bench.scan("ORD-999999", "screen batches red")  # not an order of this station

    _pack(bench, single)
    _pack(bench, multi, box_split=1)

    bench.scan(held.number, f"Order {held.number} is open")
    bench.scan(held.items[0].code, "screen pack green")
    bench.scan("0000000000000", "screen pack red")  # a code that is no product
    bench.scan("PB:HOLD:SHORT_PICK", "on hold")

    bench.scan(overridden.number, f"Order {overridden.number} is open")
    for item in overridden.items:
        bench.scan(item.code, "screen pack green")
    bench.weigh(overridden.grams * 3, "A supervisor can override: F6.")
    bench.scan("BADGE-S001", "scan an override reason")
    bench.scan("PB:OVR:CHECKED", "accepted by a supervisor")
    bench.log.wait_for("then scan PB:CLOSE")
    bench.lift()
    bench.scan("PB:CLOSE", f"Order {overridden.number} is packed")

    for order in (single, multi, overridden):
        body = _wait_status(bench, order.id, "packed")
        types = [e["type"] for e in body["events"]]  # type: ignore[index, union-attr]
        assert "order_packed" in types or any(
            e["to_status"] == "packed"
            for e in body["events"]  # type: ignore[index, union-attr]
        )
    # The station's packs agree with the service's boxes and labels: no packed_incomplete
    # (or any other carrier) exception, even for the box whose weight needed an override.
    carrier = bench.api.get("/v1/exceptions", params={"kind": "carrier"})
    carrier.raise_for_status()
    assert carrier.json() == []
    body = _wait_status(bench, held.id, "on_hold")
    events = body["events"]
    assert any(e["to_status"] == "on_hold" for e in events)  # type: ignore[index, union-attr]
    body = bench.order(overridden.id)
    overrides = [
        e
        for e in body["events"]
        if "override" in e["type"]  # type: ignore[index, union-attr]
    ]
    assert overrides, [e["type"] for e in body["events"]]  # type: ignore[index, union-attr]
    assert "CONTENTS" in str(overrides[0]["payload"]).upper() or "contents" in str(
        overrides[0]["payload"]
    )
    assert os.environ.get("QT_QPA_PLATFORM", "offscreen")  # sanity: ran headless


def test_ten_identical_parcels_in_a_row_each_print_within_a_second(
    identical_bench: Bench,
) -> None:
    """Runs of identical single-item orders: same item, same weight, platter emptied between."""
    bench = identical_bench
    first = bench.orders[0]
    run = [o for o in bench.orders if o.items == first.items][:10]
    assert len(run) == 10 and len(first.items) == 1
    bench.scan("BADGE-P001", "screen batches green")
    delays = []
    for order in run:
        bench.scan(order.number, f"Order {order.number} is open")
        bench.scan(order.items[0].code, "screen pack green")
        labels_before = len(bench.printer.jobs)
        weighed_at = time.monotonic()
        bench.scale.weight = type(bench.scale.weight)(order.grams)
        while len(bench.printer.jobs) == labels_before and time.monotonic() - weighed_at < 10:
            time.sleep(0.01)
        delays.append(time.monotonic() - weighed_at)
        assert len(bench.printer.jobs) == labels_before + 1, f"no label for {order.number}"
        assert b"Parcel 1 of 1" in bench.printer.jobs[-1]
        bench.log.wait_for("then scan PB:CLOSE")
        bench.lift()
        bench.scan("PB:CLOSE", f"Order {order.number} is packed")
    assert len(bench.printer.jobs) == 10
    assert max(delays) < 1.0, [round(d, 2) for d in delays]
