"""First-run wizard model: server enrolment, device checks, self-test, then one atomic save.

Plain Python (no Qt) so every step is testable: the Qt pages in `app/views/wizard.py` only
show what these methods return. Each step answers with a `StepResult` whose message tells the
person what is wrong and what to try. Nothing is written to the config file before `finish()`;
the only earlier side effect is the station token that a successful enrolment puts in the
keyring (the code is spent then, so the token must be kept).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app import i18n
from app.config import StationPaths, StationSettings, save_settings
from app.i18n import Msg, _
from app.selftest import CheckResult, run_checks
from sync.clock import utcnow

log = logging.getLogger(__name__)

Enroll = Callable[..., Any]


# The real collaborators, imported on first use so opening the wizard stays quick.
def _default_enroll(server_url: str, code: str, *, app_version: str = "") -> Any:
    from sync.client import enroll

    return enroll(server_url, code, app_version=app_version)


def _default_detect_scale(port: str) -> Any:
    from app.weighing.detect import detect_scale

    return detect_scale(port)


def _default_open_scale(url: str, *, allow_manual: bool = False) -> Any:
    from app.weighing.url import open_scale

    return open_scale(url, allow_manual=allow_manual)


def _default_open_printer(url: str) -> Any:
    from app.printing.printer import open_printer

    return open_printer(url)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one wizard step found: ok or not, and a sentence for the person at the station."""

    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class DevicePort:
    """A serial port or HID device the station can see, with the URL to try it as."""

    kind: str  # "serial" | "hid"
    device: str
    description: str
    vid: int | None = None
    pid: int | None = None

    def label(self) -> str:
        """One line for a list: device, description and USB ids when known."""
        ids = f" [{self.vid:04x}:{self.pid:04x}]" if self.vid is not None and self.pid else ""
        return f"{self.device} — {self.description or 'unknown device'}{ids}"

    def scanner_url(self) -> str:
        """The scanner URL for this port (serial scanners only)."""
        return f"serial://{self.device}"

    def scale_url(self) -> str:
        """A HID POS scale URL; serial scales get theirs from detection."""
        return f"hidpos://{self.vid or 0:04x}:{self.pid or 0:04x}"


def list_serial_ports() -> list[DevicePort]:
    """Serial ports (USB CDC, USB-serial adapters, built-in) as pyserial sees them."""
    from serial.tools import list_ports

    return [
        DevicePort("serial", p.device, p.description or "", p.vid, p.pid)
        for p in sorted(list_ports.comports(), key=lambda p: p.device)
    ]


def list_hid_devices() -> list[DevicePort]:
    """HID devices when the optional `hidapi` package is installed; else an empty list."""
    try:
        import hid
    except ImportError:
        return []
    seen: dict[tuple[int, int], DevicePort] = {}
    for info in hid.enumerate():
        key = (int(info.get("vendor_id", 0)), int(info.get("product_id", 0)))
        name = " ".join(
            str(info.get(k) or "") for k in ("manufacturer_string", "product_string")
        ).strip()
        seen.setdefault(key, DevicePort("hid", f"{key[0]:04x}:{key[1]:04x}", name, *key))
    return list(seen.values())


_EXAMPLE = "https://oms.example.com"


def normalise_server_url(text: str) -> str:
    """`https://host[:port][/path]` without a trailing slash; ValueError says what is wrong."""
    url = text.strip().rstrip("/")
    if not url:
        raise ValueError(
            _("Enter the address of the Packbench service, e.g. {example}", example=_EXAMPLE)
        )
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            _(
                "'{text}' is not a web address. Use e.g. {example}",
                text=text.strip(),
                example=_EXAMPLE,
            )
        )
    return url


class ScannerProbe:
    """Opens a scanner and keeps what it reads, so the view can poll without blocking.

    Scans may arrive on a reader thread (serial) or the GUI thread (wedge); a queue hands
    them over either way. `install` is called with the scanner when it needs the Qt app.
    """

    def __init__(
        self,
        url: str,
        *,
        open_scanner: Callable[[str], Any] | None = None,
        install: Callable[[Any], None] | None = None,
    ) -> None:
        if open_scanner is None:
            from app.scanning.source import open_scanner as real_open

            open_scanner = real_open
        self.url = url
        self._open = open_scanner
        self._install = install
        self._source: Any = None
        self._scans: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.last_status = ""

    def start(self) -> StepResult:
        """Open and start the scanner; a bad URL or a missing port is a message, not a raise."""
        from app.scanning.errors import ScannerError

        try:
            source = self._open(self.url)
            if hasattr(source, "install") and self._install is not None:
                self._install(source)
            source.start(self._on_scan, self._on_status)
        except (ScannerError, OSError) as exc:
            return StepResult(
                False, _("Cannot open the scanner {url}: {error}", url=self.url, error=exc)
            )
        self._source = source
        return StepResult(True, _("Scan any barcode now with the scanner on {url}.", url=self.url))

    def _on_scan(self, scan: Any) -> None:
        self._scans.put(str(getattr(scan, "text", scan)))

    def _on_status(self, status: Any) -> None:
        self.last_status = str(getattr(status, "message", status))

    def poll(self) -> str | None:
        """The next scanned text, if one arrived."""
        try:
            return self._scans.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        """Release the scanner (safe to call twice)."""
        source, self._source = self._source, None
        if source is not None:
            source.stop()

    def timeout_message(self, seconds: float) -> str:
        """What to tell the person when nothing was scanned in time."""
        advice = _(
            "Nothing was scanned on {url} within {seconds} s. Check the cable, "
            "that the scanner beeps when it reads, and that it is set to USB serial (CDC) "
            "mode for a serial port or keyboard mode for {wedge}.",
            url=self.url,
            seconds=i18n.number(seconds, 0 if float(seconds).is_integer() else 1),
            wedge="'wedge'",
        )
        if not self.last_status:
            return advice
        return f"{advice} {_('The scanner reports: {status}.', status=self.last_status)}"


class FirstRunWizard:
    """The wizard's state and steps; collaborators are injectable for tests."""

    def __init__(
        self,
        paths: StationPaths,
        settings: StationSettings,
        *,
        enroll: Enroll | None = None,
        detect_scale: Callable[[str], Any] | None = None,
        open_scale: Callable[..., Any] | None = None,
        open_printer: Callable[[str], Any] | None = None,
        run_checks: Callable[[StationPaths, StationSettings], list[CheckResult]] | None = None,
        app_version: str = "",
    ) -> None:
        self.paths = paths
        self.base = settings
        self.settings = settings
        self.demo = False
        self.enrolled_with: tuple[str, str] | None = None
        self.saved = False
        self._enroll = enroll
        self._detect_scale = detect_scale
        self._open_scale = open_scale
        self._open_printer = open_printer
        self._run_checks = run_checks
        self._app_version = app_version
        self._plain_http_confirmed: str | None = None

    # ------------------------------------------------------------------ page 1: server

    def connect(self, server_text: str, code: str) -> StepResult:
        """Enroll with the service using the one-time code; the token goes to the keyring."""
        from sync.client import plain_http_to_another_host
        from sync.errors import KeyringUnavailable, SyncRejected, SyncUnavailable

        try:
            url = normalise_server_url(server_text)
        except ValueError as exc:
            return StepResult(False, str(exc))
        code = code.strip()
        if not code:
            return StepResult(False, _("Enter the enrolment code your supervisor gave you."))
        if self.enrolled_with == (url, code):  # back and forward again: the code is spent
            return StepResult(
                True, _("Enrolled as station {station}.", station=repr(self.settings.station_name))
            )
        if plain_http_to_another_host(url) and self._plain_http_confirmed != url:
            # The same warning as `packbench enroll`; pressing Next again is the confirmation.
            self._plain_http_confirmed = url
            return StepResult(
                False,
                _(
                    "Warning: {url} is plain HTTP to another machine. The station token, "
                    "supervisor PINs and customers' addresses would cross the network "
                    "unencrypted. Use https:// if you can; press Next again to enrol over "
                    "plain HTTP anyway.",
                    url=url,
                ),
            )
        enroll = self._enroll or _default_enroll
        try:
            enrolled = enroll(url, code, app_version=self._app_version)
        except KeyringUnavailable as exc:
            return StepResult(False, str(exc))
        except SyncUnavailable as exc:
            return StepResult(
                False,
                _(
                    "Cannot reach the service at {url}. Check the address, the network cable "
                    "and that the service is running, then try again. ({error})",
                    url=url,
                    error=exc,
                ),
            )
        except SyncRejected as exc:
            return StepResult(
                False,
                _(
                    "The service refused the code: {problem} Check it and try again.",
                    problem=exc.message,
                ),
            )
        self.demo = False
        self.enrolled_with = (url, code)
        self.settings = dataclasses.replace(
            self.settings, server_url=url, station_name=enrolled.station_name
        )
        return StepResult(
            True, _("Enrolled as station {station}.", station=repr(enrolled.station_name))
        )

    def choose_demo(self) -> None:
        """Demo mode: the station runs `--demo`; nothing is configured or written."""
        self.demo = True

    # ------------------------------------------------------------------ page 2: devices

    def use_devices(self, scanner: str, scale: str, label_printer: str) -> None:
        """Remember the device URLs as entered; the self-test on the last page checks them."""
        self.settings = dataclasses.replace(
            self.settings,
            scanner=scanner.strip() or "wedge",
            scale=scale.strip() or "manual",
            label_printer=label_printer.strip(),
        )
        self._able_to_weigh()

    def _able_to_weigh(self) -> None:
        """Without a scale, packers type weights in: manual weights must then be allowed.

        A config with the manual scale and `allow_manual_weight = false` cannot weigh any
        parcel; each typed-in weight is recorded as manual (`WeightRecorded.manual`).
        """
        if self.settings.scale == "manual" and not self.settings.allow_manual_weight:
            self.settings = dataclasses.replace(self.settings, allow_manual_weight=True)

    def detect_scale(self, port: str) -> StepResult:
        """Ask each scale protocol on `port`; on success the scale URL is remembered."""
        from app.weighing.errors import ScaleError

        detect = self._detect_scale or _default_detect_scale
        try:
            found = detect(port)
        except (ScaleError, OSError) as exc:
            return StepResult(False, _("Cannot open {port}: {error}", port=port, error=exc))
        if found is None:
            return StepResult(
                False,
                _(
                    "No scale answered on {port} (tried CAS, MT-SICS, NCI and Toledo at their "
                    "default settings). It may not be a scale, or the scale is off or set to "
                    "another baud rate: enter its URL by hand, or pick another port.",
                    port=port,
                ),
            )
        self.settings = dataclasses.replace(self.settings, scale=found.url)
        return StepResult(
            True, _("Found a {protocol} scale: {url}", protocol=found.protocol, url=found.url)
        )

    def read_scale(self, url: str) -> StepResult:
        """Open the scale and read once; the reading (or what went wrong) is the message."""
        from app.weighing.errors import ScaleError

        url = url.strip() or "manual"
        open_scale = self._open_scale or _default_open_scale
        if url == "manual":
            self.settings = dataclasses.replace(self.settings, scale="manual")
            self._able_to_weigh()
            return StepResult(
                True, _("No scale: packers type the weight in; each is recorded as typed in.")
            )
        try:
            scale = open_scale(url, allow_manual=True)
        except (ScaleError, OSError) as exc:
            return StepResult(False, _("Cannot open the scale {url}: {error}", url=url, error=exc))
        try:
            reading = scale.read()
        except (ScaleError, OSError) as exc:
            return StepResult(
                False,
                _(
                    "{url} did not answer as a scale: {error}. Check the cable and that the "
                    "scale is on; if it is another model, detect it again or choose another "
                    "port.",
                    url=url,
                    error=exc,
                ),
            )
        finally:
            scale.close()
        self.settings = dataclasses.replace(self.settings, scale=url)
        return StepResult(True, _("{url} reads {reading}", url=url, reading=reading.describe()))

    def print_test_label(self, url: str, *, now: datetime | None = None) -> StepResult:
        """Send the printer test page; a printer that is not ready or does not answer is said."""
        from app.printing.errors import PrinterError
        from app.printing.pages import test_job

        url = url.strip()
        if not url:
            return StepResult(
                False,
                _("Enter the label printer, e.g. {example}", example="zpl+tcp://10.0.0.5:9100"),
            )
        open_printer = self._open_printer or _default_open_printer
        try:
            printer = open_printer(url)
            status = printer.status()
            if not status.ready:
                return StepResult(
                    False,
                    _("The printer {url} is not ready: {problem}", url=url, problem=status.message),
                )
            printer.send(test_job(printer, now or utcnow()), name="test page")
        except PrinterError as exc:
            return StepResult(
                False, _("The printer {url} does not answer: {error}", url=url, error=exc)
            )
        except OSError as exc:
            return StepResult(
                False, _("Cannot send to the printer {url}: {error}", url=url, error=exc)
            )
        self.settings = dataclasses.replace(self.settings, label_printer=url)
        return StepResult(
            True, _("Test label sent to {url}. Check that it came out readable.", url=url)
        )

    # ------------------------------------------------------------------ page 3: summary

    def self_test(self) -> list[CheckResult]:
        """Run the station self-test against the settings about to be saved.

        If the station database does not exist yet, the check opens a throwaway one, so a
        cancelled wizard leaves nothing behind.
        """
        run = self._run_checks or run_checks
        if self.paths.database.exists():
            return run(self.paths, self.settings)
        scratch = Path(tempfile.mkdtemp(prefix="packbench-wizard-"))
        try:
            results = run(
                dataclasses.replace(self.paths, database=scratch / "station.sqlite3"), self.settings
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return [
            CheckResult(
                r.name, r.ok, _("{path} is created on first start", path=str(self.paths.database))
            )
            if r.name == "database" and r.ok
            else r
            for r in results
        ]

    def summary(self) -> Sequence[tuple[Msg, str | Msg]]:
        """The settings that Finish will save, as (name, value) lines."""
        s = self.settings
        none = Msg("(none)")
        return (
            (Msg("Service"), s.server_url or none),
            (Msg("Station"), s.station_name or none),
            (Msg("Scanner"), s.scanner),
            (Msg("Scale"), s.scale),
            # TRANSLATORS: weights a packer types in when there is no scale
            (
                Msg("Typed-in weights"),
                Msg("allowed") if s.allow_manual_weight else Msg("not allowed"),
            ),
            (Msg("Label printer"), s.label_printer or Msg("(preview files)")),
        )

    def finish(self) -> StationSettings:
        """Write the configuration, atomically, once; returns what was saved."""
        if not self.settings.server_url:
            raise ValueError("the station is not enrolled; finish page 1 first")
        self._able_to_weigh()
        save_settings(self.paths.config_file, self.settings)
        self.saved = True
        log.info("first-run wizard saved %s", self.paths.config_file)
        return self.settings
