"""The station's main window: login, batches and pack screens, status bar, shortcuts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import i18n
from app.bridge import change_language
from app.buildinfo import version_text
from app.i18n import _, render
from app.scanning.scan import Scan, ScanKind
from app.station.pictures import PictureKind, PictureShelf, PictureState
from app.station.ports import BatchOrderRow, BatchRow
from app.station.runtime import StationRuntime
from app.station.screen import Screen, ScreenModel
from app.station.supervisor import LocalFigures, SupervisorApi, SupervisorBoard
from app.views.dialogs import HoldDialog, PinDialog, SupervisorDialog
from app.views.language import apply_qt_language
from app.views.pack_page import PackPage
from app.views.pages import BatchesPage, LoginPage
from app.views.settings_dialog import SettingsDialog
from app.views.status_bar import StationStatusBar
from app.views.supervisor_page import Background, SupervisorPage
from app.views.theme import STYLE, px_per_mm, style_for

log = logging.getLogger(__name__)

SHORTCUTS = {
    "F2": "hold",
    "F3": "new_box",
    "F4": "reprint",
    "F5": "reweigh",
    "F6": "override",
    "F9": "close_order",
    "F12": "logout",
    "Escape": "cancel",
    "F1": "about",
    "F10": "settings",
}


class StationWindow(QMainWindow):
    """Renders the runtime's ScreenModel; every action has a key, none needs the mouse."""

    def __init__(
        self,
        runtime: StationRuntime,
        station_name: str,
        batches: Callable[[], Sequence[BatchRow]],
        sounds: Callable[[str], None] = lambda _tone: None,
        supervisor_api: Callable[[int], SupervisorApi] | None = None,
        background: Background | None = None,
        batch_orders: Callable[[int], Sequence[BatchOrderRow]] | None = None,
        pictures: PictureShelf | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.pictures = pictures
        if pictures is not None:
            pictures.on_ready = self._picture_ready
        self.batches = batches
        self.settings_factory: Callable[[QWidget], SettingsDialog] | None = None
        self.sounds = sounds
        self.station_name = station_name
        self._language = ""  # the language the texts on screen are in (set by retranslate)
        self._style = STYLE
        self._pinned_per_mm: float | None = None
        self._picture_url = "\0"  # nothing shown yet
        self._picture_dirty = False
        self.setStyleSheet(STYLE)
        self.login = LoginPage(station_name)
        self.batch_page = BatchesPage(
            station_name, batch_orders or (lambda _batch_id: ()), self.open_order_code
        )
        self.pack = PackPage()
        local = LocalFigures(
            station_name,
            batches,
            runtime.store.queue_depth,
            lambda: runtime.status.last_sync,
        )
        self.supervisor_page = SupervisorPage(
            lambda uid: SupervisorBoard(local, supervisor_api(uid) if supervisor_api else None),
            background or runtime.background,
        )
        self.stack = QStackedWidget()
        for page in (self.login, self.batch_page, self.pack, self.supervisor_page):
            self.stack.addWidget(page)
        self.status = StationStatusBar()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.stack, 1)
        column.addWidget(self.status)
        self.setCentralWidget(central)
        self._dialog: QDialog | None = None
        self._last_message = ""
        for key, action in SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(getattr(self, f"action_{action}"))
        runtime.on_change = self.show_model
        self.retranslate()

    # ------------------------------------------------------------------ language

    def retranslate(self, _language: object = None) -> None:
        """Every text on screen in the current language, without recreating anything.

        Called when `app.i18n`'s language changed (a badge login or logout, a `PB:LANG`
        scan, the language picker): Qt's locale and standard buttons follow, then each view
        sets its static texts and shows what it showed, in the new words."""
        self._language = apply_qt_language(i18n.current())
        self.setWindowTitle(_("Packbench — {station}", station=self.station_name))
        self.login.retranslate()
        self.batch_page.retranslate()
        self.pack.retranslate()
        self.supervisor_page.retranslate()
        self.status.retranslate()
        self.show_model(self.runtime.model)

    def change_language(self, code: str) -> str:
        """The language picker: the same switch as scanning `PB:LANG:<code>`."""
        lang = change_language(self.runtime, code)
        if lang != self._language:
            self.retranslate()
        return lang

    # ------------------------------------------------------------------ rendering

    def show_model(self, model: ScreenModel) -> None:
        """Show the screen the model names, and play its sound once per new message."""
        if i18n.current() != self._language:  # a login or logout switched the language
            self.retranslate()  # shows this model too
            return
        page: QWidget
        if model.screen is Screen.LOGIN:
            self.login.show_model(model)
            page = self.login
        elif model.screen is Screen.PACK:
            self.pack.show_model(model)
            self._show_picture(model.picture_url)
            page = self.pack
        elif (
            model.screen is Screen.SUPERVISOR
            and (user := self.runtime.user) is not None
            and user.role == "supervisor"  # checked here too: a packer never gets this page
        ):
            self.supervisor_page.activate(user.id, user.name)
            page = self.supervisor_page
        else:
            self.batch_page.show_model(model, self.batches())
            page = self.batch_page
        if page is not self.supervisor_page:
            self.supervisor_page.deactivate()
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
            if self._dialog is None:
                page.setFocus()  # arrow keys and Enter work on the batch list at once
        self.status.show_status(model.status, model.user_name)
        # A Msg's repr is its sentence and parameters: the same message in new words after
        # a language switch is no new message (no second sound).
        key = f"{model.tone}:{model.message!r}"
        if key != self._last_message:
            self._last_message = key
            # By the sentence meant, not its words: the model's message is already rendered.
            self.sounds("done" if _is_packed(self.runtime.said) else model.tone)
        if model.ask_pin_for and self._dialog is None:
            self._ask_pin()
        if model.ask_hold_reason and self._dialog is None:
            self.action_hold()

    def _show_picture(self, url: str) -> None:
        if self.pictures is None:
            self.pack.show_picture(PictureState(PictureKind.NONE))
            return
        if url != self._picture_url or self._picture_dirty:
            self._picture_url, self._picture_dirty = url, False
            state = self.pictures.state(url)
            if state.kind is PictureKind.LOADING:  # a fetch may have ended already
                state = self.pictures.state(url)
            self.pack.show_picture(state)

    def _picture_ready(self, url: str) -> None:
        """A fetch ended (on the GUI thread): show it if it is still the line on screen."""
        if url == self._picture_url and self.pictures is not None:
            self.pack.show_picture(self.pictures.state(url))

    # ------------------------------------------------------------------ scans

    def on_scan(self, scan: Scan) -> None:
        """A scan from any scanner: a supervisor dialog takes badges, else the runtime."""
        if isinstance(self._dialog, SettingsDialog):
            self._dialog.show_scan(scan)  # testing a scanner never touches an order
            return
        if isinstance(self._dialog, SupervisorDialog):
            scan = self.runtime.recognise(scan)
        if isinstance(self._dialog, SupervisorDialog) and scan.kind is ScanKind.BADGE:
            self._dialog.badge_scanned(scan.text)
            return
        if self._dialog is not None:
            log.info("scan %r ignored while a dialog is open", scan.kind.value)
            return
        self.runtime.handle_scan(scan)

    # ------------------------------------------------------------------ dialogs

    def _run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; afterwards the keyboard is this window's again.

        Without a window manager (kiosk X sessions) nobody gives the focus back when a
        dialog closes, and the F-keys would do nothing until the window was clicked.
        """
        self._dialog = dialog
        self._place_below_banner(dialog)
        try:
            return dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            self._dialog = None
            self.take_keyboard()

    def _place_below_banner(self, dialog: QDialog) -> None:
        """Dialogs sit in the lower part of the window: the banner stays readable above."""
        dialog.adjustSize()
        frame = self.geometry()
        x = frame.x() + max(0, (frame.width() - dialog.width()) // 2)
        y = frame.y() + max(0, frame.height() - dialog.height() - self.status.height() - 16)
        dialog.move(x, y)

    def take_keyboard(self) -> None:
        """Make this window the active one with the keyboard focus (also with no WM)."""
        if QGuiApplication.platformName() not in ("offscreen", "minimal"):  # no windows there
            self.raise_()
            self.activateWindow()
        page = self.stack.currentWidget()
        (page if page is not None else self).setFocus()

    def _ask_pin(self) -> None:
        dialog = PinDialog(self, render(self.runtime.model.message).split(".")[0])
        ok = self._run_dialog(dialog)
        pin = dialog.pin.text()
        if ok:
            self.runtime.submit_pin(pin)
        else:
            self.runtime.cancel_pin()

    def _supervisor(self, title: str, question: str) -> tuple[str, str, str] | None:
        dialog = SupervisorDialog(self, title, question)
        if not self._run_dialog(dialog):
            return None
        return dialog.badge.text().strip(), dialog.pin.text(), dialog.reason.text().strip()

    # ------------------------------------------------------------------ actions

    def action_hold(self) -> None:
        if self.runtime.order is None:
            return
        dialog = HoldDialog(self)
        if self._run_dialog(dialog):
            self.runtime.hold(dialog.reason(), dialog.text.text())
        else:
            self.runtime.refresh()

    def action_override(self) -> None:
        if self.runtime.order is None:
            return
        answer = self._supervisor(_("Supervisor override"), _("Why may this go through?"))
        if answer is not None:
            self.runtime.override(*answer)

    def action_reprint(self) -> None:
        if self.runtime.order is None:
            return
        answer = self._supervisor(
            # TRANSLATORS: print the shipping label again
            _("Reprint label"),
            _("Why is the label reprinted?"),
        )
        if answer is not None:
            self.runtime.reprint(*answer)

    def open_order_code(self, code: str) -> None:
        """An order chosen on the batch screen opens as if its number was scanned."""
        self.runtime.handle_scan(
            Scan(raw=code.encode(), text=code, kind=ScanKind.ORDER, source="keyboard")
        )

    def _command(self, text: str) -> None:
        self.runtime.handle_scan(
            Scan(raw=text.encode(), text=text, kind=ScanKind.COMMAND, source="keyboard")
        )

    def action_new_box(self) -> None:
        self._command("PB:NEW-BOX")

    def action_reweigh(self) -> None:
        self._command("PB:REWEIGH")

    def action_close_order(self) -> None:
        self._command("PB:CLOSE")

    def action_cancel(self) -> None:
        if self.runtime.order is not None:
            self._command("PB:CANCEL")

    def action_logout(self) -> None:
        self.runtime.logout()

    def showEvent(self, event: QShowEvent) -> None:
        """Take the keyboard when shown: with no window manager nobody else gives it."""
        super().showEvent(event)
        for delay in (0, 250, 1000):  # the first tries may come before the window is mapped
            QTimer.singleShot(delay, self._take_keyboard_if_idle)

    def _take_keyboard_if_idle(self) -> None:
        if self._dialog is None and not self.isActiveWindow():
            self.take_keyboard()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Sizes follow the screen's millimetres (theme.SIZES_MM), checked on every resize."""
        self.apply_sizes()
        super().resizeEvent(event)

    def apply_sizes(self, per_mm: float | None = None) -> None:
        """Set the style for this screen's pixels per millimetre.

        `per_mm` pins a panel (tests, screenshots of a 15.6" panel on a virtual screen); it
        then holds for later resizes too.
        """
        if per_mm is not None:
            self._pinned_per_mm = per_mm
        per_mm = self._pinned_per_mm or px_per_mm(self.screen())
        style = style_for(per_mm)
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)
            self.pack.set_px_per_mm(per_mm)
            self.supervisor_page.set_px_per_mm(per_mm)

    def action_settings(self) -> None:
        """F10: scanner test, printer test and calibration, command sheet."""
        if self.settings_factory is None or self._dialog is not None:
            return
        self._run_dialog(self.settings_factory(self))

    def action_about(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            _("About Packbench"),
            version_text(),
            QMessageBox.StandardButton.Ok,
            self,
        )
        self._run_dialog(box)


def _is_packed(message: object) -> bool:
    """The order-packed message (its own sound): by its sentence, in whatever language."""
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return "is packed" in text
    parts = getattr(message, "parts", None)
    if isinstance(parts, tuple):
        return any(_is_packed(p) for p in parts)
    return "is packed" in str(message)
