"""The pack screen: order header, lines, state banner, box and weight."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.station.screen import ScreenModel
from app.views.banner import Banner
from app.views.theme import named_label

PRIORITY_TEXT = {1: "HIGH", 2: "EXPRESS"}


def _count_font() -> QFont:
    """Scanned/needed are what the packer checks from a distance: larger and bold."""
    font = QFont()
    font.setPixelSize(28)
    font.setBold(True)
    return font


class PackPage(QWidget):
    """Everything the packer needs for the open order, at a glance."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.number = named_label("", "orderNumber")
        self.priority = named_label("", "priority")
        self.detail = named_label("", "headerDetail")
        self.banner = Banner()
        self.lines = QTableWidget(0, 4)
        self.lines.setHorizontalHeaderLabels(["SKU", "Item", "Scanned", "Needed"])
        self._count_font = _count_font()
        self.lines.verticalHeader().setVisible(False)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.picture = named_label("No picture", "picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(220, 180)
        self.box_title = named_label("", "boxTitle")
        self.weight = named_label("", "weight")
        self.expected = named_label("", "hint")
        self.expected.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.number)
        top.addWidget(self.priority)
        top.addStretch(1)
        top.addWidget(self.detail)

        side = QVBoxLayout()
        side.addWidget(self.picture)
        side.addSpacing(12)
        side.addWidget(self.box_title)
        side.addWidget(self.weight)
        side.addWidget(self.expected)
        side.addStretch(1)

        body = QGridLayout()
        body.addWidget(self.lines, 0, 0)
        body.addLayout(side, 0, 1)
        body.setColumnStretch(0, 3)
        body.setColumnStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)

    def show_model(self, model: ScreenModel) -> None:
        """Show the model's order, lines, box and message."""
        self.banner.show_message(model.tone, model.message)
        header = model.header
        if header is None:
            self.number.setText("")
            self.detail.setText("")
            self.priority.hide()
        else:
            self.number.setText(header.number)
            parts = [header.channel, header.country, header.carrier]
            if header.cutoff_at is not None:
                parts.append(f"cut-off {header.cutoff_at.astimezone().strftime('%H:%M')}")
            if header.tote:
                parts.append(f"tote {header.tote}")
            self.detail.setText("  ·  ".join(p for p in parts if p))
            label = PRIORITY_TEXT.get(header.priority)
            self.priority.setText(label or "")
            self.priority.setVisible(label is not None)
        self._render_lines(model)
        self._render_box(model)

    def _render_lines(self, model: ScreenModel) -> None:
        self.lines.setRowCount(len(model.lines))
        for row, line in enumerate(model.lines):
            done = line.scanned >= line.required
            cells = [line.sku, line.name, str(line.scanned), str(line.required)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(("✔ " if done and col == 2 else "") + text)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    item.setFont(self._count_font)
                if done:
                    item.setBackground(QColor("#d7f0dd"))
                elif line.highlight:
                    item.setBackground(QColor("#fff3c4"))
                self.lines.setItem(row, col, item)
        self.lines.resizeRowsToContents()

    def _render_box(self, model: ScreenModel) -> None:
        box = model.box
        live = model.status.live_grams
        if box is None:
            self.box_title.setText("")
            self.weight.setText("")
            self.expected.setText("")
            return
        self.box_title.setText(f"Box {box.box_no} of {box.boxes} · {box.box_type}")
        if box.weight_grams is not None:
            self.weight.setText(f"{box.weight_grams} g ✔")
        elif live is not None:
            self.weight.setText(f"{live} g" + ("" if model.status.live_stable else " …"))
        else:
            self.weight.setText("— g")
        if box.expected_grams is not None:
            self.expected.setText(f"Expected about {box.expected_grams} g")
        else:
            self.expected.setText("No expected weight (a product has no weight on file)")
