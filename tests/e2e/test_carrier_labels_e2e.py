"""End to end with real carriers' labels (issue 19): the station packs for Packeta and GLS.

The real `packbench` process against a real `packbench-service` process, with the Packeta and
GLS fakes (built from their public API documentation) on loopback as the carriers. The
station is driven only through its devices: a serial scanner and an MT-SICS scale on
pseudo-terminals, a Zebra printer on a loopback socket. It packs:

- a cash-on-delivery order to a Packeta pickup point (one box; Packeta's ZPL label, passed
  through untouched, prints the COD amount and currency);
- a GLS order in two boxes (GLS PDF labels, rasterised by the station for its ZPL printer):
  the label made ahead for one box is deleted at GLS when the second box closes, and both
  boxes are booked as one GLS shipment of two, labelled "1/2" and "2/2".

Then: what the printer received is rendered by zpl-renderer-js and decoded with zxing-cpp
(one label per parcel, each with its own number), and what the service recorded is read from
its database and API (label rows printed, parcel numbers, orders packed, the COD amount).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from app.printing.zpl_preview import text_fields
from service.batching import assign_batch
from service.db import make_engine, make_sessionmaker
from service.demo import seed_demo
from service.models import Batch, Channel, Label, Order, Parcel
from service.schema import create_all
from service.sync_server.enrollment import issue_enroll_code
from service.users import create_token
from tests.e2e.test_station_e2e import (
    BOX_M_GRAMS,
    Bench,
    PackOrder,
    StationLog,
    _orders_for_station,
    _wait_status,
)
from tests.support.fake_gls import FakeGls, running_fake_gls
from tests.support.fake_packeta import FakePacketa, running_fake_packeta
from tests.support.printer_emulator import PrinterEmulator
from tests.support.scale_emulators import MtSicsEmulator
from tests.support.serial_scanner import PtyScanner
from tests.support.service_process import ROOT, ServiceProcess, child_env
from tests.support.zpl_renderer import ZplRenderer, install

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

PACKETA_POINT = "95"
COD_CZK = Decimal("250")  # Packeta takes COD in CZK in whole crowns


@dataclass
class CarrierBench:
    bench: Bench
    packeta: FakePacketa
    gls: FakeGls
    cod_order: PackOrder
    two_box_order: PackOrder
    db_url: str


def _carrier_settings(packeta: FakePacketa, gls: FakeGls) -> dict[str, object]:
    """The channel's carrier accounts, as `carrier configure` would store them."""
    return {
        "carriers": {
            "packeta": {
                "account": "cz",
                "base_url": f"{packeta.url}/api/rest",
                "eshop": "Packbench e2e",
                "label_format": "zpl",
                "dpi": 203,
                "cod_limits": {"CZK": 20000},
            },
            "gls": {
                "account": "hu",
                "country": "HU",
                "base_url": gls.url,
                "username": gls.username,
                "client_number": gls.client_number,
                "label_format": "pdf",
            },
        }
    }


@contextmanager
def _carrier_bench(tmp_path: Path) -> Iterator[CarrierBench]:
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    with running_fake_packeta() as packeta, running_fake_gls() as gls:
        engine = make_engine(db_url)
        create_all(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session, session.begin():
            seed_demo(session)
            station, code = issue_enroll_code(session, "demo-station")
            for batch in session.scalars(select(Batch).where(Batch.station_id.is_(None))):
                assign_batch(session, batch.id, station.id, actor="e2e")
            _token, operator = create_token(session, role="operator", name="e2e")
        with sessions() as session:
            orders = _orders_for_station(session, "demo-station")
        # Two of the station's orders ship with the carriers: the shop's customers chose them.
        cod_order = next(o for o in orders if len(o.items) == 1)
        two_box_order = next(o for o in orders if len(o.items) == 2 and o is not cod_order)
        with sessions() as session, session.begin():
            channel = Channel(
                kind="operator", name="shop-cee", settings=_carrier_settings(packeta, gls)
            )
            session.add(channel)
            session.flush()
            cod = session.get_one(Order, cod_order.id)
            cod.channel_id = channel.id
            cod.carrier, cod.service, cod.pickup_point = "packeta", "pickup", PACKETA_POINT
            cod.payment_state, cod.currency, cod.total_amount = "cod", "CZK", COD_CZK
            cod.ship_name, cod.ship_country = "Jan Novák", "CZ"
            cod.ship_street1, cod.ship_postcode, cod.ship_city = "Na Pankráci 9", "140 00", "Praha"
            two = session.get_one(Order, two_box_order.id)
            two.channel_id = channel.id
            two.carrier, two.service = "gls", "home"
            two.payment_state, two.currency, two.total_amount = "paid", "HUF", Decimal("24990")
            two.ship_name, two.ship_country = "Kovács Anna", "HU"
            two.ship_street1, two.ship_postcode, two.ship_city = "Váci út 12", "1132", "Budapest"
        engine.dispose()

        keyring_file = tmp_path / "keyring.json"
        env = child_env(keyring_file)
        env["QT_QPA_PLATFORM"] = "offscreen"
        # The accounts' secrets, as a one-account site gives them (never in the database).
        env["PACKBENCH_CARRIER_PACKETA_API_PASSWORD"] = packeta.api_password
        env["PACKBENCH_CARRIER_GLS_PASSWORD"] = "gls-secret"
        data = tmp_path / "station"
        data.mkdir()
        (data / "config.toml").write_text(
            "version = 2\noverride_requires_pin = false\nauto_complete = false\n"
        )
        with ServiceProcess(db_url, env, tmp_path / "service.log") as service:
            enrolled = subprocess.run(
                [sys.executable, "-m", "app.main", "--data-dir", str(data), "enroll",
                 "--server", service.base_url, "--code", code],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert enrolled.returncode == 0, enrolled.stderr
            scanner = PtyScanner(tmp_path)
            scale = MtSicsEmulator(weight=0)
            with PrinterEmulator() as printer, (tmp_path / "station.err").open("wb") as err:
                station_proc = subprocess.Popen(
                    [sys.executable, "-m", "app.main", "--data-dir", str(data),
                     "--scanner", f"serial://{scanner.path}?suffix=CR",
                     "--scale", f"mtsics+serial://{scale.port}",
                     "--label-printer", printer.url],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                )  # fmt: skip
                log = StationLog(data / "logs" / "packbench.log")
                api = httpx.Client(
                    base_url=service.base_url, headers={"Authorization": f"Bearer {operator}"}
                )
                try:
                    log.wait_for("snapshot applied", timeout=60)
                    bench = Bench(scanner, scale, printer, log, api, orders)
                    yield CarrierBench(bench, packeta, gls, cod_order, two_box_order, db_url)
                finally:
                    station_proc.terminate()
                    try:
                        station_proc.wait(15)
                    except subprocess.TimeoutExpired:
                        station_proc.kill()
                    api.close()
                    scanner.close()
                    scale.close()


def _weigh(bench: Bench, grams: int, expect: str) -> str:
    """Put the box on the scale; a carrier label may first have to come from the service."""
    bench.scale.weight = type(bench.scale.weight)(grams)
    return bench.log.wait_for(expect, timeout=40)


def _pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return " ".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _wait_jobs(bench: Bench, count: int, timeout: float = 30) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while len(bench.printer.jobs) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(bench.printer.jobs) >= count, f"{len(bench.printer.jobs)} labels printed"
    return bench.printer.jobs[:count]


def test_cod_to_a_packeta_point_and_two_gls_boxes_print_the_carriers_labels(
    tmp_path: Path,
) -> None:
    with _carrier_bench(tmp_path) as cb:
        bench = cb.bench
        bench.scan("BADGE-P001", "screen batches green")

        # Cash on delivery to a Packeta point: one box, Packeta's label.
        cod = cb.cod_order
        bench.scan(cod.number, f"Order {cod.number} is open")
        bench.scan(cod.items[0].code, "screen pack green")
        _weigh(bench, cod.grams, "then scan PB:CLOSE")
        bench.lift()
        bench.scan("PB:CLOSE", f"Order {cod.number} is packed")
        (packeta_job,) = _wait_jobs(bench, 1)

        # GLS in two boxes: the first weighed and set aside, both labels after the second.
        two = cb.two_box_order
        bench.scan(two.number, f"Order {two.number} is open")
        bench.scan(two.items[0].code, "screen pack green")
        bench.scan("PB:NEW-BOX", "put it on the scale")
        bench.weigh(two.items[0].grams + BOX_M_GRAMS, "its label prints with the last box's")
        bench.lift()
        bench.scan(two.items[1].code, "screen pack green")
        _weigh(bench, two.items[1].grams + BOX_M_GRAMS, "then scan PB:CLOSE")
        bench.lift()
        bench.scan("PB:CLOSE", f"Order {two.number} is packed")
        gls_jobs = _wait_jobs(bench, 3)[1:]

        for order in (cod, two):
            _wait_status(bench, order.id, "packed")
        cod_body = bench.order(cod.id)
        engine = make_engine(cb.db_url)
        with make_sessionmaker(engine)() as session:
            labels = {
                o: session.scalars(
                    select(Label).where(Label.order_id == o).order_by(Label.parcel_no, Label.id)
                ).all()
                for o in (cod.id, two.id)
            }
            parcels = {
                o: session.scalars(
                    select(Parcel).where(Parcel.order_id == o).order_by(Parcel.box_no)
                ).all()
                for o in (cod.id, two.id)
            }
            cod_row = session.get_one(Order, cod.id)
            cod_recorded = (cod_row.payment_state, cod_row.total_amount, cod_row.currency)
        engine.dispose()

    # The service: each box has one printed label, its number on the parcel, packed.
    (cod_label,) = [lb for lb in labels[cod.id] if lb.status == "printed"]
    gls_printed = [lb for lb in labels[two.id] if lb.status == "printed"]
    assert [lb.parcel_no for lb in gls_printed] == [1, 2], [
        (lb.parcel_no, lb.status) for lb in labels[two.id]
    ]
    assert [p.tracking_number for p in parcels[cod.id]] == [cod_label.tracking_number]
    assert [p.tracking_number for p in parcels[two.id]] == [
        lb.tracking_number for lb in gls_printed
    ]
    assert cod_recorded == ("cod", COD_CZK, "CZK") and cod_body["status"] == "packed"

    # Packeta: the packet was booked to the point with the COD; its label, untouched, says so.
    assert cod_label.carrier == "packeta" and cod_label.tracking_number.startswith("Z")
    attributes = cb.packeta.packets[int(cod_label.carrier_ref)].attributes
    assert (attributes["addressId"], attributes["cod"], attributes["currency"]) == (
        PACKETA_POINT,
        "250.00",
        "CZK",
    )
    assert packeta_job == cod_label.content  # passed through as Packeta made it
    fields = text_fields(packeta_job.decode())
    assert "COD 250.00 CZK" in fields and f"Pickup point {PACKETA_POINT}" in fields

    # GLS: ONE shipment of two parcels, two labels, each with its own parcel number (raster
    # ZPL from the PDF). Box 1's label made ahead counted one parcel; when box 2 closed the
    # service deleted that shipment at GLS and booked both boxes as one (Count 2).
    assert all(job.count(b"^GFA") == 1 for job in gls_jobs)
    assert len({lb.tracking_number for lb in gls_printed}) == 2
    (shipment,) = cb.gls.live_shipments()
    assert shipment[0].request["Count"] == 2
    assert shipment[0].request["ClientReference"] == two.number
    assert [str(p.number) for p in shipment] == [lb.tracking_number for lb in gls_printed]
    voided = [lb for lb in labels[two.id] if lb.status == "cancelled"]
    assert [lb.parcel_count for lb in voided] == [1]  # the label made ahead for one box
    assert cb.gls.parcels[int(voided[0].carrier_ref)].state == "DELETED"
    # The PDFs the station rasterised say "1/2" and "2/2" (the printed raster has no text).
    for label, k in zip(gls_printed, ("1/2", "2/2"), strict=True):
        assert label.parcel_count == 2 and label.format == "pdf"
        assert f"Ref {two.number} {k}" in " ".join(_pdf_text(label.content).split())

    # What the printer received, drawn by an independent renderer and read back: each
    # label carries its own parcel's number, and nothing else.
    node = install()
    if node is None:
        pytest.skip("node/npm is not installed: the printed labels cannot be rendered")
    jobs = [packeta_job, *gls_jobs]
    images = ZplRenderer(node, tmp_path).render(
        {f"job{n}": job for n, job in enumerate(jobs)}, 101.6, 152.4, 203
    )
    read = [sorted(r.text for r in zxingcpp.read_barcodes(images[f"job{n}"])) for n in range(3)]
    assert read == [[cod_label.tracking_number]] + [[lb.tracking_number] for lb in gls_printed]
