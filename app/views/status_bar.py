"""The status bar: server connection, queue depth, scanner, scale and printer."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy

from app.station.screen import StatusInfo
from app.views.theme import STATUS_TONE


class StationStatusBar(QFrame):
    """Each part says its state in words and colour; a long device message wraps, never clips.

    Two rows of three (who, server, queue / scanner, scale, printer) at the bottom of the
    window: at 1024 px each part still has a third of the width, and a part that needs more
    takes a second line instead of being cut ("Scale: not available: T").
    """

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("statusBar")
        self.setStyleSheet("QFrame#statusBar { background: #e9ecef; border-top: 1px solid #bbc; }")
        self.user = QLabel()
        self.server = QLabel()
        self.queue = QLabel()
        self.scanner = QLabel()
        self.scale = QLabel()
        self.printer = QLabel()
        self.documents = QLabel()  # the document printer: shown when the station has one
        self.documents.setObjectName("documentPrinter")
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        parts = (self.user, self.server, self.queue, self.scanner, self.scale, self.printer)
        for index, label in enumerate(parts):
            # Long device messages must never make the window wider than the screen: they wrap.
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(label, index // 3, index % 3)
        self.documents.setWordWrap(True)
        self.documents.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self.documents, 2, 0, 1, 3)
        self.documents.hide()
        for column in range(3):
            grid.setColumnStretch(column, 1)

    def show_status(self, status: StatusInfo, user_name: str) -> None:
        self.user.setText(f"Logged in: {user_name}" if user_name else "nobody logged in")
        if status.online:
            synced = status.last_sync.astimezone().strftime("%H:%M") if status.last_sync else ""
            self._set(self.server, "green", f"Online{f' · synced {synced}' if synced else ''}")
        else:
            since = (
                f" since {status.offline_since.astimezone().strftime('%H:%M')}"
                if status.offline_since
                else ""
            )
            self._set(self.server, "red", f"OFFLINE{since}")
        tone = "green" if status.queue_depth == 0 else "amber"
        self._set(self.queue, tone, f"To send: {status.queue_depth}")
        for label, name, tone, message in (
            (self.scanner, "Scanner", status.scanner_tone, status.scanner),
            (self.scale, "Scale", status.scale_tone, status.scale),
            (self.printer, "Printer", status.printer_tone, status.printer),
        ):
            # A working device needs no sentence; a problem shows the device's own words.
            self._set(label, tone, f"{name} ✔" if tone == "green" else f"{name}: {message}")
            label.setToolTip(message)
        # The document printer (packing slips) has a line of its own when there is one: a
        # problem there says what to do and how many slips wait, a working one just ✔.
        self.documents.setVisible(bool(status.documents))
        if status.documents:
            tone = status.documents_tone
            words = status.documents
            self._set(
                self.documents,
                tone,
                "Document printer ✔" if tone == "green" else words,
            )
            self.documents.setToolTip(words)

    @staticmethod
    def _set(label: QLabel, tone: str, text: str) -> None:
        label.setText(text)
        style = f"color: {STATUS_TONE.get(tone, '#333')}; font-weight: 600;"
        if label.styleSheet() != style:  # re-styling re-polishes the widget: only on change
            label.setStyleSheet(style)
