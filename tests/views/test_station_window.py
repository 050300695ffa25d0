"""The station window as a packer sees it: which page, the banner, the lines, keys, dialogs.

The runtime runs on in-memory fakes; scans go in through `StationWindow.on_scan`, exactly as
the scanner bridge delivers them. Modal dialogs are never shown: their `exec` is replaced by
a function that fills the fields the way a person (or a badge scan) would and answers.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from app.i18n import _
from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.views.dialogs import PinDialog, SupervisorDialog
from app.views.main_window import StationWindow
from app.weighing.reading import ScaleReading, WeightUnit
from sync.protocol import MutationType
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

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(9, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("1234"))
MUG_EAN = b"4006381333931"


class Station:
    """A window over a runtime over fakes, plus the sounds it asked for."""

    def __init__(self, qtbot: QtBot) -> None:
        self.store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
        self.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
        self.claims = FakeClaims(self.store)
        self.labels = FakeLabels()
        self.sounds: list[str] = []
        self.runtime = StationRuntime(
            self.store,
            self.claims,
            self.labels,
            run_now,
            lambda _model: None,
            pin_checker=checker(),
            auto_complete=False,  # the PB:CLOSE path; tests/views/test_first_day_window.py
        )
        self.window = StationWindow(
            self.runtime, "bench-7", self.store.batches, sounds=self.sounds.append
        )
        qtbot.addWidget(self.window)

    def scan(self, data: bytes) -> None:
        self.window.on_scan(classify(data))

    def weigh(self, grams: int) -> None:
        self.runtime.scale_reading(ScaleReading(Decimal(grams), WeightUnit.G, True))

    @property
    def page(self) -> object:
        return self.window.stack.currentWidget()

    @property
    def banner(self) -> tuple[str, str]:
        banner = self.window.stack.currentWidget().banner  # type: ignore[attr-defined]
        return banner.tone, plain(banner.text())

    def counts(self) -> list[tuple[str, str]]:
        table = self.window.pack.lines
        return [
            (table.item(row, 2).text(), table.item(row, 3).text())
            for row in range(table.rowCount())
        ]

    def open_order(self) -> None:
        self.scan(b"BADGE-P001")
        self.scan(b"ORD-100001")
        assert self.page is self.window.pack


@pytest.fixture
def station(qtbot: QtBot) -> Station:
    return Station(qtbot)


def fake_exec(result: QDialog.DialogCode, fill: Callable[[QDialog], None]) -> Callable[..., int]:
    """An `exec` that fills the dialog as a person would, then answers without blocking."""

    def exec_(dialog: QDialog) -> int:
        fill(dialog)
        return int(result.value)

    return exec_


def test_login_then_batches_then_pack_page(station: Station) -> None:
    w = station.window
    assert station.page is w.login
    assert station.banner == ("amber", "●  Scan your badge to start.")

    station.scan(b"BADGE-P001")
    assert station.page is w.batch_page
    tone, text = station.banner
    assert tone == "green" and "Hello Alex Packer" in text
    assert "Alex Packer" in w.batch_page.greeting.text()
    assert "Alex Packer" in w.status.user.text()

    station.scan(b"ORD-100001")
    assert station.page is w.pack
    assert w.pack.number.text() == "ORD-100001"
    assert "shopify" in w.pack.detail.text() and "DE" in w.pack.detail.text()
    assert station.counts() == [("0", "2"), ("0", "1")]
    skus = [w.pack.lines.item(row, 0).text() for row in range(2)]
    assert skus == ["MUG-BLU-350", "PLT-WHT-27"]


def test_unknown_badge_is_red_on_the_login_page(station: Station) -> None:
    station.scan(b"BADGE-X999")
    tone, text = station.banner
    assert station.page is station.window.login
    assert tone == "red" and text.startswith("✖") and "not allowed on this station" in text
    assert station.sounds[-1] == "red"


def test_accepted_item_is_green_and_counted(station: Station) -> None:
    station.open_order()
    station.scan(MUG_EAN)
    tone, text = station.banner
    assert tone == "green" and text.startswith("✔") and "1 of 2" in text
    assert station.counts() == [("1", "2"), ("0", "1")]
    assert station.sounds[-1] == "green"

    station.scan(MUG_EAN)
    assert station.counts() == [("✔ 2", "2"), ("0", "1")]


def test_unknown_code_is_red_and_changes_nothing(station: Station) -> None:
    station.open_order()
    station.scan(MUG_EAN)
    station.scan(b"ZZZ-UNKNOWN-1")
    tone, text = station.banner
    assert tone == "red" and text.startswith("✖") and "unknown" in text.lower()
    assert station.counts() == [("1", "2"), ("0", "1")]
    assert station.sounds[-1] == "red"


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")  # offscreen plugin only
def test_f9_closes_and_says_what_is_still_to_scan(station: Station, qtbot: QtBot) -> None:
    station.open_order()
    station.scan(MUG_EAN)
    window = station.window
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()  # shortcuts only fire in the active window
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F9)
    tone, text = station.banner
    # the packer is told how much is still to scan, in red, and nothing is closed
    assert tone == "red" and "Scan the 2 missing items" in text
    assert station.page is station.window.pack
    assert station.counts() == [("1", "2"), ("0", "1")]


def test_supervisor_badge_at_login_asks_for_the_pin(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def type_pin(dialog: QDialog) -> None:
        assert isinstance(dialog, PinDialog)
        asked.append(plain(dialog.windowTitle()))
        dialog.pin.setText("1234")

    monkeypatch.setattr(PinDialog, "exec", fake_exec(QDialog.DialogCode.Accepted, type_pin))
    station.scan(b"BADGE-S001")
    assert asked == ["PIN"]
    assert station.runtime.user is SUPERVISOR
    assert station.page is station.window.supervisor_page
    assert station.window._dialog is None


def test_wrong_pin_stays_on_login_in_red(station: Station, monkeypatch: pytest.MonkeyPatch) -> None:
    def type_pin(dialog: QDialog) -> None:
        dialog.pin.setText("0000")  # type: ignore[attr-defined]

    monkeypatch.setattr(PinDialog, "exec", fake_exec(QDialog.DialogCode.Accepted, type_pin))
    station.scan(b"BADGE-S001")
    tone, text = station.banner
    assert station.page is station.window.login
    assert tone == "red" and "PIN is wrong" in text
    assert station.runtime.user is None


def test_cancelled_pin_returns_to_the_welcome(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        PinDialog, "exec", fake_exec(QDialog.DialogCode.Rejected, lambda _dialog: None)
    )
    station.scan(b"BADGE-S001")
    assert station.page is station.window.login
    assert station.banner == ("amber", "●  Scan your badge to start.")


def test_badge_scan_fills_the_supervisor_dialog(station: Station, qtbot: QtBot) -> None:
    station.open_order()
    dialog = SupervisorDialog(
        station.window, _("Supervisor override"), _("Why may this go through?")
    )
    qtbot.addWidget(dialog)
    station.window._dialog = dialog  # as `_supervisor` does while the dialog is open
    station.scan(b"BADGE-S001")
    assert dialog.badge.text() == "BADGE-S001"
    station.scan(MUG_EAN)  # anything else is ignored while the dialog is open
    assert station.counts() == [("0", "2"), ("0", "1")]


def test_override_through_the_dialog_records_the_supervisor(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    station.open_order()
    for code in (MUG_EAN, MUG_EAN, b"PLT-WHT-27"):
        station.scan(code)
    station.weigh(3000)  # far above the expected weight
    tone, text = station.banner
    assert tone == "amber" and "supervisor" in text
    assert station.labels.jobs == []

    def supervisor_answers(dialog: QDialog) -> None:
        assert isinstance(dialog, SupervisorDialog)
        station.scan(b"BADGE-S001")  # the supervisor scans their badge into the dialog
        assert dialog.badge.text() == "BADGE-S001"
        dialog.pin.setText("1234")
        dialog.reason.setText("extra padding for glass")

    monkeypatch.setattr(
        SupervisorDialog, "exec", fake_exec(QDialog.DialogCode.Accepted, supervisor_answers)
    )
    station.window.action_override()
    assert station.window._dialog is None
    assert station.labels.jobs == [(1, 1, 3000)]
    granted = [e for e in station.store.recorded if e.type is MutationType.OVERRIDE_GRANTED]
    assert len(granted) == 1
    assert granted[0].payload.supervisor_id == SUPERVISOR.id
    assert granted[0].payload.reason == "extra padding for glass"


def test_cancelled_override_changes_nothing(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    station.open_order()
    for code in (MUG_EAN, MUG_EAN, b"PLT-WHT-27"):
        station.scan(code)
    station.weigh(3000)
    monkeypatch.setattr(
        SupervisorDialog, "exec", fake_exec(QDialog.DialogCode.Rejected, lambda _dialog: None)
    )
    station.window.action_override()
    assert station.labels.jobs == []
    assert not any(e.type is MutationType.OVERRIDE_GRANTED for e in station.store.recorded)
    assert station.banner[0] == "amber"


def test_packed_order_plays_the_done_sound(station: Station) -> None:
    station.open_order()
    for code in (MUG_EAN, MUG_EAN, b"PLT-WHT-27"):
        station.scan(code)
    station.weigh(1530)
    station.runtime.label_done(1, True, "")
    station.scan(b"PB:CLOSE")
    tone, text = station.banner
    assert tone == "green" and "packed" in text
    assert station.sounds[-1] == "done"


def test_serial_fragment_is_refused_and_the_recorded_serial_shows_on_its_line(
    qtbot: QtBot,
) -> None:
    station = Station(qtbot)
    station.store.orders[1] = order(1, (MUG, 1), (PHONES, 1))
    station.open_order()
    station.scan(b"4012345678901")  # headphones: the station asks for the serial
    assert station.banner[0] == "amber"
    station.scan(b"BT-01")  # the tail of HDP-BT-01, a burst cut in two
    tone, text = station.banner
    assert tone == "red"
    assert "BT-01 is only part of the product code HDP-BT-01: the scan was cut short." in text
    assert all("S/N" not in station.window.pack.lines.item(r, 1).text() for r in range(2))
    station.scan(b"HP-2231-0098")
    assert station.banner[0] == "green"
    names = [station.window.pack.lines.item(r, 1).text() for r in range(2)]
    assert names[1] == "Headphones  ·  S/N HP-2231-0098"
    assert station.counts()[1] == ("✔ 1", "1")


def test_a_badge_of_any_shape_fills_the_supervisor_dialog(qtbot: QtBot) -> None:
    station = Station(qtbot)
    odd = UserRecord(12, "Hana Two", "supervisor", "SUP-H2-P1", sealed_pin("123456"))
    station.store.users[odd.badge] = odd
    station.open_order()
    dialog = SupervisorDialog(
        station.window, _("Supervisor override"), _("Why may this go through?")
    )
    qtbot.addWidget(dialog)
    station.window._dialog = dialog
    station.scan(b"SUP-H2-P1")
    assert dialog.badge.text() == "SUP-H2-P1"
