"""The station's screens and dialogs, each with the longest message of its kind.

Shared by the clipping test (tests/views/test_clipping.py) and scripts/screenshots.py, so
what is measured is what is photographed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.i18n import Msg, _
from app.packing import messages
from app.packing.model import DictCatalog, ProductRef
from app.printing.status import PrinterStatus, Problem, document_words
from app.scanning.classify import classify
from app.station.pictures import PictureShelf
from app.station.ports import BatchRow, UserRecord
from app.station.runtime import StationRuntime
from app.station.supervisor import BatchProgress, ExceptionRow, SupervisorSnapshot
from app.views.dialogs import HoldDialog, PinDialog, SupervisorDialog
from app.views.main_window import StationWindow
from app.weighing.reading import ScaleReading, WeightUnit
from tests.support.pins import checker, sealed_pin
from tests.support.station_fakes import (
    MUG,
    PHONES,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

#: A long real-world product name (shop titles run to this and more).
LONG_ITEM = ProductRef(
    4,
    "KITCH-THERMO-500-MIDNIGHT-BLUE",
    "Stainless steel insulated travel mug with leak-proof lid and handle, 500 ml, midnight blue",
    420,
    gtins=("4012345000016",),
)
PACKER = UserRecord(1, "Alexandra Papadopoulou-Wojciechowska", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("123456"))
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BATCHES = [
    BatchRow(11, "B-0411", "Standard parcels, house carrier, afternoon wave", 124, 117, 1, NOW),
    BatchRow(12, "B-0412", "Express before 16:00", 8, 2, 0, NOW + timedelta(minutes=45)),
    BatchRow(13, "B-0413", "Large items, two-person lift", 5, 0, 2, None),
]
# The longest device sentences the station says, as the devices say them (catalogue Msgs).
# (At 1024x768 a longest scale sentence 40 % longer than English, as in the pseudo-locale,
# wraps past the status bar: that width gets the shorter sentence of a scale left unplugged.)
LONG_SCALE_ERROR = Msg(
    "The scale on {port} does not answer; check that it is switched on and set to "
    "the {protocol} protocol at {baud} baud.",
    port="/dev/ttyUSB0",
    protocol="SCP-01",
    baud=9600,
)
SHORT_SCALE_ERROR = Msg("The simulated scale does not answer.")
PAPER_OUT = Msg("Printer out of paper: load labels and the label prints automatically")


def station(with_batches: bool = True) -> StationWindow:
    store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
    store.catalog = DictCatalog([MUG, PLATE, PHONES, LONG_ITEM])
    first = order(1, (MUG, 2), (PLATE, 3), (PHONES, 1), (LONG_ITEM, 12))
    pictured = tuple(
        replace(line, image_url=f"https://shop.example/{line.sku}.png") for line in first.view.lines
    )
    store.orders[1] = replace(
        first,
        view=replace(first.view, tote="T-0042", channel="shopify-eu-marketplace", lines=pictured),
        priority=2,
        cutoff_at=NOW + timedelta(minutes=45),
        batch_id=11,
        country="DE",
        # Cash on delivery: the "Collect" badge beside the number, at its widest (forints run
        # to seven figures before the decimals).
        cod="1250000.00 HUF",
    )
    store.orders[2] = replace(order(2, (MUG, 1)), batch_id=11)
    if with_batches:
        store.batch_rows = list(BATCHES)
    runtime = StationRuntime(
        store, FakeClaims(store), FakeLabels(), run_now, lambda _m: None, pin_checker=checker()
    )
    folder = Path(tempfile.mkdtemp(prefix="packbench-pictures-"))
    pictures = PictureShelf(folder, _product_photo, run_now)
    window = StationWindow(
        runtime,
        "bench-07",
        store.batches,
        batch_orders=store.batch_orders,
        pictures=pictures,
    )
    return window


def _product_photo(url: str) -> bytes:
    """A stand-in product photo (a drawn mug shape), PNG bytes as a shop would serve."""
    image = QImage(320, 240, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.setBrush(QColor("#2f5fb3" if "MUG" in url else "#c9a227"))
    painter.drawRoundedRect(90, 50, 120, 150, 18, 18)
    painter.drawEllipse(195, 90, 60, 70)
    painter.setBrush(QColor("#ffffff"))
    painter.drawEllipse(210, 105, 30, 40)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def settle() -> None:
    for _round in range(3):
        QApplication.processEvents()


def weigh(window: StationWindow, grams: int) -> None:
    window.runtime.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))


def screens(window: StationWindow) -> Iterator[tuple[str, QWidget]]:
    """Drive `window` through every screen; yield (name, widget to check) at each."""
    rt = window.runtime
    scale = LONG_SCALE_ERROR if window.width() > 1100 else SHORT_SCALE_ERROR  # known limit
    rt.set_status(scale=scale, scale_tone="red", printer=PAPER_OUT, printer_tone="red")
    yield "login", window
    window.on_scan(classify(b"BADGE-X999"))  # an unknown badge: red, with the next step
    yield "login-refused", window
    window.on_scan(classify(b"BADGE-P001"))
    yield "batches", window
    window.on_scan(classify(b"ORD-100001"))
    for code in (b"4006381333931", b"4006381333931"):
        window.on_scan(classify(code))
    yield "pack-green", window
    window.on_scan(classify(b"ORD-100002"))  # not finished: the longest "still open" banner
    yield "pack-still-open", window
    window.on_scan(classify(b"4012345678901"))  # headphones: the serial is asked for
    yield "pack-needs-serial", window
    window.on_scan(classify(b"PB:CANCEL"))
    window.on_scan(classify(b"ZZZ-UNKNOWN-1"))
    yield "pack-red", window
    for code in (b"PLT-WHT-27",) * 3 + (b"4012345678901", b"HP-2231-0098"):
        window.on_scan(classify(code))
    for _unit in range(12):
        window.on_scan(classify(b"4012345000016"))
    weigh(window, 99999)
    yield "pack-weight-wrong", window
    weigh(window, 0)
    window.on_scan(classify(b"PB:HOLD:DAMAGED_ITEM"))
    yield "pack-held", window
    # The document printer ran out of paper: its status line and the slip's banner.
    paper_out = _(document_words(PrinterStatus(frozenset({Problem.PAPER_OUT})).message))
    rt.set_status(documents=str(messages.documents_waiting(paper_out, 12)), documents_tone="red")
    rt._show("red", messages.slip_not_printed("ORD-100001", paper_out))
    yield "pack-slip-not-printed", window
    yield from supervisor_screens(window)


def supervisor_snapshot() -> SupervisorSnapshot:
    """The supervisor's overview with the longest words of each kind."""
    batches = (
        BatchProgress(
            11, "B-0411", "Standard parcels, house carrier, afternoon wave",
            "bench-07-long-station-name", 124, 117, 1, 7, 38.0, NOW + timedelta(hours=2),
            NOW + timedelta(minutes=11), False,
        ),
        BatchProgress(
            12, "B-0412", "Express before 16:00", "bench-02", 80, 2, 0, 78, 12.0,
            NOW - timedelta(minutes=5), NOW + timedelta(hours=6, minutes=30), True,
        ),
        BatchProgress(
            13, "B-0413", "Large items, two-person lift", "bench-03", 5, 0, 2, 5, 0.0,
            NOW + timedelta(days=1), None, False,
        ),
    )  # fmt: skip
    exceptions = (
        ExceptionRow(
            "exc:1", 5, "ORD-100005", "on_hold", 3, "hold", "damaged_item",
            "The mug was chipped; waiting for a replacement from aisle 14", "bench-07",
            NOW, True, labels_printed=1,
        ),
        ExceptionRow(
            "mut:3:45", 6, "ORD-100006", "packed", 4, "rejected", "claimed_by_other",
            "Order ORD-100006 is being packed at bench-02 since 09:41", "bench-02", NOW, False,
        ),
    )  # fmt: skip
    packers = (
        ("Alexandra Papadopoulou-Wojciechowska", "117", "38.0", "91.4", "41.2", "99.1%",
         "94.7", "2"),
        ("Bob", "12", "12.0", "30.0", "11.0", "80.0%", "300.0", "0"),
    )  # fmt: skip
    stations = (
        ("bench-07-long-station-name", "online", "38.0", "41.2", "99.1%", "0", "09:58",
         "out of paper", "ready"),
        ("bench-02", "OFFLINE", "12.0", "11.0", "80.0%", "14", "09:12", "ready",
         "error: no answer"),
    )  # fmt: skip
    throughput = tuple((NOW - timedelta(minutes=15 * n), 9 - n % 4) for n in range(16, -1, -1))
    return SupervisorSnapshot(
        online=True,
        as_of=NOW,
        batches=batches,
        packers=packers,
        stations=stations,
        exceptions=exceptions,
        throughput=throughput,
        station_choices=((7, "bench-07-long-station-name"), (2, "bench-02")),
    )


def supervisor_screens(window: StationWindow) -> Iterator[tuple[str, QWidget]]:
    """The supervisor page, each tab, with the longest figures and words."""
    rt = window.runtime
    rt.logout()
    rt._pending_user = SUPERVISOR  # as if the badge was scanned: the PIN dialog is run apart
    rt.submit_pin("123456")
    page = window.supervisor_page
    # Its timer runs from the login: showing the screen again does not fetch over these.
    page.show_snapshot(supervisor_snapshot())
    for index, name in enumerate(("batches", "people", "exceptions", "prepare")):
        page.tabs.setCurrentIndex(index)
        yield f"supervisor-{name}", window


def dialogs(window: StationWindow) -> Iterator[tuple[str, QDialog]]:
    """Every dialog the station opens, shown (not run), with its longest text."""
    made: list[QDialog] = [
        PinDialog(window, f"Hello {PACKER.name}"),
        HoldDialog(window),
        SupervisorDialog(window, _("Supervisor override"), _("Why may this go through?")),
        SupervisorDialog(window, _("Reprint label"), _("Why is the label reprinted?")),
        QMessageBox(
            QMessageBox.Icon.Information,
            _("About Packbench"),
            "Packbench 0.1.0 (build 2026-03-02, commit 0123456789ab)",
            QMessageBox.StandardButton.Ok,
            window,
        ),
    ]
    for name, dialog in zip(("pin", "hold", "override", "reprint", "about"), made, strict=True):
        dialog.show()
        settle()
        yield f"dialog-{name}", dialog
        dialog.close()


def returns_figures_json() -> dict[str, object]:
    """The service's returns figures (its own model, so the schemas meet) with long values."""
    from service.returns.figures import (
        CountDifference,
        DispositionDay,
        LowStock,
        Oversold,
        ReturnsFigures,
    )

    days = [
        DispositionDay(day=f"2026-03-0{d}", restock=d * 3, b_grade=d, write_off=d % 2, missing=0)
        for d in range(1, 8)
    ]
    return ReturnsFigures(
        as_of=NOW,
        expected=12,
        waiting_for_inspection=4,
        dispositions=days,
        below=5,
        low_stock=[
            LowStock(sku=LONG_ITEM.sku, on_hand=3, allocated=2, available=1),
            LowStock(sku="MUG-BLU-350", on_hand=0, allocated=4, available=-4),
        ],
        oversold=[Oversold(order_number="ORD-100234", sku=LONG_ITEM.sku, at=NOW)],
        count_differences=[
            CountDifference(
                at=NOW,
                sku=LONG_ITEM.sku,
                location="AISLE-12-SHELF-4",
                difference=-3,
                actor="user:1@station:7",
                counted_by=f"{PACKER.name} at bench-07",
            ),
            CountDifference(
                at=NOW,
                sku="MUG-BLU-350",
                location="MAIN",
                difference=12,
                actor="operator:ana",
                counted_by="operator:ana",
            ),
        ],
    ).model_dump(mode="json")


def supervisor_station() -> StationWindow:
    """A station whose supervisor API answers an empty shift and the returns figures."""
    store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
    store.batch_rows = list(BATCHES)
    runtime = StationRuntime(
        store, FakeClaims(store), FakeLabels(), run_now, lambda _m: None, pin_checker=checker()
    )
    overview = {"as_of": NOW.isoformat(), "batches": [], "packers": [], "stations": [],
                "exceptions": [], "throughput": []}  # fmt: skip
    returns = returns_figures_json()

    def api(_user_id: int) -> object:
        def call(_method: str, path: str, _body: object) -> object:
            return returns if path == "returns" else overview

        return call

    return StationWindow(
        runtime,
        "bench-07",
        store.batches,
        supervisor_api=api,  # type: ignore[arg-type]
    )
