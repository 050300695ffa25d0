"""Colours and type sizes: readable from two metres, colour never the only signal.

Sizes are written down in millimetres on the screen, not in pixels: a packer two metres
away needs letters of a physical size whatever the panel's resolution. They are turned into
pixels with the screen's physical DPI (`px_per_mm`). The design target is a 15.6" panel at
1366x768 (about 3.9 px per mm), where the banner's letters are about 8 mm high.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QLabel

TONES = {
    # background, text, symbol shown before the message (colour-blind safe)
    "green": ("#1b7f3b", "#ffffff", "✔"),
    "amber": ("#f2a900", "#1a1a1a", "●"),
    "red": ("#c62828", "#ffffff", "✖"),
}

STATUS_TONE = {"green": "#1b7f3b", "amber": "#b26a00", "red": "#c62828"}

#: Letter sizes (em height) in millimetres on the panel. From two metres, 1/300 of the
#: distance (about 6.5 mm) is the least a word is read at a glance; what the packer checks
#: while working (banner, next step, counts, weight) is larger.
SIZES_MM: dict[str, float] = {
    "base": 4.6,  # buttons, form fields, anything not named below
    "banner": 7.6,  # what just happened
    "next_step": 7.0,  # the standing instruction under it
    "order_number": 9.0,
    "header_detail": 5.2,  # channel, country, carrier, cut-off, tote
    "cod": 6.4,  # "Collect 249.90 RON" on a cash-on-delivery order, beside the number
    "big_prompt": 9.5,  # "Scan your badge"
    "hint": 5.0,
    "box_title": 5.6,
    "weight": 9.5,
    "lines": 5.6,  # the order's lines
    "counts": 7.0,  # scanned / needed
    "table_header": 4.6,
    "status_bar": 4.6,  # connection, queue, scanner, scale, printer
    "dialog": 5.6,  # PIN, hold, supervisor dialogs: read at arm's length, typed in
    "picture": 4.6,
    # The supervisor page: read standing at the bench, more figures on one screen.
    "sup_headline": 5.6,  # "Live — as of 14:05"
    "sup_notice": 4.6,
    "sup_table": 4.1,  # batches, packers, stations, exceptions
    "sup_header": 3.9,  # their column headings
    "sup_tab": 4.6,
    "sup_button": 4.2,
    "sup_chart": 56.0,  # the throughput chart's least height
}

#: The panel the sizes were chosen for, used when a screen reports no physical size.
DESIGN_DIAGONAL_INCHES = 15.6

_STYLE = """
QWidget {{ font-size: {base}px; }}
QMainWindow, QWidget#page {{ background: #f4f5f7; }}
QLabel#banner {{ border-radius: 10px; padding: 12px 20px; font-size: {banner}px;
                font-weight: 600; }}
QLabel#nextStep {{ border: 3px solid #1a1a1a; border-radius: 10px; padding: 8px 20px;
                  font-size: {next_step}px; font-weight: 700; color: #111; background: #fff; }}
QLabel#orderNumber {{ font-size: {order_number}px; font-weight: 700; color: #111; }}
QLabel#headerDetail {{ font-size: {header_detail}px; color: #222; }}
QLabel#priority {{ font-size: {header_detail}px; font-weight: 700; color: #fff;
                  background: #c62828; border-radius: 6px; padding: 2px 10px; }}
QLabel#cod {{ font-size: {cod}px; font-weight: 800; color: #111; background: #ffd600;
             border: 3px solid #111; border-radius: 6px; padding: 2px 10px; }}
QLabel#bigPrompt {{ font-size: {big_prompt}px; font-weight: 700; color: #222; }}
QLabel#hint, QLabel#emptyHint {{ font-size: {hint}px; color: #333; }}
QLabel#emptyHint {{ background: #fff; border: 2px dashed #889; border-radius: 8px;
                   padding: 16px; }}
QLabel#boxTitle {{ font-size: {box_title}px; font-weight: 700; }}
QLabel#weight {{ font-size: {weight}px; font-weight: 700; font-family: monospace; }}
QLabel#picture {{ background: #e3e6ea; border: 2px dashed #aab; color: #445;
                 font-size: {picture}px; }}
QTableWidget {{ font-size: {lines}px; background: #fff; gridline-color: #dde; }}
QProgressBar {{ font-size: {table_header}px; font-weight: 600; }}
QHeaderView::section {{ font-size: {table_header}px; font-weight: 600; padding: 4px;
                       background: #e9ecef; }}
QWidget#statusBar QLabel {{ font-size: {status_bar}px; font-weight: 600; padding: 0 6px; }}
QDialog, QDialog QLabel, QDialog QLineEdit, QDialog QListWidget, QDialog QPushButton,
QMessageBox QLabel {{ font-size: {dialog}px; }}
QPushButton {{ padding: 6px 14px; }}
"""


def px_per_mm(screen: QScreen | None) -> float:
    """Pixels per millimetre on `screen`, from its physical size.

    A panel that reports no or a nonsense size (some EDIDs say 0 or 160x90 mm) is taken to
    be the design panel: a 15.6" diagonal.
    """
    if screen is None:
        return math.hypot(1366, 768) / DESIGN_DIAGONAL_INCHES / 25.4
    size = screen.size()
    width_px, height_px = size.width(), size.height()
    dpi = screen.physicalDotsPerInch()
    if not 60 <= dpi <= 400:
        diagonal_px = math.hypot(width_px, height_px)
        dpi = diagonal_px / DESIGN_DIAGONAL_INCHES
    return dpi / 25.4


def size_px(name: str, per_mm: float) -> int:
    """The size called `name` in SIZES_MM, in whole pixels at `per_mm`."""
    return max(8, round(SIZES_MM[name] * per_mm))


def style_for(per_mm: float) -> str:
    """The station's style sheet with every size in pixels for this screen."""
    return _STYLE.format(**{name: size_px(name, per_mm) for name in SIZES_MM})


#: The style at the design panel (15.6", 1366x768), for widgets shown before a screen is known.
DESIGN_PX_PER_MM = math.hypot(1366, 768) / DESIGN_DIAGONAL_INCHES / 25.4
STYLE = style_for(DESIGN_PX_PER_MM)


def named_label(text: str, name: str) -> QLabel:
    """A QLabel with an object name, so the style sheet above can address it."""
    label = QLabel(text)
    label.setObjectName(name)
    return label
