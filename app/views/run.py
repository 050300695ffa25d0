"""Build and run the station's Qt application from settings.

Order matters: the database lock first (a second instance must stop before touching any
device), then the sync engine, devices, runtime and window. Everything started here is
stopped in reverse order when the window closes.
"""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import StationPaths, StationSettings
from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.i18n import N_, Msg, _
from app.station.screen import Tone
from sync.clock import utcnow

log = logging.getLogger(__name__)

_TONE: dict[DeviceState, Tone] = {
    DeviceState.READY: "green",
    DeviceState.WARNING: "amber",
    DeviceState.ERROR: "red",
    DeviceState.DISCONNECTED: "red",
}


def _resources() -> Path:
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    return base / "resources"


class Sounds:
    """Accept, reject and done sounds; visual-only (one log line) when there is no audio."""

    def __init__(self, enabled: bool) -> None:
        self.effects: dict[str, Any] = {}
        if not enabled:
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as exc:
            log.info("sounds off: QtMultimedia unavailable (%s); feedback is visual only", exc)
            return
        if not QMediaDevices.audioOutputs():
            log.info("sounds off: no audio output device; feedback is visual only")
            return
        for name, file in (("green", "accept"), ("red", "reject"), ("done", "done")):
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(_resources() / "sounds" / f"{file}.wav")))
            self.effects[name] = effect

    def play(self, tone: str) -> None:
        effect = self.effects.get(tone)
        if effect is not None:
            effect.play()


def _ask(parent: Any, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return bool(answer == QMessageBox.StandardButton.Yes)


def _open_replica(paths: StationPaths) -> Any:
    from sync.errors import ReplicaCorrupt
    from sync.replica import Replica

    paths.database.parent.mkdir(parents=True, exist_ok=True)
    try:
        return Replica.open(paths.database)
    except ReplicaCorrupt as exc:
        if not _ask(
            None,
            _("Station database damaged"),
            _(
                "{problem}\n\nMove the damaged file aside and download this station's orders "
                "again from the service? (Events not yet sent may be lost; the file is kept.)",
                problem=exc,
            ),
        ):
            raise
        moved = Replica.quarantine_and_reset(paths.database)
        log.error("damaged replica moved to %s", moved)
        return Replica.open(paths.database)


def run_station(paths: StationPaths, settings: StationSettings, demo: object = None) -> int:
    """Run the station window until it is closed; returns the exit code."""
    from app import __version__
    from app.bridge import DeviceBridge
    from app.config import ConfigError
    from app.printing.printer import open_printer
    from app.printing.queue import PrintQueue
    from app.printing.worker import PrintWorker
    from app.scanning.source import open_scanner
    from app.station.auth import PinChecker
    from app.station.claims import ClientClaims
    from app.station.label_printing import StationLabels, job_outcome
    from app.station.pictures import PictureShelf, http_fetch
    from app.station.rejections import rejection_text
    from app.station.replica_store import ReplicaStore
    from app.station.return_labels import ReturnLabels
    from app.station.returns_desk import client_lookup
    from app.station.runtime import StationRuntime
    from app.station.supervisor_sessions import SupervisorSessions
    from app.views.main_window import StationWindow
    from app.weighing.driver import ScalePoller
    from app.weighing.url import open_scale
    from app.weight_settings import weight_policy
    from sync.client import StationClient, load_pin_key
    from sync.engine import SyncEngine
    from sync.errors import ReplicaError, SyncError
    from sync.protocol import Heartbeat

    qt = QApplication.instance() or QApplication(sys.argv[:1])
    qt.setApplicationName("Packbench")
    try:
        policy = weight_policy(settings)
    except ConfigError as exc:
        QMessageBox.critical(
            None, "Packbench", _("The station config cannot be used: {problem}", problem=exc)
        )
        return 2
    if not settings.server_url:
        QMessageBox.critical(
            None,
            "Packbench",
            _(
                "This station is not enrolled yet. Run "
                "'packbench enroll --server URL --code CODE' first."
            ),
        )
        return 2
    try:
        replica = _open_replica(paths)
    except ReplicaError as exc:
        QMessageBox.critical(None, "Packbench", str(exc))
        return 2
    with ExitStack() as stack:
        stack.callback(replica.close)
        bridge = DeviceBridge()
        try:
            client = StationClient(settings.server_url)
        except SyncError as exc:
            QMessageBox.critical(None, "Packbench", str(exc))
            return 2
        stack.callback(client.close)
        station_id = int(replica.get_state("station_id", 0) or 0)
        if not station_id:
            try:
                station_id = client.me().station_id
                replica.set_state("station_id", station_id)
            except SyncError as exc:
                QMessageBox.critical(
                    None,
                    "Packbench",
                    _(
                        "Cannot reach the service to identify this station the first time: "
                        "{problem}",
                        problem=exc,
                    ),
                )
                return 2
        engine = SyncEngine(
            replica,
            client,
            station_id,
            on_status=bridge.sync_status.emit,
            poll_interval=5.0,
            # The supervisor view and `station list` show which release each station runs.
            heartbeat_source=lambda: Heartbeat(app_version=__version__),
        )
        store = ReplicaStore(replica, station_id)
        queue = PrintQueue(replica._engine)  # the print queue lives in the station database
        runtime_ref: list[StationRuntime] = []

        def on_job(job: Any) -> None:
            outcome = job_outcome(job)
            if outcome is not None:
                bridge.label_done.emit(job.id, outcome[0], outcome[1])

        printer = open_printer(settings.label_printer or f"file://{paths.labels_dir}?lang=zpl")
        worker = PrintWorker(queue, printer, on_job=on_job, on_status=bridge.device_status.emit)
        labels = StationLabels(
            queue,
            printer,
            replica.labels_for_order,
            layout_file=paths.config_file.with_name("label_layout.toml"),
        )
        slips, doc_worker = _packing_slips(settings, queue, bridge)
        supervisors = SupervisorSessions(
            client.open_supervisor_session, client.supervisor, client.close_supervisor_session
        )
        stack.callback(supervisors.close)
        runtime = StationRuntime(
            store,
            ClientClaims(client, replica),
            labels,
            bridge.run_in_background,
            lambda _m: None,
            require_pin=settings.require_pin,
            allow_manual_weight=settings.allow_manual_weight,
            weight_policy=policy,
            override_requires_pin=settings.override_requires_pin,
            auto_complete=settings.auto_complete,
            slips=slips,
            pin_checker=PinChecker(load_pin_key(settings.server_url), utcnow),
            supervisor_signed_in=supervisors.sign_in,
            supervisor_signed_out=supervisors.sign_out,
            returns_lookup=client_lookup(client),
            return_labels=ReturnLabels(queue, printer, settings.station_name or "station"),
            language_changed=bridge.language_changed.emit,
        )
        runtime_ref.append(runtime)
        sounds = Sounds(settings.sounds)
        window = StationWindow(
            runtime,
            settings.station_name or "station",
            store.batches,
            sounds.play,
            supervisor_api=supervisors.api_for,
            batch_orders=store.batch_orders,
            # Pictures are kept next to the local database: shown offline once fetched.
            pictures=PictureShelf(
                paths.database.parent / "pictures", http_fetch, bridge.run_in_background
            ),
        )
        bridge.scan.connect(window.on_scan)
        bridge.language_changed.connect(window.retranslate)
        devices = {
            N_("Scanner"): settings.scanner,
            N_("Scale"): settings.scale,
            N_("Label printer"): printer.url,
            N_("Document printer"): settings.document_printer,
            N_("Server"): settings.server_url,
        }

        def settings_dialog(parent: Any) -> Any:
            # Imported on first use: PDF rendering is not needed to start packing.
            from app.station.diagnostics import PrinterDiagnostics
            from app.views.settings_dialog import PrinterActions, SettingsDialog

            diagnostics = PrinterDiagnostics(queue, printer, settings.document_printer)

            def woken(action: Any) -> Any:
                def run() -> str:
                    result = str(action())
                    worker.wake()
                    return result

                return run

            actions = PrinterActions(
                woken(diagnostics.test_page),
                woken(diagnostics.calibrate),
                diagnostics.command_sheet,
            )
            return SettingsDialog(parent, actions, devices, window.change_language)

        window.settings_factory = settings_dialog

        bridge.reading.connect(runtime.scale_reading)
        bridge.label_done.connect(runtime.label_done)
        bridge.document_job.connect(runtime.document_job)

        def on_device(status: DeviceStatus) -> None:
            part = {
                DeviceKind.SCANNER: "scanner",
                DeviceKind.SCALE: "scale",
                DeviceKind.LABEL_PRINTER: "printer",
            }.get(status.kind)
            if part:
                runtime.set_status(**{part: status.message, f"{part}_tone": _TONE[status.state]})
            elif status.kind is DeviceKind.DOCUMENT_PRINTER:
                runtime.document_status(status)

        def on_sync(status: Any) -> None:
            rejection = status.last_rejection
            runtime.set_status(
                online=status.online,
                offline_since=status.offline_since,
                last_sync=status.last_successful_sync,
                last_rejection=str(rejection_text(rejection)) if rejection else "",
            )
            runtime.retry_awaiting_label()

        bridge.device_status.connect(on_device)
        bridge.sync_status.connect(on_sync)

        scanner = open_scanner(settings.scanner)
        if hasattr(scanner, "install"):
            scanner.install(qt)
        scanner.start(bridge.scan.emit, bridge.device_status.emit)
        stack.callback(scanner.stop)
        try:
            scale = open_scale(
                settings.scale or "manual", allow_manual=settings.allow_manual_weight
            )
            _scale_keys(window, runtime, scale)
            poller = ScalePoller(scale, bridge.reading.emit, bridge.device_status.emit)
            poller.start()
            stack.callback(poller.stop)
        except Exception as exc:  # noqa: BLE001  (a bad scale URL must not stop packing)
            log.error("scale not started: %s", exc)
            # A Msg: the status bar says it in whoever's language is logged in.
            runtime.set_status(
                scale=Msg("not available: {problem}", problem=str(exc)), scale_tone="red"
            )
        worker.start()
        stack.callback(worker.stop)
        if doc_worker is not None:  # packing slips: same queue, the document printer
            doc_worker.start()
            stack.callback(doc_worker.stop)
            bridge.run_in_background(
                doc_worker.printer.device_status,
                lambda st: on_device(st) if isinstance(st, DeviceStatus) else None,
            )
        bridge.run_in_background(
            printer.device_status,
            lambda st: on_device(st) if isinstance(st, DeviceStatus) else None,
        )
        stack.callback(lambda: _flush_outbox(engine))
        engine.start()
        stack.callback(engine.stop)
        stack.callback(lambda: bridge.wait_for_background(3000))
        window.resize(1366, 768)
        window.show()
        log.info("ready to scan (station %s)", settings.station_name)
        if demo is not None:
            _print_demo_sheet(paths)
        _quit_on_signals(qt)
        code = int(qt.exec())
        log.info("window closed: stopping devices, flushing the outbox, closing the database")
        return code


def _quit_on_signals(qt: Any) -> None:
    """SIGTERM and SIGINT end the event loop like closing the window: everything stops in order.

    Python runs a signal handler only when it gets control, so a timer gives it control. The
    handler queues the quit rather than calling it: a signal that lands after this is
    installed but before `qt.exec()` runs would otherwise be lost (Qt ignores quit() while no
    event loop runs), and the station would run on until killed."""
    import signal

    from PySide6.QtCore import QTimer

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: shutting down", signal.Signals(signum).name)
        QTimer.singleShot(0, qt.quit)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tick = QTimer(qt)
    tick.timeout.connect(lambda: None)
    tick.start(200)


def _flush_outbox(engine: Any) -> None:
    left = engine.flush()
    if left:
        log.warning("shutdown: %d scans and events stay queued for the next start", left)
    else:
        log.info("shutdown: outbox flushed")


def _scale_keys(window: Any, runtime: Any, scale: Any) -> None:
    """Keys for scales without a platter: F8 puts the parcel on, F7 lifts it off.

    A simulated scale (demo, training) gets the expected weight (Shift+F8: a wrong one, to
    practise an override); a manual scale asks for the weight a person read off.
    """
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QInputDialog

    from app.weighing.simulated import ManualScale, SimulatedScale

    def expected() -> int:
        box = runtime.model.box
        return int(box.expected_grams) if box and box.expected_grams else 500

    if isinstance(scale, SimulatedScale):
        keys = {
            "F8": lambda: scale.set_weight(expected()),
            "Shift+F8": lambda: scale.set_weight(expected() * 2),
            "F7": lambda: scale.set_weight(0),
        }
    elif isinstance(scale, ManualScale):

        def typed() -> None:
            grams, ok = QInputDialog.getInt(
                window, _("Weight"), _("Weight in grams:"), 0, 1, 100000
            )
            if ok:
                scale.enter(grams)

        keys = {"F8": typed}
    else:
        return
    for key, action in keys.items():
        QShortcut(QKeySequence(key), window).activated.connect(action)


def _print_demo_sheet(paths: StationPaths) -> None:
    """Write the command sheet with the demo badges next to the preview labels."""
    from app.demo import DEMO_BADGES
    from app.printing.documents import CommandEntry, CommandSheet
    from app.printing.layouts import command_sheet_pages
    from app.printing.pdf import render_pdf
    from app.station.count_desk import count_entries
    from app.station.diagnostics import override_entries
    from app.station.returns_desk import return_entries

    try:
        sheet = CommandSheet(
            printed_at=utcnow(),
            title="Packbench demo",
            extra=override_entries()
            + return_entries()
            + count_entries()
            + tuple(CommandEntry(code, caption) for code, caption in DEMO_BADGES),
        )
        target = paths.documents_dir / "command-sheet.pdf"
        target.write_bytes(render_pdf(command_sheet_pages(sheet)))
        print(f"Demo: command sheet with the demo badges: {target}")
        print(f"Demo: labels are written to {paths.labels_dir}")
    except Exception as exc:  # noqa: BLE001  (the sheet is a convenience, not a blocker)
        log.error("demo command sheet not written: %s", exc)


def _packing_slips(settings: Any, queue: Any, bridge: Any) -> tuple[Any, Any]:
    """The slip printing and its document-printer worker, unless this bench prints none."""
    from app.printing.printer import open_printer
    from app.printing.worker import PrintWorker
    from app.station.slips import PackingSlips, SlipPolicy

    try:
        policy = SlipPolicy(settings.packing_slips)
    except ValueError:
        log.error(
            "config: packing_slips = %r is not one of %s; no packing slips are printed",
            settings.packing_slips,
            ", ".join(p.value for p in SlipPolicy),
        )
        return None, None
    wanted = policy is not SlipPolicy.NEVER or settings.box_content_labels
    if not wanted:
        return None, None
    if not settings.document_printer:
        log.warning(
            "config: no document_printer: packing slips the channels ask for are not printed "
            "at this bench (set document_printer, e.g. cups://Office, or packing_slips = never)"
        )
        return None, None
    printer = open_printer(settings.document_printer)
    slips = PackingSlips(
        queue,
        printer.url,
        policy,
        settings.site_country,
        box_contents=settings.box_content_labels,
    )

    def status(value: object) -> None:
        log.info("document printer: %s", getattr(value, "message", value))
        bridge.device_status.emit(value)  # the status bar, on the GUI thread

    # A slip that could not print is said on screen (a banner), not only logged.
    return slips, PrintWorker(queue, printer, on_status=status, on_job=bridge.document_job.emit)
