"""The status bar: server connection, queue depth, scanner, scale and printer."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy

from app.i18n import _, current, number, render, time
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
        self._shown: tuple[StatusInfo, str] | None = None
        self._rest: tuple[StatusInfo, str, str] | None = None

    def retranslate(self) -> None:
        """The last status again, in the current language."""
        if self._shown is not None:
            self.show_status(*self._shown)

    def show_status(self, status: StatusInfo, user_name: str) -> None:
        self._shown = (status, user_name)
        tone = "green" if status.queue_depth == 0 else "amber"
        # TRANSLATORS: events waiting in the station's outbox to go to the service
        self._set(self.queue, tone, _("To send: {n}", n=number(status.queue_depth)))
        # Every scan changes the queue depth and little else: the rest only when it changed.
        rest = (
            replace(status, queue_depth=0, live_grams=None, live_stable=False),
            user_name,
            current(),
        )
        if rest == self._rest:
            return
        self._rest = rest
        self.user.setText(
            _("Logged in: {name}", name=user_name) if user_name else _("nobody logged in")
        )
        if status.online:
            if status.last_sync:
                text = _("Online · synced {time}", time=time(status.last_sync.astimezone()))
            else:
                text = _("Online")
            self._set(self.server, "green", text)
        elif status.offline_since:
            since = time(status.offline_since.astimezone())
            self._set(self.server, "red", _("OFFLINE since {time}", time=since))
        else:
            self._set(self.server, "red", _("OFFLINE"))
        for label, tone, working, broken, message in (
            (
                self.scanner,
                status.scanner_tone,
                _("Scanner ✔"),
                _("Scanner: {problem}", problem=render(status.scanner)),
                status.scanner,
            ),
            (
                self.scale,
                status.scale_tone,
                _("Scale ✔"),
                _("Scale: {problem}", problem=render(status.scale)),
                status.scale,
            ),
            (
                self.printer,
                status.printer_tone,
                _("Printer ✔"),
                _("Printer: {problem}", problem=render(status.printer)),
                status.printer,
            ),
        ):
            # A working device needs no sentence; a problem shows the device's own words.
            self._set(label, tone, working if tone == "green" else broken)
            label.setToolTip(render(message))
        # The document printer (packing slips) has a line of its own when there is one: a
        # problem there says what to do and how many slips wait, a working one just ✔.
        self.documents.setVisible(bool(status.documents))
        if status.documents:
            tone = status.documents_tone
            words = render(status.documents)
            self._set(
                self.documents,
                tone,
                _("Document printer ✔") if tone == "green" else words,
            )
            self.documents.setToolTip(words)

    @staticmethod
    def _set(label: QLabel, tone: str, text: str) -> None:
        label.setText(text)
        style = f"color: {STATUS_TONE.get(tone, '#333')}; font-weight: 600;"
        if label.styleSheet() != style:  # re-styling re-polishes the widget: only on change
            label.setStyleSheet(style)
