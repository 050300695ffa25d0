"""The station's choice of label for a weighed box, and that a restart never prints it twice.

Real print queue (SQLite) and a file printer speaking ZPL; the carrier labels are what the
service sends in the pull feed.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.printing.printer import open_printer
from app.printing.queue import CONFIRMED, FAILED, QUEUED, PrintQueue
from app.station.label_printing import StationLabels
from app.station.ports import AwaitingLabel
from sync.protocol import LabelSnapshot
from tests.support.station_fakes import MUG, order

ORDER = order(7, (MUG, 2))


def _label(label_id: int, box: int, count: int, text: str = "") -> LabelSnapshot:
    zpl = f"^XA^FO50,50^FDParcel {box} of {count} {text}^FS^XZ".encode()
    return LabelSnapshot(
        id=label_id,
        order_id=7,
        parcel_no=box,
        parcel_count=count,
        carrier="house",
        tracking_number=f"PB{label_id:012d}",
        format="zpl",
        content_b64=base64.b64encode(zpl).decode(),
        weight_min_grams=900,
        weight_max_grams=1100,
        status="ready",
    )


class Station:
    """A station's label side over one database file, restartable like the real process."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "station.db"
        self.printer_url = f"file://{tmp_path / 'labels'}?lang=zpl"
        self.labels: list[LabelSnapshot] = []
        self.start()

    def start(self) -> None:
        self.queue = PrintQueue(create_engine(f"sqlite:///{self.db}"))
        self.station = StationLabels(
            self.queue, open_printer(self.printer_url), lambda _oid: self.labels
        )


@pytest.fixture
def st(tmp_path: Path) -> Station:
    return Station(tmp_path)


def test_the_carrier_label_that_fits_weight_and_box_count_goes_out_untouched(st: Station) -> None:
    st.labels = [_label(1, 1, 1, "old"), _label(2, 1, 2), _label(3, 2, 2)]
    job = st.station.print_label(ORDER, 1, 2, 1000)
    assert st.queue.get(job).payload == b"^XA^FO50,50^FDParcel 1 of 2 ^FS^XZ"
    assert st.station.label_for_job(job) == (2, "PB000000000002")


@pytest.mark.parametrize(
    ("labels", "why"),
    [
        ([], "no label came yet"),
        ([_label(1, 1, 1)], "the label says 1 of 1 but the order has two boxes"),
        ([_label(2, 1, 2)], "the box weighs more than the label's band"),
    ],
)
def test_a_box_without_a_fitting_label_waits_and_nothing_is_queued(
    st: Station, labels: list[LabelSnapshot], why: str
) -> None:
    st.labels = labels
    grams = 1500 if "band" in why else 1000
    with pytest.raises(AwaitingLabel, match="waits for its house label from the service"):
        st.station.print_label(ORDER, 1, 2, grams)
    assert st.queue.jobs() == [], why


def test_an_order_without_carrier_gets_our_own_label_counting_its_boxes(st: Station) -> None:
    own = replace(ORDER, view=replace(ORDER.view, carrier=""))
    job = st.station.print_label(own, 2, 3, 1000)
    queued = st.queue.get(job)
    assert queued.document_type == "shipping_label" and b"box 2/3" in queued.payload


def test_a_restart_adopts_the_queued_label_instead_of_printing_it_again(st: Station) -> None:
    st.labels = [_label(2, 1, 1)]
    first = st.station.print_label(ORDER, 1, 1, 1000)  # then the printer ran out of paper...
    st.start()  # ...and the packer restarted the station
    assert st.station.print_label(ORDER, 1, 1, 1000) == first
    assert [j.id for j in st.queue.jobs()] == [first]
    assert st.station.job_outcome(first) is None  # still to print
    st.queue.mark_confirmed(first)  # the worker printed it before the restart was recorded
    st.start()
    assert st.station.print_label(ORDER, 1, 1, 1000) == first
    assert st.station.job_outcome(first) == (True, "")
    assert len(st.queue.jobs()) == 1


def test_a_replaced_carrier_label_supersedes_the_old_job_that_never_printed(st: Station) -> None:
    st.labels = [_label(2, 1, 1)]
    old = st.station.print_label(ORDER, 1, 1, 1000)
    st.start()
    st.labels = [_label(4, 1, 1, "new band")]  # the box was re-weighed and relabelled
    new = st.station.print_label(ORDER, 1, 1, 1000)
    assert new != old
    replaced = st.queue.get(old)
    assert (replaced.state, replaced.retryable) == (FAILED, False)
    assert replaced.last_error == "Replaced by the box's new carrier label"
    assert st.queue.get(new).state == QUEUED
    # A reprint a person asked for is a new job, linked to the label it repeats.
    st.queue.mark_confirmed(new)
    again = st.station.reprint_label(ORDER, 1, 9, "label smudged")
    assert st.queue.get(again).reprint_of == new and st.queue.get(new).state == CONFIRMED


def _pdf_label(label_id: int, pdf: bytes) -> LabelSnapshot:
    return _label(label_id, 1, 1).model_copy(
        update={"format": "pdf", "content_b64": base64.b64encode(pdf).decode()}
    )


def test_a_label_that_cannot_be_drawn_is_a_failed_job_with_the_reason(st: Station) -> None:
    from tests.unit.printing.carrier_pdfs import a4_full_page_pdf, encrypted_pdf

    st.labels = [_pdf_label(1, a4_full_page_pdf())]
    job = st.station.print_label(ORDER, 1, 1, 1000)
    stored = st.queue.get(job)
    assert stored.state == FAILED and not stored.retryable and stored.payload == b""
    ok, message = st.station.job_outcome(job) or (True, "")
    assert not ok and "larger than the 4x6 labels" in message
    st.labels = [_pdf_label(2, encrypted_pdf())]
    again = st.station.print_label(ORDER, 1, 1, 1000)
    assert again != job and "encrypted" in (st.queue.get(again).last_error or "")


def test_own_label_for_a_name_no_font_has_is_refused_not_printed_blank(st: Station) -> None:
    own = replace(
        ORDER,
        view=replace(ORDER.view, carrier=None),
        ship_to=("王小明", "Weg 1", "01067 Dresden", "DE"),
    )
    job = st.station.print_label(own, 1, 1, 1000)
    stored = st.queue.get(job)
    assert stored.state == FAILED and "no printer font has" in (stored.last_error or "")


def test_own_labels_use_the_sites_layout_file_and_refuse_a_broken_one(tmp_path: Path) -> None:
    layout = tmp_path / "label_layout.toml"
    layout.write_text('version = 1\n[sender]\nlines = ["Depozit Nord", "Cluj", "RO"]\n')
    st = Station(tmp_path)
    st.station.layout_file = layout
    own = replace(ORDER, view=replace(ORDER.view, carrier=None), ship_to=("Ana", "Weg 1", "DE"))
    job = st.queue.get(st.station.print_label(own, 1, 1, 1000))
    assert job.state != FAILED and b"Depozit Nord" in job.payload
    layout.write_text("version = 7\n")
    broken = st.queue.get(st.station.print_label(own, 2, 2, 1000))
    assert broken.state == FAILED and "version must be 1" in (broken.last_error or "")


def test_a_carrier_png_label_gets_a_png_preview_beside_it(st: Station) -> None:
    """Issue 17: the demo's previews include carrier labels (PDF/PNG drawn as printed)."""
    import io

    from PIL import Image

    drawn = Image.new("L", (812, 1218), 255)
    drawn.paste(0, (100, 100, 700, 300))  # a black bar where a barcode would be
    data = io.BytesIO()
    drawn.save(data, "PNG")
    png = _label(4, 1, 1).model_copy(
        update={"format": "png", "content_b64": base64.b64encode(data.getvalue()).decode()}
    )
    st.labels = [png]
    job = st.queue.get(st.station.print_label(ORDER, 1, 1, 1000))
    assert job.preview_png is not None
    preview = Image.open(io.BytesIO(job.preview_png))
    assert preview.size[0] > 0 and preview.convert("L").getextrema()[0] == 0  # the bar is there


def test_carrier_zpl_gets_its_raster_drawn_or_a_plain_notice_beside_it(
    st: Station, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17: carrier ZPL in the demo. A ^GFA raster is drawn dot for dot; ZPL the printer
    draws itself gets a PNG (and a log line) saying there is no preview, never nothing."""
    import io
    import logging

    import zxingcpp
    from PIL import Image, ImageChops

    from app.printing.carrier import CarrierFormat, CarrierLabel, carrier_to_zpl, rasterise
    from app.printing.model import MEDIA_4X6
    from tests.support.fake_carrier_labels import pdf_label

    pdf = pdf_label("1112223330", ["Ion Popescu", "Cluj-Napoca"], width_mm=100, height_mm=140)
    raster = carrier_to_zpl(CarrierLabel(CarrierFormat.PDF, pdf), MEDIA_4X6, 203)
    st.labels = [
        _label(6, 1, 1).model_copy(update={"content_b64": base64.b64encode(raster).decode()})
    ]
    job = st.queue.get(st.station.print_label(ORDER, 1, 1, 1000))
    assert job.payload == raster and job.preview_png is not None
    preview = Image.open(io.BytesIO(job.preview_png)).convert("L")
    printed = rasterise(CarrierLabel(CarrierFormat.PDF, pdf), MEDIA_4X6, 203).convert("L")
    assert preview.size == (812, 1218) and ImageChops.difference(preview, printed).getbbox() is None
    assert [r.text for r in zxingcpp.read_barcodes(preview)] == ["1112223330"]

    st.labels = [_label(5, 1, 1, "COD 250 CZK")]  # native ZPL: text the printer draws
    other = replace(ORDER, view=replace(ORDER.view, id=8))
    with caplog.at_level(logging.INFO, logger="app.station.label_printing"):
        native = st.queue.get(st.station.print_label(other, 1, 1, 1000))
    assert native.payload == b"^XA^FO50,50^FDParcel 1 of 1 COD 250 CZK^FS^XZ"  # untouched
    assert native.preview_png is not None
    notice = Image.open(io.BytesIO(native.preview_png)).convert("L")
    assert notice.size == (812, 1218) and notice.getextrema() == (0, 255)
    assert "no picture preview for the house label PB000000000005" in caplog.text
    assert "ZPL that the printer draws itself" in caplog.text
