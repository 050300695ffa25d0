"""The status bar: server connection, queue depth, scanner, scale and printer."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from app.station.screen import StatusInfo
from app.views.theme import STATUS_TONE


class StationStatusBar(QStatusBar):
    """Each part says its state in words and colour."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizeGripEnabled(False)
        self.user = QLabel()
        self.server = QLabel()
        self.queue = QLabel()
        self.scanner = QLabel()
        self.scale = QLabel()
        self.printer = QLabel()
        for label in (self.user, self.server, self.queue, self.scanner, self.scale, self.printer):
            self.addPermanentWidget(label)

    def show_status(self, status: StatusInfo, user_name: str) -> None:
        self.user.setText(f"Logged in: {user_name}" if user_name else "nobody logged in")
        if status.online:
            synced = status.last_sync.astimezone().strftime("%H:%M:%S") if status.last_sync else ""
            self._set(
                self.server, "green", f"Server: online{f' (synced {synced})' if synced else ''}"
            )
        else:
            since = (
                f" since {status.offline_since.astimezone().strftime('%H:%M')}"
                if status.offline_since
                else ""
            )
            self._set(self.server, "red", f"Server: OFFLINE{since}")
        tone = "green" if status.queue_depth == 0 else "amber"
        self._set(self.queue, tone, f"To send: {status.queue_depth}")
        self._set(self.scanner, status.scanner_tone, f"Scanner: {status.scanner}")
        self._set(self.scale, status.scale_tone, f"Scale: {status.scale}")
        self._set(self.printer, status.printer_tone, f"Printer: {status.printer}")

    @staticmethod
    def _set(label: QLabel, tone: str, text: str) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {STATUS_TONE.get(tone, '#333')}; font-weight: 600;")
