"""Issue 17: every label the demo prints has a PNG beside it that shows what prints.

The demo's orders ship with the house carrier. Its service makes each label (as PDF in the
demo, `app.demo.previewable_house_labels`), the station rasterises it for the demo's file
ZPL printer, and the print worker writes the ZPL and its PNG preview into the labels
folder. The preview must be the printed dots: same picture, same barcode.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import zxingcpp
from PIL import Image, ImageChops
from sqlalchemy import create_engine, select

from app.demo import previewable_house_labels
from app.printing.printer import open_printer
from app.printing.queue import CONFIRMED, PrintQueue
from app.printing.worker import PrintWorker
from app.printing.zpl_graphics import decode_graphic_fields
from app.station.label_printing import StationLabels
from service.db import make_engine, make_sessionmaker
from service.demo import seed_demo
from service.models import Order
from service.schema import create_all
from service.shipping.labels import live_labels, prepare_labels
from service.sync_server.snapshots import labels as label_snapshots
from sync.protocol import LabelSnapshot
from tests.support.station_fakes import MUG, order


def test_a_demo_house_label_prints_with_a_png_of_its_own_dots(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        seed_demo(session)
        previewable_house_labels(session)
    with sessions() as session, session.begin():
        demo = session.scalars(
            select(Order).where(Order.status == "allocated", Order.carrier == "house")
        ).first()
        assert demo is not None
        assert prepare_labels(session, [demo.id]) == 1
        (made,) = live_labels(session, demo.id)
        snapshot = LabelSnapshot(**label_snapshots(session, [made.id])[made.id])
        grams = (made.weight_min_grams + made.weight_max_grams) // 2
    engine.dispose()
    assert snapshot.format == "pdf"

    folder = tmp_path / "labels"
    printer = open_printer(f"file://{folder}?lang=zpl")  # the demo's label printer
    queue = PrintQueue(create_engine(f"sqlite:///{tmp_path / 'station.db'}"))
    station = StationLabels(queue, printer, lambda _order_id: [snapshot])
    packed = order(snapshot.order_id, (MUG, 1))
    packed = replace(packed, view=replace(packed.view, number=demo.number))
    job = queue.get(station.print_label(packed, 1, 1, grams))
    assert PrintWorker(queue, printer).process(job).state == CONFIRMED

    (zpl_file,) = folder.glob("*.zpl")
    (png_file,) = folder.glob("*.png")
    assert zpl_file.stem == png_file.stem  # the preview sits beside its label
    (printed,) = decode_graphic_fields(zpl_file.read_text())
    with Image.open(png_file) as preview:
        shown = preview.convert("L")
    assert shown.size == printer.media.dots(printer.dpi)
    assert ImageChops.difference(shown, printed.crop((0, 0, *shown.size))).getbbox() is None
    assert [r.text for r in zxingcpp.read_barcodes(shown)] == [snapshot.tracking_number]
    assert base64.b64decode(snapshot.content_b64).startswith(b"%PDF")
