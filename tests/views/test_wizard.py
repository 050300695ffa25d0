"""First-run wizard as a person meets it: enrol, try devices, self-test, Finish or Cancel.

Enrolment is a fake (or a closed port for the unreachable case); the scale is the simulator,
the printer writes into a temporary folder, and the scanner probe is fed by hand. The config
file must exist only after Finish.
"""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.config import StationPaths, StationSettings, load_settings
from app.i18n import Msg
from app.selftest import CheckResult
from app.views.wizard import FirstRunWizardDialog, WizardOutcome
from app.wizard_logic import DevicePort, FirstRunWizard, ScannerProbe
from sync.errors import SyncRejected
from tests.support.pseudo import plain

CODE = "ABCD-1234"

# The offscreen platform cannot resize a shown QWizard to its size hints; harmless here.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


class FakeEnroll:
    """Accepts CODE once (as the service does); any other code is refused like a used one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, url: str, code: str, *, app_version: str = "") -> Any:
        self.calls.append((url, code))
        if code != CODE or (url, code) in self.calls[:-1]:
            raise SyncRejected(410, "enroll_code_used", "This enrolment code was already used.")
        return SimpleNamespace(station_name="bench-7", station_id=7, token="t")


class FedScanner:
    """A scanner source the test scans with by calling `scan`."""

    def __init__(self) -> None:
        self.on_scan: Any = None
        self.stopped = False

    def start(self, on_scan: Any, on_status: Any) -> None:
        self.on_scan = on_scan

    def stop(self) -> None:
        self.stopped = True


def fake_checks(paths: StationPaths, settings: StationSettings) -> list[CheckResult]:
    return [
        CheckResult("database", True, f"{paths.database.name} opens"),
        CheckResult("server", True, f"{settings.server_url} answers"),
        CheckResult("scale", settings.scale == "sim://", settings.scale),
    ]


@pytest.fixture
def paths(tmp_path: Path) -> StationPaths:
    return StationPaths.for_data_dir(tmp_path / "station")


@pytest.fixture
def enroll() -> FakeEnroll:
    return FakeEnroll()


@pytest.fixture
def scanner() -> FedScanner:
    return FedScanner()


@pytest.fixture
def wizard(
    qtbot: QtBot, paths: StationPaths, enroll: FakeEnroll, scanner: FedScanner
) -> FirstRunWizardDialog:
    model = FirstRunWizard(paths, StationSettings(), enroll=enroll, run_checks=fake_checks)
    dialog = FirstRunWizardDialog(
        model,
        list_ports=lambda: [DevicePort("serial", "/dev/ttyACM0", "Honeywell 1900", 0x0C2E, 0x0B6A)],
        scanner_probe=lambda url: ScannerProbe(url, open_scanner=lambda _u: scanner),
        scan_timeout_s=0.3,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def enter_server(w: FirstRunWizardDialog, url: str, code: str) -> None:
    w.server_page.server.setText(url)
    w.server_page.code.setText(code)
    w.next()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_happy_path_saves_only_on_finish(
    qtbot: QtBot, wizard: FirstRunWizardDialog, paths: StationPaths, scanner: FedScanner
) -> None:
    enter_server(wizard, "oms.example.com/", CODE)
    assert wizard.currentPage() is wizard.devices_page
    page = wizard.devices_page
    assert "Honeywell 1900" in page.ports.item(0).text()

    page.scanner.setText("")
    page.use_port_button.click()
    assert page.scanner.text() == "serial:///dev/ttyACM0"
    page.scan_button.click()
    scanner.on_scan(SimpleNamespace(text="4006381333931"))
    qtbot.waitUntil(lambda: "Scanned: 4006381333931" in plain(page.scanner_message.text()))
    assert scanner.stopped

    page.scale.setText("sim://")
    page.weigh_button.click()
    assert plain(page.scale_message.text()).startswith("sim:// reads")

    labels = paths.labels_dir
    labels.mkdir(parents=True)
    page.printer.setText(f"file://{labels}?lang=zpl")
    page.print_button.click()
    assert "Test label sent" in plain(page.printer_message.text())
    assert list(labels.iterdir())

    wizard.next()
    assert wizard.currentPage() is wizard.summary_page
    lines = [plain(wizard.summary_page.report.item(i).text()) for i in range(3)]
    assert lines[0] == f"[ok] database: {paths.database} is created on first start"
    assert lines[1] == "[ok] server: https://oms.example.com answers"
    assert "Every check passed" in plain(wizard.summary_page.verdict.text())
    assert not paths.config_file.exists()
    assert not paths.database.exists()  # the self-test used a throwaway database

    wizard.accept()
    assert wizard.outcome is WizardOutcome.SAVED
    saved = load_settings(paths.config_file)
    assert saved.server_url == "https://oms.example.com"
    assert saved.station_name == "bench-7"
    assert saved.scanner == "serial:///dev/ttyACM0"
    assert saved.scale == "sim://"
    assert saved.label_printer == f"file://{labels}?lang=zpl"


def test_wrong_code_says_so_and_stays(wizard: FirstRunWizardDialog, paths: StationPaths) -> None:
    enter_server(wizard, "https://oms.example.com", "WRONG")
    assert wizard.currentPage() is wizard.server_page
    assert "already used" in plain(wizard.server_page.message.text())
    enter_server(wizard, "https://oms.example.com", CODE)  # corrected: goes on
    assert wizard.currentPage() is wizard.devices_page
    assert not paths.config_file.exists()


def test_unreachable_server_says_so_and_stays(qtbot: QtBot, paths: StationPaths) -> None:
    model = FirstRunWizard(paths, StationSettings(), run_checks=fake_checks)  # real enroll
    dialog = FirstRunWizardDialog(model, list_ports=list)
    qtbot.addWidget(dialog)
    dialog.show()
    enter_server(dialog, f"http://127.0.0.1:{closed_port()}", CODE)
    assert dialog.currentPage() is dialog.server_page
    assert "Cannot reach the service" in plain(dialog.server_page.message.text())
    assert not paths.config_file.exists()


def test_bad_address_is_explained(wizard: FirstRunWizardDialog, enroll: FakeEnroll) -> None:
    enter_server(wizard, "ftp://files", CODE)
    assert wizard.currentPage() is wizard.server_page
    assert "not a web address" in plain(wizard.server_page.message.text())
    assert enroll.calls == []


def test_plain_http_to_another_machine_warns_then_needs_a_second_next(
    wizard: FirstRunWizardDialog, enroll: FakeEnroll
) -> None:
    enter_server(wizard, "http://oms.example.com", CODE)
    assert wizard.currentPage() is wizard.server_page
    assert "plain HTTP to another machine" in plain(wizard.server_page.message.text())
    assert enroll.calls == []  # nothing was sent yet
    wizard.next()  # the packer confirms
    assert wizard.currentPage() is wizard.devices_page
    assert enroll.calls == [("http://oms.example.com", CODE)]


def test_plain_http_on_this_machine_needs_no_warning(
    wizard: FirstRunWizardDialog, enroll: FakeEnroll
) -> None:
    enter_server(wizard, "http://127.0.0.1:8400", CODE)
    assert wizard.currentPage() is wizard.devices_page
    assert enroll.calls == [("http://127.0.0.1:8400", CODE)]


def test_going_back_keeps_the_enrolment(
    wizard: FirstRunWizardDialog, enroll: FakeEnroll, paths: StationPaths
) -> None:
    enter_server(wizard, "https://oms.example.com", CODE)
    wizard.devices_page.scale.setText("sim://")
    wizard.next()
    assert wizard.currentPage() is wizard.summary_page
    wizard.back()
    assert wizard.currentPage() is wizard.devices_page
    wizard.back()
    assert wizard.currentPage() is wizard.server_page
    wizard.next()  # same server and code: the spent code is not sent again
    assert wizard.currentPage() is wizard.devices_page
    assert len(enroll.calls) == 1
    wizard.devices_page.scale.setText("manual")
    wizard.next()
    report = wizard.summary_page.report
    assert plain(report.item(2).text()) == "[FAIL] scale: manual"
    assert "Failed: scale" in plain(wizard.summary_page.verdict.text())
    assert not paths.config_file.exists()


def test_cancel_writes_nothing(wizard: FirstRunWizardDialog, paths: StationPaths) -> None:
    enter_server(wizard, "https://oms.example.com", CODE)
    wizard.next()
    assert wizard.currentPage() is wizard.summary_page
    wizard.reject()
    assert wizard.outcome is WizardOutcome.CANCELLED
    assert not paths.config_file.exists()
    assert not paths.database.exists()


def test_demo_mode_writes_nothing(wizard: FirstRunWizardDialog, paths: StationPaths) -> None:
    wizard.server_page.demo_button.click()
    assert wizard.outcome is WizardOutcome.DEMO
    assert not wizard.isVisible()
    assert not paths.config_file.exists()


def test_scan_timeout_says_what_to_check(qtbot: QtBot, wizard: FirstRunWizardDialog) -> None:
    enter_server(wizard, "https://oms.example.com", CODE)
    page = wizard.devices_page
    page.scanner.setText("serial:///dev/ttyACM0")
    page.scan_button.click()
    qtbot.waitUntil(
        lambda: "Nothing was scanned" in plain(page.scanner_message.text()), timeout=3000
    )
    assert page.probe is None


def test_bad_scanner_url_is_explained(qtbot: QtBot, paths: StationPaths) -> None:
    model = FirstRunWizard(paths, StationSettings(), enroll=FakeEnroll(), run_checks=fake_checks)
    dialog = FirstRunWizardDialog(model, list_ports=list)
    qtbot.addWidget(dialog)
    dialog.show()
    enter_server(dialog, "https://oms.example.com", CODE)
    dialog.devices_page.scanner.setText("bogus://x")
    dialog.devices_page.scan_button.click()
    assert "Unknown scanner type" in plain(dialog.devices_page.scanner_message.text())


# ---------------------------------------------------------------- the model's device messages


def test_port_that_is_not_a_scale(paths: StationPaths) -> None:
    model = FirstRunWizard(paths, StationSettings(), detect_scale=lambda _port: None)
    result = model.detect_scale("/dev/ttyUSB0")
    assert not result.ok
    assert "No scale answered on /dev/ttyUSB0" in plain(result.message)
    assert model.settings.scale == "manual"


def test_detected_scale_is_remembered(paths: StationPaths) -> None:
    found = SimpleNamespace(protocol="MT-SICS", url="mtsics+serial:///dev/ttyUSB0", answer=b"")
    model = FirstRunWizard(paths, StationSettings(), detect_scale=lambda _port: found)
    result = model.detect_scale("/dev/ttyUSB0")
    assert (result.ok, plain(result.message)) == (
        True,
        "Found a MT-SICS scale: mtsics+serial:///dev/ttyUSB0",
    )
    assert model.settings.scale == "mtsics+serial:///dev/ttyUSB0"


def test_missing_serial_port_is_not_a_scale(paths: StationPaths) -> None:
    result = FirstRunWizard(paths, StationSettings()).read_scale(
        "mtsics+serial:///dev/nonexistent-packbench"
    )
    assert not result.ok
    assert "nonexistent-packbench" in plain(result.message)


def test_printer_that_does_not_answer(paths: StationPaths) -> None:
    url = f"zpl+tcp://127.0.0.1:{closed_port()}?timeout=0.5"
    result = FirstRunWizard(paths, StationSettings()).print_test_label(url)
    assert not result.ok
    assert url in plain(result.message)


def test_finish_refuses_without_enrolment(paths: StationPaths) -> None:
    with pytest.raises(ValueError, match="not enrolled"):
        FirstRunWizard(paths, StationSettings()).finish()
    assert not paths.config_file.exists()


def test_a_station_set_up_without_a_scale_can_weigh(
    wizard: FirstRunWizardDialog, paths: StationPaths
) -> None:
    """The wizard recommends the manual scale; what it saves must then allow typed weights."""
    enter_server(wizard, "https://oms.example.com", CODE)
    wizard.devices_page.scale.setText("manual")
    wizard.next()
    assert "Scale: manual\nTyped-in weights: allowed" in plain(
        wizard.summary_page.settings_label.text()
    )
    wizard.accept()
    saved = load_settings(paths.config_file)
    assert (saved.scale, saved.allow_manual_weight) == ("manual", True)


def test_real_self_test_of_the_wizard_settings_passes_for_a_manual_scale(
    paths: StationPaths,
) -> None:
    model = FirstRunWizard(paths, StationSettings(allow_manual_weight=False))
    assert model.read_scale("manual").ok
    assert model.settings.allow_manual_weight
    assert (Msg("Typed-in weights"), Msg("allowed")) in model.summary()
    scale = next(r for r in model.self_test() if plain(r.name) == "scale")
    assert scale.ok and plain(scale.detail).startswith("manual weight entry")
