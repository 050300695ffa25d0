"""Carrier labels as a ZPL printer receives them, drawn by an independent renderer, decoded.

End to end from the carrier to the printer's socket: the adapter books the parcel at the
carrier's fake (HTTP on loopback), the label travels as the pull feed carries it
(`LabelSnapshot`), the station's label printing queues it for a ZPL printer and its print
worker sends it to a printer emulator on a loopback socket. What the printer received is
rendered by zpl-renderer-js (the label fidelity tests' renderer, on node) at the printer's
media and dpi, and zxing-cpp reads the barcodes back: the parcel's own number, on a label the
size of the 4x6 in / 100x150 mm media, with bars of the same physical width at 203 and 300 dpi.

Packeta and GLS hand out native ZPL (their fakes' labels: text and a Code 128); Cargus only
hands out PDF, which the station rasterises into one `^GFA` field; a Packeta PDF label on a
ZPL station takes that path too.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.printing.model import MEDIA_4X6, MEDIA_100X150, Media
from app.printing.printer import open_printer
from app.printing.queue import CONFIRMED, PrintQueue
from app.printing.worker import PrintWorker
from app.printing.zpl_preview import text_fields
from app.station.label_printing import StationLabels
from service.carriers.base import Address, CreatedParcel, ParcelSpec, ShipmentRequest
from service.carriers.registry import get_adapter
from service.secrets_store import put_secret
from sync.protocol import LabelSnapshot
from tests.support.fake_cargus import running_fake_cargus
from tests.support.fake_gls import running_fake_gls
from tests.support.fake_packeta import running_fake_packeta
from tests.support.printer_emulator import PrinterEmulator
from tests.support.station_fakes import MUG, order
from tests.support.zpl_renderer import ZplRenderer, install

SETUPS = [(MEDIA_4X6, 203), (MEDIA_100X150, 300)]  # the two label printers of a site


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZplRenderer]:
    node = install()
    if node is None:
        pytest.skip("node/npm is not installed: the independent ZPL renderer cannot run")
    yield ZplRenderer(node, tmp_path_factory.mktemp("carrier-zpl"))


@dataclass
class Printed:
    """One label as the printer received it, and what the renderer made of it."""

    tracking_number: str
    zpl: bytes
    media: Media
    dpi: int
    image: Image.Image | None = None

    def barcodes(self) -> list[zxingcpp.Result]:
        assert self.image is not None
        return list(zxingcpp.read_barcodes(self.image))

    def size_mm(self) -> tuple[float, float]:
        """The label's size as its ZPL sets it (^PW/^LL dots at the printer's dpi)."""
        text = self.zpl.decode("utf-8", "replace")
        width, height = (int(re.search(rf"\^{c}(\d+)", text).group(1)) for c in ("PW", "LL"))  # type: ignore[union-attr]
        return width / self.dpi * 25.4, height / self.dpi * 25.4

    def bars_mm(self) -> float:
        """Width of the Code 128 symbol on paper, quiet zones excluded."""
        (found,) = self.barcodes()
        return (found.position.top_right.x - found.position.top_left.x) / self.dpi * 25.4


def _print(
    created: list[CreatedParcel], carrier: str, media: Media, dpi: int, tmp_path: Path
) -> list[Printed]:
    """Each created parcel's label through the station's queue to a loopback ZPL printer."""
    snapshots = [
        LabelSnapshot(
            id=n,
            order_id=41,
            parcel_no=c.box_no,
            parcel_count=len(created),
            carrier=carrier,
            tracking_number=c.tracking_number,
            format=c.label_format,
            content_b64=base64.b64encode(c.label).decode("ascii"),
            weight_min_grams=0,
            weight_max_grams=50000,
            status="ready",
        )
        for n, c in enumerate(created, start=1)
    ]
    packed = order(41, (MUG, len(created)))
    packed = replace(packed, view=replace(packed.view, carrier=carrier))
    queue = PrintQueue(create_engine(f"sqlite:///{tmp_path / f'{carrier}-{dpi}.db'}"))
    printed = []
    with PrinterEmulator() as emulator:
        printer = open_printer(f"{emulator.url}&dpi={dpi}&media={media.name}")
        labels = StationLabels(queue, printer, lambda _order_id: snapshots)
        worker = PrintWorker(queue, printer)
        for snap in snapshots:
            job = queue.get(labels.print_label(packed, snap.parcel_no, len(created), 1500))
            before = len(emulator.jobs)
            assert worker.process(job).state == CONFIRMED
            deadline = time.monotonic() + 5
            while len(emulator.jobs) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            (received,) = emulator.jobs[before:]
            printed.append(Printed(snap.tracking_number, received, media, dpi))
    return printed


def _render(renderer: ZplRenderer, printed: list[Printed]) -> None:
    for media, dpi in SETUPS:
        batch = {f"{i}": p for i, p in enumerate(printed) if (p.media, p.dpi) == (media, dpi)}
        images = renderer.render(
            {k: p.zpl for k, p in batch.items()}, media.width_mm, media.height_mm, dpi
        )
        for key, image in images.items():
            batch[key].image = image


def _check(printed: list[Printed]) -> None:
    """Each label decodes to its own number, fits its media, and is the same size on paper."""
    for p in printed:
        assert [b.text for b in p.barcodes()] == [p.tracking_number], (p.media.name, p.dpi)
        width, height = p.size_mm()
        assert abs(width - p.media.width_mm) <= 2.0 and abs(height - p.media.height_mm) <= 2.5, (
            f"{p.tracking_number} is {width:.1f} x {height:.1f} mm on {p.media.name} media"
        )
        # Nothing runs off the paper: the ink stays inside the rendered media, off its edges.
        assert p.image is not None
        ink = Image.eval(p.image, lambda v: 255 - v).getbbox()
        assert ink is not None and ink[0] > 0 and ink[1] > 0, ink
        assert ink[2] < p.image.width and ink[3] < p.image.height, (ink, p.image.size)
    # The same label at 203 and 300 dpi: the barcode is as wide on paper (within 6 %).
    widths = [p.bars_mm() for p in printed]
    assert max(widths) <= min(widths) * 1.06, [round(w, 1) for w in widths]


def _sender(country: str) -> Address:
    return Address("Packbench Warehouse", "Dock 1", "1211", "Budapest", country)


def test_packeta_cod_to_a_pickup_point_prints_its_zpl_as_packeta_drew_it(
    renderer: ZplRenderer, tmp_path: Path
) -> None:
    printed: list[Printed] = []
    with running_fake_packeta() as fake:
        put_secret("carrier:packeta:cz:api_password", fake.api_password)
        adapter = get_adapter(
            "packeta",
            {"account": "cz", "base_url": f"{fake.url}/api/rest", "eshop": "MyEshop"},
        )
        recipient = Address("Jan Novák", "Na Pankráci 969/97", "140 00", "Praha", "CZ")
        for media, dpi in SETUPS:
            request = ShipmentRequest(
                order_number="ORD-700041",
                sender=_sender("CZ"),
                recipient=replace(recipient, phone="+420777123456"),
                parcels=[ParcelSpec(1, 1300)],
                parcel_count=1,
                service="pickup",
                label_format="zpl",
                pickup_point="95",
                cod_amount=Decimal("250"),
                currency="CZK",
                value=Decimal("249.90"),
                dpi=dpi,
            )
            created = adapter.create_shipment(Session(), request)
            printed += _print(created, "packeta", media, dpi, tmp_path)
    for p in printed:
        assert p.zpl.startswith(b"^XA") and b"^GFA" not in p.zpl  # Packeta's ZPL, untouched
        assert "COD 250.00 CZK" in text_fields(p.zpl.decode())
        assert "Pickup point 95" in text_fields(p.zpl.decode())
    _render(renderer, printed)
    _check(printed)


def test_packeta_pdf_on_a_zpl_station_is_rasterised_and_still_reads(
    renderer: ZplRenderer, tmp_path: Path
) -> None:
    printed: list[Printed] = []
    with running_fake_packeta() as fake:
        put_secret("carrier:packeta:cz:api_password", fake.api_password)
        adapter = get_adapter("packeta", {"account": "cz", "base_url": f"{fake.url}/api/rest"})
        for media, dpi in SETUPS:
            request = ShipmentRequest(
                order_number="ORD-700042",
                sender=_sender("CZ"),
                recipient=Address(
                    "Jan Novák", "Na Pankráci 9", "140 00", "Praha", "CZ", email="j@example.com"
                ),
                parcels=[ParcelSpec(1, 1300)],
                parcel_count=1,
                service="pickup",
                label_format="pdf",
                pickup_point="95",
                currency="CZK",
                value=Decimal("249.90"),
            )
            created = adapter.create_shipment(Session(), request)
            assert created[0].label_format == "pdf"
            printed += _print(created, "packeta", media, dpi, tmp_path)
    assert all(p.zpl.count(b"^GFA") == 1 and b"^A0" not in p.zpl for p in printed)
    _render(renderer, printed)
    _check(printed)


def test_gls_two_parcels_print_two_labels_each_with_its_own_number(
    renderer: ZplRenderer, tmp_path: Path
) -> None:
    printed: list[Printed] = []
    with running_fake_gls() as fake:
        put_secret("carrier:gls:hu:password", "gls-secret")
        config: dict[str, Any] = {
            "account": "hu",
            "country": "HU",
            "base_url": fake.url,
            "username": fake.username,
            "client_number": fake.client_number,
        }
        adapter = get_adapter("gls", config)
        for media, dpi in SETUPS:
            request = ShipmentRequest(
                order_number="ORD-700043",
                sender=_sender("HU"),
                recipient=Address("Kovács Anna", "Váci út 12", "1132", "Budapest", "HU"),
                parcels=[ParcelSpec(1, 2000), ParcelSpec(2, 1500)],
                parcel_count=2,
                service="home",
                label_format="zpl",
                currency="HUF",
                value=Decimal("24990"),
                dpi=dpi,
            )
            created = adapter.create_shipment(Session(), request)
            assert fake.requests[-1][1]["TypeOfPrinter"] == (
                "ThermoZPL_300DPI" if dpi == 300 else "ThermoZPL"
            )
            printed += _print(created, "gls", media, dpi, tmp_path)
    assert len(printed) == 4 and len({p.tracking_number for p in printed}) == 4
    for n, p in enumerate(printed):
        assert f"{n % 2 + 1}/2" in " ".join(text_fields(p.zpl.decode()))  # GLS prints n of m
    _render(renderer, printed)
    _check(printed)


def test_cargus_pdf_awbs_print_as_one_raster_field_each(
    renderer: ZplRenderer, tmp_path: Path
) -> None:
    printed: list[Printed] = []
    with running_fake_cargus() as fake:
        put_secret("carrier:cargus:ro:subscription_key", fake.subscription_key)
        put_secret("carrier:cargus:ro:password", fake.password)
        config: dict[str, Any] = {
            "account": "ro",
            "base_url": f"{fake.url}/api",
            "username": fake.username,
            "location_id": fake.location_id,
        }
        adapter = get_adapter("cargus", config)
        for media, dpi in SETUPS:
            request = ShipmentRequest(
                order_number="ORD-700044",
                sender=_sender("RO"),
                recipient=Address(
                    "Ion Popescu",
                    "Str. Memorandumului 28",
                    "400114",
                    "Cluj-Napoca",
                    "RO",
                    region="Cluj",
                    phone="+40722123456",
                ),
                parcels=[ParcelSpec(1, 2000), ParcelSpec(2, 5500)],
                parcel_count=2,
                service="home",
                label_format="zpl",  # Cargus only sends PDF: the station rasterises it
                currency="RON",
                cod_amount=Decimal("249.90"),
                value=Decimal("249.90"),
                dpi=dpi,
            )
            created = adapter.create_shipment(Session(), request)
            assert [c.label_format for c in created] == ["pdf", "pdf"]
            printed += _print(created, "cargus", media, dpi, tmp_path)
    for p in printed:
        assert p.zpl.count(b"^GFA") == 1
        assert p.size_mm() == pytest.approx((p.media.width_mm, p.media.height_mm), abs=0.2)
    _render(renderer, printed)
    _check(printed)
