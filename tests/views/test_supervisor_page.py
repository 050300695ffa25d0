"""The supervisor screen as a supervisor sees it: live figures, offline state, actions.

The overview JSON is the real service's, computed once from the scripted shift on SQLite,
so the station's parser and the service's schema are checked against each other. The
network is a fake `api` callable; background work runs synchronously (`run_now`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog, QProgressBar
from pytestqt.qtbot import QtBot

from app.i18n import percent, render
from app.scanning.classify import classify
from app.station.ports import BatchRow, UserRecord
from app.station.runtime import StationRuntime
from app.views.dialogs import PinDialog
from app.views.main_window import StationWindow
from sync.errors import SyncRejected, SyncUnavailable
from tests.support.pins import checker, sealed_pin
from tests.support.pseudo import plain
from tests.support.screens import returns_figures_json
from tests.support.station_fakes import FakeClaims, FakeLabels, FakeStore, run_now

PACKER = UserRecord(1, "Alex Packer", "packer", "BADGE-P001", None)
SUPERVISOR = UserRecord(3, "Sam Super", "supervisor", "BADGE-S001", sealed_pin("1234"))
CANDIDATE = {
    "id": 77,
    "number": "ORD-77",
    "carrier": "dhl",
    "service": "express",
    "priority": 1,
    "cutoff_at": "2026-11-30T15:00:00+00:00",
    "lines": 2,
    "items": 3,
}


@pytest.fixture(scope="module")
def overview_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from service.db import make_engine, make_sessionmaker
    from service.schema import create_all
    from service.supervisor.figures import overview
    from tests.unit.supervisor.shift import NOW, SHIFT_START, build

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sup') / 'svc.sqlite3'}")
    create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        build(s)
    with sessions() as s:
        body = overview(s, NOW, SHIFT_START).model_dump(mode="json")
    engine.dispose()
    return body


class FakeApi:
    """Records calls; answers the overview, or fails like an unreachable service."""

    def __init__(self, overview: dict[str, Any]) -> None:
        self.overview = overview
        self.returns = returns_figures_json()
        self.calls: list[tuple[int, str, str, dict[str, Any] | None]] = []
        self.offline = False
        self.refuse: str | None = None

    def for_user(self, user_id: int) -> Callable[[str, str, dict[str, Any] | None], Any]:
        def call(method: str, path: str, body: dict[str, Any] | None) -> Any:
            self.calls.append((user_id, method, path, body))
            if self.offline:
                raise SyncUnavailable("GET /v1/supervisor/overview: ConnectError")
            if path == "overview":
                return self.overview
            if path == "returns":
                return self.returns
            if self.refuse:
                raise SyncRejected(409, "conflict", self.refuse)
            if path.startswith("candidates"):
                return [CANDIDATE]
            if path == "batches":
                return [{"code": "B-NEW", "order_count": 1}]
            if path.endswith("/assign"):
                return {"code": "B-A"}
            return {"message": f"done: {path}"}

        return call


class Floor:
    def __init__(self, qtbot: QtBot, overview: dict[str, Any]) -> None:
        self.store = FakeStore(users={u.badge: u for u in (PACKER, SUPERVISOR)})
        cutoff = datetime.now(UTC) - timedelta(minutes=5)
        self.local_batches = [BatchRow(11, "B-LOCAL", "local batch", 8, 3, 1, cutoff)]
        self.store.batches = lambda: self.local_batches  # type: ignore[method-assign]
        self.api = FakeApi(overview)
        self.runtime = StationRuntime(
            self.store,
            FakeClaims(self.store),
            FakeLabels(),
            run_now,
            lambda _m: None,
            pin_checker=checker(),
        )
        self.window = StationWindow(
            self.runtime, "bench-office", self.store.batches, supervisor_api=self.api.for_user
        )
        qtbot.addWidget(self.window)
        self.page = self.window.supervisor_page

    def scan(self, data: bytes) -> None:
        self.window.on_scan(classify(data))

    def login_supervisor(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def exec_(dialog: QDialog) -> int:
            dialog.pin.setText("1234")  # type: ignore[attr-defined]
            return int(QDialog.DialogCode.Accepted.value)

        monkeypatch.setattr(PinDialog, "exec", exec_)
        self.scan(b"BADGE-S001")


@pytest.fixture
def floor(qtbot: QtBot, overview_json: dict[str, Any]) -> Floor:
    return Floor(qtbot, overview_json)


def _cells(table: Any, column: int) -> list[str]:
    return [plain(table.item(r, column).text()) for r in range(table.rowCount())]


def test_supervisor_login_shows_live_batches_people_and_chart(
    floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor.login_supervisor(monkeypatch)
    page = floor.page
    assert floor.window.stack.currentWidget() is page
    assert page.timer.isActive()
    assert floor.api.calls[0][:3] == (SUPERVISOR.id, "GET", "overview")
    assert plain(page.headline.text()).startswith("●  Live")
    assert _cells(page.batches, 0) == ["B-B  B", "B-A  A"]  # earliest cut-off first
    miss = plain(page.batches.item(0, 6).text())
    assert miss.startswith("✖") and "will miss cut-off" in miss
    assert "will miss" not in plain(page.batches.item(1, 6).text())
    bar = page.batches.cellWidget(0, 2)
    assert isinstance(bar, QProgressBar) and bar.property("miss") == "true"
    assert plain(bar.text()) == "1 of 6 packed, 5 left"
    assert _cells(page.packers, 0) == ["Bob", "Alice"]
    # formatted as the reader writes it: "100.0%" in English, "100,0%" in German or pseudo
    assert _cells(page.packers, 5) == [render(percent(1.0)), render(percent(0.8))]
    assert _cells(page.stations, 1) == ["online", "OFFLINE"]
    assert page.series.count() == 17
    assert _cells(page.exceptions, 2) == [  # words, not codes (issue 17)
        "order held at a station",
        "weight overridden",
        "no progress",
        "station event refused",
    ]
    assert "on_hold" not in _cells(page.exceptions, 1)
    assert set(_cells(page.exceptions, 4)) == {"none"}  # no printed label to void


def test_a_packer_badge_never_opens_the_supervisor_page(floor: Floor) -> None:
    floor.scan(b"BADGE-P001")
    assert floor.window.stack.currentWidget() is floor.window.batch_page
    assert not floor.page.timer.isActive()
    assert floor.api.calls == []


def test_the_timer_refreshes_and_offline_says_so_with_local_batches(
    floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor.login_supervisor(monkeypatch)
    page = floor.page
    floor.api.offline = True
    page.timer.timeout.emit()
    assert [c[2] for c in floor.api.calls] == ["overview", "returns", "overview"]
    text = plain(page.headline.text())
    assert text.startswith("✖  As of ") and "offline" in text
    assert "local data" in plain(page.notice.text())
    assert _cells(page.batches, 0) == ["B-LOCAL  local batch"]
    assert plain(page.batches.item(0, 6).text()).startswith("✖")  # cut-off passed, orders left
    assert _cells(page.packers, 0) == ["Bob", "Alice"]  # last figures seen, said so above
    assert page.exceptions.rowCount() == 0
    assert not page.create_button.isEnabled()
    floor.api.offline = False
    page.refresh()
    assert plain(page.headline.text()).startswith("●  Live")
    assert plain(page.notice.text()) == ""  # the offline sentence goes with the offline state


def test_returns_and_stock_show_live_and_stay_as_last_seen_offline(
    floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor.login_supervisor(monkeypatch)
    page = floor.page
    assert plain(page.returns_figures.text()) == (
        "Returns announced, not here yet: 12.  Waiting for inspection: 4."
    )
    assert _cells(page.dispositions, 0)[:2] == ["2026-03-07", "2026-03-06"]  # newest first
    assert _cells(page.low_stock, 3) == ["1", "-4"]
    assert plain(page.low_stock_title.text()) == "Available below 5"
    assert _cells(page.oversold, 0) == ["ORD-100234"]
    assert _cells(page.counts, 3) == ["-3", "+12"]
    assert _cells(page.counts, 4)[0].endswith(" at bench-07")
    assert page.counts.item(0, 3).foreground().color().name() == "#c62828"  # a shortfall
    floor.api.offline = True
    page.refresh()
    assert plain(page.headline.text()).startswith("✖")
    assert _cells(page.counts, 3) == ["-3", "+12"]  # last seen, the headline says offline
    floor.api.offline = False
    floor.api.returns = {"unexpected": True}  # an older service without the figures
    page.refresh()
    assert plain(page.headline.text()).startswith("●  Live")
    assert _cells(page.counts, 3) == ["-3", "+12"]  # the last figures stay


def test_release_sends_reason_and_version_and_shows_a_409(
    floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor.login_supervisor(monkeypatch)
    page = floor.page
    page.exceptions.selectRow(0)  # the hold
    assert page.action_buttons["release"].isEnabled()
    page.act("release")
    assert "at least 3 characters" in plain(page.notice.text())
    page.reason.setText("replacement mug found")
    page.action_buttons["release"].click()
    _uid, method, path, body = next(c for c in floor.api.calls if c[1] == "POST")
    hold = page.snapshot.exceptions[0]  # type: ignore[union-attr]
    assert (method, path) == ("POST", f"orders/{hold.order_id}/release")
    assert body == {"reason": "replacement mug found", "expected_version": hold.order_version}
    assert plain(page.notice.text()).startswith("✔")
    assert [c[2] for c in floor.api.calls[-2:]] == ["overview", "returns"]  # refreshed

    floor.api.refuse = "Order ORD-1 was not changed: it was packed at station bench-2 meanwhile."
    page.exceptions.selectRow(0)
    page.reason.setText("try again")
    page.act("cancel")
    assert plain(page.notice.text()) == "✖  " + floor.api.refuse
    page.exceptions.selectRow(1)  # a granted weight override: nothing to do
    assert not any(b.isEnabled() for b in page.action_buttons.values())
    page.exceptions.selectRow(3)
    page.timer.timeout.emit()  # a live refresh keeps what the supervisor selected
    assert page.selected_exception().code == "claimed_by_other"  # type: ignore[union-attr]


def test_batch_preparation_filters_creates_and_assigns(
    floor: Floor, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor.login_supervisor(monkeypatch)
    page = floor.page
    page.carrier.setText("dhl")
    page.filter_button.click()
    assert floor.api.calls[-1][1:3] == ("GET", "candidates?carrier=dhl")
    assert _cells(page.candidates, 0) == ["ORD-77"]
    page.max_orders.setValue(10)
    page.create_button.click()
    create = [c for c in floor.api.calls if c[2] == "batches"]
    assert create[0][3] == {"max_orders": 10, "carrier": "dhl"}
    assert "B-NEW (1 orders)" in plain(page.notice.text())
    page.assign_station.setCurrentIndex(1)
    page.assign_button.click()
    assign = next(c for c in floor.api.calls if c[2].endswith("/assign"))
    assert assign[3] == {"station_id": page.assign_station.currentData()}
    assert plain(page.notice.text()) == "✔  Batch B-A assigned."


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, on show()
def test_screenshot_1366x768(floor: Floor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    floor.login_supervisor(monkeypatch)
    floor.window.resize(1366, 768)
    floor.window.show()
    target = Path(os.environ.get("PACKBENCH_SCREENSHOT_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    for name, tab in (("supervisor", 0), ("supervisor-people", 1), ("supervisor-exceptions", 2)):
        floor.page.tabs.setCurrentIndex(tab)
        assert floor.window.grab().save(str(target / f"{name}-1366x768.png"))
    floor.api.offline = True
    floor.page.tabs.setCurrentIndex(0)
    floor.page.refresh()
    assert floor.window.grab().save(str(target / "supervisor-offline-1366x768.png"))
