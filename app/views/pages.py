"""The login and batch-list screens."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.station.ports import BatchRow
from app.station.screen import ScreenModel
from app.views.banner import Banner, NextStep
from app.views.theme import named_label


class LoginPage(QWidget):
    """Scan a badge; nothing else to do here."""

    def __init__(self, station_name: str) -> None:
        super().__init__()
        self.setObjectName("page")
        title = named_label("Scan your badge", "bigPrompt")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.station = named_label(f"Station {station_name}", "hint")
        self.station.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner = Banner()
        self.next_step = NextStep()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(self.station)
        layout.addSpacing(24)
        layout.addWidget(self.banner)
        layout.addWidget(self.next_step)
        layout.addStretch(2)

    def show_model(self, model: ScreenModel) -> None:
        self.banner.show_message(model.tone, model.message)
        # The big prompt already says it; the line comes back under an error banner.
        self.next_step.show_step(model.next_step if model.tone == "red" else "")


class BatchesPage(QWidget):
    """The batches assigned to this station, with progress; scan an order or tote to start."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.greeting = named_label("", "bigPrompt")
        self.banner = Banner()
        self.next_step = NextStep()
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Batch", "Name", "Progress", "Held", "Cut-off"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addWidget(self.banner)
        layout.addWidget(self.next_step)
        layout.addWidget(named_label("Batches at this station", "boxTitle"))
        layout.addWidget(self.table, 1)

    def show_model(self, model: ScreenModel, batches: Sequence[BatchRow]) -> None:
        self.greeting.setText(f"{model.user_name}: scan an order or tote")
        self.banner.show_message(model.tone, model.message)
        self.next_step.show_step(model.next_step)
        self.table.setRowCount(len(batches))
        for row, batch in enumerate(batches):
            self.table.setItem(row, 0, QTableWidgetItem(batch.code))
            self.table.setItem(row, 1, QTableWidgetItem(batch.name))
            bar = QProgressBar()
            bar.setRange(0, max(batch.total, 1))
            bar.setValue(batch.packed)
            bar.setFormat(f"{batch.packed} of {batch.total} packed")
            self.table.setCellWidget(row, 2, bar)
            self.table.setItem(row, 3, QTableWidgetItem(str(batch.held)))
            cutoff = batch.cutoff_at.astimezone().strftime("%H:%M") if batch.cutoff_at else "—"
            self.table.setItem(row, 4, QTableWidgetItem(cutoff))
        self.table.resizeRowsToContents()
