"""Issue 17 as the packer sees it on the window: the banner, the standing next-step line,
the weight panel and the list, through scans, scale readings and dialogs (pytest-qt).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from app.i18n import render, weight
from app.scanning.classify import classify
from app.station.ports import BatchRow, UserRecord
from app.station.runtime import StationRuntime
from app.views.dialogs import HoldDialog
from app.views.main_window import StationWindow
from app.weighing.reading import ScaleReading, WeightUnit
from tests.support.pins import checker, sealed_pin
from tests.support.pseudo import plain
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

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen platform, on show()

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("123456"))


class Bench:
    def __init__(self, qtbot: QtBot, auto_complete: bool = True) -> None:
        self.store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
        self.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
        self.store.orders[2] = order(2, (MUG, 1))
        self.labels = FakeLabels()
        self.runtime = StationRuntime(
            self.store,
            FakeClaims(self.store),
            self.labels,
            run_now,
            lambda _m: None,
            pin_checker=checker(),
            auto_complete=auto_complete,
        )
        self.window = StationWindow(self.runtime, "bench-7", self.store.batches)
        qtbot.addWidget(self.window)

    def scan(self, data: bytes) -> None:
        self.window.on_scan(classify(data))

    def weigh(self, grams: int) -> None:
        self.runtime.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))

    @property
    def banner(self) -> str:
        return plain(self.window.pack.banner.text())

    @property
    def next_step(self) -> str:
        return plain(self.window.pack.next_step.text())

    @property
    def panel(self) -> str:
        return plain(self.window.pack.weight.text())

    def pack_items(self) -> None:
        self.scan(b"BADGE-P001")
        self.scan(b"ORD-100001")
        for code in (b"4006381333931", b"4006381333931", b"PLT-WHT-27"):
            self.scan(code)

    def types(self) -> list[str]:
        return [e.type.value for e in self.store.recorded]


def test_wrong_weight_recovers_by_lifting_the_box_off_without_pb_reweigh(qtbot: QtBot) -> None:
    bench = Bench(qtbot)
    bench.pack_items()
    bench.weigh(3000)
    assert (
        f"{render(weight(3000))} is too heavy" in bench.banner
        and "A supervisor can override: F6." in bench.banner
    )
    # the banner's weight, as the reader's locale writes it ("3.00 kg", "3,00 kg")
    assert bench.panel == f"{render(weight(3000))} ✖"
    assert bench.next_step.startswith("➜  Check the items, lift box 1 off the scale")
    bench.weigh(0)
    bench.weigh(1530)
    assert f"Box 1 weighs {render(weight(1530))}" in bench.banner
    assert bench.panel == f"{render(weight(1530))} ✔"
    assert bench.labels.jobs == [(1, 1, 1530)]  # the label: the same number again
    assert "reweigh" not in " ".join(bench.types())


def test_an_order_finishes_by_itself_when_its_label_has_printed(qtbot: QtBot) -> None:
    bench = Bench(qtbot)
    bench.pack_items()
    bench.weigh(1530)
    assert bench.next_step == "➜  Wait: the label for box 1 is printing."
    bench.runtime.label_done(1, True, "")
    assert "Order ORD-100001 is packed in 1 box" in bench.banner
    assert bench.next_step == "➜  Stick the label on, then scan the next order."
    assert bench.types()[-1] == "order_packed"
    bench.scan(b"ORD-100002")  # the next order opens at once
    assert bench.window.pack.number.text() == "ORD-100002"


def test_holding_a_labelled_order_through_the_dialog_says_the_label_must_be_voided(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = Bench(qtbot, auto_complete=False)
    bench.pack_items()
    bench.weigh(1530)
    bench.runtime.label_done(1, True, "")

    def choose_damaged(dialog: HoldDialog) -> int:
        dialog.reasons.setCurrentRow(1)  # damaged item
        return int(QDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(HoldDialog, "exec", choose_damaged)
    bench.window.action_hold()
    assert "is on hold (damaged item)" in bench.banner
    assert "The label for box 1 has printed: take it off" in bench.banner
    assert bench.next_step.startswith("➜  Take the label off box 1")


def test_serial_items_are_marked_before_they_are_scanned(qtbot: QtBot) -> None:
    bench = Bench(qtbot)
    bench.store.orders[1] = order(1, (MUG, 1), (PHONES, 1))
    bench.scan(b"BADGE-P001")
    bench.scan(b"ORD-100001")
    names = [plain(bench.window.pack.lines.item(r, 1).text()) for r in range(2)]
    assert names == ["Blue mug", "Headphones  ·  needs serial"]
    bench.scan(b"4012345678901")
    assert bench.next_step == "➜  Scan the serial number of Headphones."
    bench.scan(b"PB:CLOSE")
    assert bench.banner.endswith(
        "The serial number of Headphones is missing; scan it, then the 1 other item."
    )
    bench.scan(b"HP-2231-0098")
    name = bench.window.pack.lines.item(1, 1).text()
    assert name == "Headphones  ·  S/N HP-2231-0098"  # recorded, no longer "needs serial"


def _batch_bench(qtbot: QtBot) -> Bench:
    bench = Bench(qtbot)
    bench.store.batch_rows = [BatchRow(11, "B-0411", "Standard parcels", 2, 0, 0, None)]
    for order_id in (1, 2):
        bench.store.orders[order_id] = replace(bench.store.orders[order_id], batch_id=11)
    bench.store.orders[2] = replace(
        bench.store.orders[2],
        view=replace(bench.store.orders[2].view, tote="T-0002", status="on_hold"),
    )
    bench.window.batch_orders = bench.store.batch_orders  # what run.py passes
    bench.window.batch_page.batch_orders = bench.store.batch_orders
    bench.window.resize(1366, 768)
    bench.window.show()
    qtbot.waitExposed(bench.window)
    bench.window.activateWindow()
    qtbot.waitUntil(bench.window.isActiveWindow)
    bench.scan(b"BADGE-P001")
    return bench


def test_the_batch_screen_lists_each_batchs_orders_and_totes_and_a_click_opens_one(
    qtbot: QtBot,
) -> None:
    bench = _batch_bench(qtbot)
    page = bench.window.batch_page
    assert bench.window.stack.currentWidget() is page
    rows = [
        tuple(plain(page.orders.item(r, c).text()) for c in range(4))
        for r in range(page.orders.rowCount())
    ]
    assert rows == [("ORD-100001", "—", "3", "to pack"), ("ORD-100002", "T-0002", "1", "on hold")]
    assert "B-0411" in page.orders_title.text()
    rect = page.orders.visualItemRect(page.orders.item(0, 0))
    qtbot.mouseClick(page.orders.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert bench.window.stack.currentWidget() is bench.window.pack
    assert bench.window.pack.number.text() == "ORD-100001"


def test_enter_goes_from_the_batch_to_its_orders_and_opens_one(qtbot: QtBot) -> None:
    bench = _batch_bench(qtbot)
    page = bench.window.batch_page
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)  # into the batch's orders
    assert page.orders.hasFocus()
    qtbot.keyClick(page.orders, Qt.Key.Key_Return)  # opens the first order
    assert bench.window.pack.number.text() == "ORD-100001"


def test_a_station_with_no_batch_says_what_to_do_and_whom_to_ask(qtbot: QtBot) -> None:
    bench = Bench(qtbot)
    bench.window.show()
    bench.scan(b"BADGE-P001")
    page = bench.window.batch_page
    assert page.empty.isVisible() and not page.table.isVisible()
    text = plain(page.empty.text())
    assert "Scan an order or tote barcode" in text and "ask your shift supervisor" in text
    assert "station bench-7" in text


def test_the_picture_slot_shows_the_product_or_says_why_not(qtbot: QtBot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    from app.station.pictures import PictureShelf

    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    served = {"https://img/mug.png": bytes(data.data()), "https://img/plate.png": b"<html>"}
    bench = Bench(qtbot)
    record = bench.store.orders[1]
    mug, plate = record.view.lines
    lines = (
        replace(mug, image_url="https://img/mug.png"),
        replace(plate, image_url="https://img/plate.png"),
    )
    bench.store.orders[1] = replace(record, view=replace(record.view, lines=lines))
    bench.window.pictures = PictureShelf(tmp_path, served.__getitem__, run_now)
    bench.window.pictures.on_ready = bench.window._picture_ready
    bench.scan(b"BADGE-P001")
    bench.scan(b"ORD-100001")  # the first line to scan: the mug
    picture = bench.window.pack.picture
    assert picture.pixmap() is not None and not picture.pixmap().isNull()
    bench.scan(b"PLT-WHT-27")  # the plate's "picture" is a web page
    assert plain(picture.text()) == "Picture file is not an image"
