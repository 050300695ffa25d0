"""Colours and type sizes: readable from two metres, colour never the only signal."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel

TONES = {
    # background, text, symbol shown before the message (colour-blind safe)
    "green": ("#1b7f3b", "#ffffff", "✔"),
    "amber": ("#f2a900", "#1a1a1a", "●"),
    "red": ("#c62828", "#ffffff", "✖"),
}

STATUS_TONE = {"green": "#1b7f3b", "amber": "#b26a00", "red": "#c62828"}

STYLE = """
QWidget { font-size: 16px; }
QMainWindow, QWidget#page { background: #f4f5f7; }
QLabel#banner { border-radius: 10px; padding: 18px 24px; font-size: 30px; font-weight: 600; }
QLabel#nextStep { border: 3px solid #1a1a1a; border-radius: 10px; padding: 10px 24px;
                  font-size: 28px; font-weight: 700; color: #111; background: #ffffff; }
QLabel#orderNumber { font-size: 40px; font-weight: 700; color: #111; }
QLabel#headerDetail { font-size: 20px; color: #333; }
QLabel#priority { font-size: 20px; font-weight: 700; color: #fff; background: #c62828;
                  border-radius: 6px; padding: 2px 10px; }
QLabel#bigPrompt { font-size: 44px; font-weight: 700; color: #222; }
QLabel#hint { font-size: 20px; color: #444; }
QLabel#boxTitle { font-size: 22px; font-weight: 700; }
QLabel#weight { font-size: 40px; font-weight: 700; font-family: monospace; }
QLabel#picture { background: #e3e6ea; border: 2px dashed #aab; color: #667; font-size: 18px; }
QTableWidget { font-size: 22px; background: #fff; gridline-color: #dde; }
QTableWidget::item { padding: 4px 8px; }
QProgressBar { font-size: 18px; font-weight: 600; }
QHeaderView::section { font-size: 18px; font-weight: 600; padding: 6px; background: #e9ecef; }
QStatusBar QLabel { font-size: 16px; padding: 0 10px; }
QPushButton { font-size: 18px; padding: 8px 16px; }
"""


def scaled_style(window_height: int) -> str:
    """STYLE with every size grown for taller screens (1366x768 is the design size).

    A packer reads the screen from two metres at any resolution, so sizes follow the
    window's height instead of staying in fixed pixels.
    """
    factor = min(2.0, max(1.0, window_height / 768))
    return re.sub(r"(\d+)px", lambda m: f"{round(int(m.group(1)) * factor)}px", STYLE)


def named_label(text: str, name: str) -> QLabel:
    """A QLabel with an object name, so the style sheet above can address it."""
    label = QLabel(text)
    label.setObjectName(name)
    return label
