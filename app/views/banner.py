"""The large state banner: colour, a symbol and one sentence saying what to do next."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy

from app.i18n import render
from app.views.theme import TONES

_LEAST = 110  # px: the banner's height with one short sentence


class Banner(QLabel):
    """Green accepted, amber waiting, red problem; the symbol repeats the colour's meaning."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumHeight(_LEAST)
        # Never taller than its text needs: spare room goes to the lists below.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.tone = ""

    def _fit(self) -> None:
        """Never shorter than its text wrapped at its width either: a long sentence (a longer
        language, a narrow screen) takes lines from the lists below, it never loses one.
        (The page's box layout sizes the banner by its size hint, not by height-for-width.)"""
        need = max(_LEAST, self.heightForWidth(self.width()))
        if need != self.minimumHeight():
            self.setMinimumHeight(need)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def show_message(self, tone: str, message: object) -> None:
        """Paint the banner in `tone` with `message` (a Msg renders in the current language)."""
        background, text, symbol = TONES.get(tone, TONES["amber"])
        self.tone = tone
        style = f"background: {background}; color: {text};"
        if self.styleSheet() != style:  # re-styling re-polishes the widget: only on change
            self.setStyleSheet(style)
        self.setText(f"{symbol}  {render(message)}")
        self._fit()


class NextStep(QLabel):
    """The standing instruction under the banner: what to do next, never replaced by errors."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("nextStep")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def show_step(self, text: object) -> None:
        """Show `text` (a Msg renders in the current language; hidden when empty)."""
        words = render(text) if text else ""
        self.setText(f"➜  {words}" if words else "")
        self.setVisible(bool(words))
