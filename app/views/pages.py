"""The login and batch-list screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _, number, render, time
from app.station.ports import BatchOrderRow, BatchRow
from app.station.screen import ScreenModel
from app.views.banner import Banner, NextStep
from app.views.theme import named_label
from app.views.words import packer_state


class LoginPage(QWidget):
    """Scan a badge; nothing else to do here."""

    def __init__(self, station_name: str) -> None:
        super().__init__()
        self.setObjectName("page")
        self.station_name = station_name
        self.title = named_label("", "bigPrompt")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.station = named_label("", "hint")
        self.station.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys = named_label("", "hint")  # where the language picker is
        self.keys.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys.setWordWrap(True)
        self.banner = Banner()
        self.next_step = NextStep()
        self._model: ScreenModel | None = None
        self.retranslate()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.station)
        layout.addWidget(self.keys)
        layout.addSpacing(24)
        layout.addWidget(self.banner)
        layout.addWidget(self.next_step)
        layout.addStretch(2)

    def retranslate(self) -> None:
        """Static texts in the current language; the last model shown again."""
        self.title.setText(_("Scan your badge"))
        self.station.setText(_("Station {name}", name=self.station_name))
        self.keys.setText(_("F10: language, scanner and printer tests"))
        if self._model is not None:
            self.show_model(self._model)

    def show_model(self, model: ScreenModel) -> None:
        self._model = model
        self.banner.show_message(model.tone, model.message)
        # The big prompt already says it; the line comes back under an error banner.
        self.next_step.show_step(model.next_step if model.tone == "red" else "")


class BatchesPage(QWidget):
    """This station's batches with progress, and the chosen batch's orders and totes.

    Arrow keys or a click choose a batch; Enter or a click on an order opens it for
    packing (the same as scanning its number). With no batch, the page says what to do.
    """

    def __init__(
        self,
        station_name: str = "",
        batch_orders: Callable[[int], Sequence[BatchOrderRow]] | None = None,
        open_order: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("page")
        self.station_name = station_name
        self.batch_orders = batch_orders or (lambda _batch_id: ())
        self.open_order = open_order or (lambda _code: None)
        self._batches: tuple[BatchRow, ...] = ()
        self._orders: tuple[BatchOrderRow, ...] = ()
        self.greeting = named_label("", "bigPrompt")
        self.greeting.setWordWrap(True)  # a long name must not widen the window
        self.greeting.hide()  # the banner greets and the next-step line says what to do
        self.banner = Banner()
        self.next_step = NextStep()
        self._model: ScreenModel | None = None
        self.table = _table(5)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_orders)
        self.orders_title = named_label("", "boxTitle")
        self.orders = _table(4)
        self.orders.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        orders_header = self.orders.horizontalHeader()
        orders_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        orders_header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.orders.cellClicked.connect(lambda row, _col: self._open_row(row))
        self.setFocusProxy(self.table)
        self.empty = named_label("", "emptyHint")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addWidget(self.banner)
        layout.addWidget(self.next_step)
        self.batches_title = named_label("", "boxTitle")
        layout.addWidget(self.batches_title)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.orders_title)
        layout.addWidget(self.orders, 2)
        layout.addStretch(0)  # takes the room when there is no batch to list
        self.retranslate()

    def retranslate(self) -> None:
        """Headers and titles in the current language; the last batches shown again."""
        self.table.setHorizontalHeaderLabels(
            # TRANSLATORS: "Held" = orders of the batch put on hold
            [_("Batch"), _("Name"), _("Progress"), _("Held"), _("Cut-off")]
        )
        # TRANSLATORS: "Tote" = the picking crate the order's items came in
        self.orders.setHorizontalHeaderLabels([_("Order"), _("Tote"), _("Items"), _("State")])
        self.batches_title.setText(_("Batches at this station"))
        if self._model is not None:
            self.show_model(self._model, self._batches)

    def show_model(self, model: ScreenModel, batches: Sequence[BatchRow]) -> None:
        self._model = model
        self.greeting.setText(_("{name}: scan an order or tote", name=model.user_name))
        self.banner.show_message(model.tone, model.message)
        self.next_step.show_step(model.next_step)
        chosen = self._chosen_batch_id()
        self._batches = tuple(batches)
        self.table.blockSignals(True)
        self.table.setRowCount(len(batches))
        for row, batch in enumerate(batches):
            self.table.setItem(row, 0, QTableWidgetItem(batch.code))
            self.table.setItem(row, 1, QTableWidgetItem(batch.name))
            bar = self.table.cellWidget(row, 2)
            if not isinstance(bar, QProgressBar):  # made once per row, then only updated
                bar = QProgressBar()
                self.table.setCellWidget(row, 2, bar)
            bar.setRange(0, max(batch.total, 1))
            bar.setValue(batch.packed)
            bar.setFormat(
                _(
                    "{packed} of {total} packed",
                    packed=number(batch.packed),
                    total=number(batch.total),
                )
            )
            self.table.setItem(row, 3, QTableWidgetItem(render(number(batch.held))))
            cutoff = render(time(batch.cutoff_at.astimezone())) if batch.cutoff_at else "—"
            self.table.setItem(row, 4, QTableWidgetItem(cutoff))
        self.table.resizeRowsToContents()
        rows = [i for i, b in enumerate(batches) if b.id == chosen] or ([0] if batches else [])
        if rows:
            self.table.selectRow(rows[0])
        self.table.blockSignals(False)
        self.empty.setVisible(not batches)
        self.table.setVisible(bool(batches))
        self.empty.setText(
            _(
                "No batch is assigned to this station yet. Scan an order or tote barcode to "
                "pack it, or ask your shift supervisor to assign a batch to station {station}.",
                station=self.station_name,
            )
        )
        self._show_orders()

    def _chosen_batch_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._batches):
            return None
        return self._batches[rows[0].row()].id

    def _show_orders(self) -> None:
        batch_id = self._chosen_batch_id()
        batch = next((b for b in self._batches if b.id == batch_id), None)
        self._orders = tuple(self.batch_orders(batch_id)) if batch_id is not None else ()
        self.orders_title.setVisible(batch is not None)
        self.orders.setVisible(batch is not None)
        if batch is None:
            return
        self.orders_title.setText(
            _("Orders of batch {batch}: Enter or click opens one", batch=batch.code)
        )
        self.orders.setRowCount(len(self._orders))
        for row, entry in enumerate(self._orders):
            cells = (
                entry.number,
                entry.tote or "—",
                render(number(entry.units)),
                packer_state(entry.status),
            )
            for col, text in enumerate(cells):
                self.orders.setItem(row, col, QTableWidgetItem(text))
        self.orders.resizeRowsToContents()

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self._orders):
            self.open_order(self._orders[row].number)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter on a batch goes to its orders; Enter on an order opens it."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._orders:
            if self.orders.hasFocus():
                self._open_row(max(self.orders.currentRow(), 0))
            else:
                self.orders.setFocus()
                self.orders.selectRow(max(self.orders.currentRow(), 0))
            return
        super().keyPressEvent(event)


def _table(columns: int) -> QTableWidget:
    table = QTableWidget(0, columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    return table
