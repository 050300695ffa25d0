"""The pack screen: order header, lines, state banner, box and weight."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPixmap
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

from app.i18n import N_, _, number, render, time, weight
from app.packing import messages
from app.station.pictures import PictureKind, PictureState
from app.station.screen import LineRow, ScreenModel
from app.views.banner import Banner, NextStep
from app.views.theme import DESIGN_PX_PER_MM, named_label, size_px

# TRANSLATORS: an order's priority badge on the pack screen, in capitals
PRIORITY_TEXT = {1: N_("HIGH"), 2: N_("EXPRESS")}
PICTURE_TEXT = {
    PictureKind.NONE: N_("No picture"),
    PictureKind.LOADING: N_("Picture loading…"),
    PictureKind.SLOW: N_("Picture server too slow"),
    PictureKind.MISSING: N_("Picture not found"),
    PictureKind.NOT_AN_IMAGE: N_("Picture file is not an image"),
}


def _count_font(per_mm: float = DESIGN_PX_PER_MM) -> QFont:
    """Scanned/needed are what the packer checks from a distance: larger and bold."""
    font = QFont()
    font.setPixelSize(size_px("counts", per_mm))
    font.setBold(True)
    return font


class PackPage(QWidget):
    """Everything the packer needs for the open order, at a glance."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.number = named_label("", "orderNumber")
        self.priority = named_label("", "priority")
        # Cash on delivery: shown the whole time the order is open (the COD slip goes in).
        self.cod = named_label("", "cod")
        self.cod.hide()
        self.detail = named_label("", "headerDetail")
        self.detail.setWordWrap(True)  # channel, carrier and tote may need two lines at 1024 px
        self.detail.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.banner = Banner()
        self.next_step = NextStep()
        self.lines = QTableWidget(0, 4)
        self._count_font = _count_font()
        self.lines.verticalHeader().setVisible(False)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.lines.horizontalHeader()
        # Widths are measured once per order (see _rebuild_rows), never per cell update.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        # A long item name wraps; its row's height follows the Item column's width, which is
        # only known once the window is laid out (and changes with it).
        header.sectionResized.connect(self._item_column_resized)
        self._row_keys: tuple[int, ...] = ()
        self._row_cache: list[tuple[tuple[str, str, str, str], str]] = []
        self._model: ScreenModel | None = None
        self._picture_state = PictureState(PictureKind.NONE)
        self.picture = named_label("", "picture")
        self._row_lines: tuple[LineRow, ...] = ()  # the rows rendered last (reused by identity)
        self.picture.setWordWrap(True)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(220, 180)
        self.box_title = named_label("", "boxTitle")
        self.weight = named_label("", "weight")
        self.expected = named_label("", "hint")
        self.expected.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.number)
        top.addWidget(self.priority)
        top.addWidget(self.cod)
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
        layout.addWidget(self.next_step)
        layout.addLayout(body, 1)
        self.retranslate()

    def retranslate(self) -> None:
        """Headers in the current language; the order, box and picture shown again."""
        self.lines.setHorizontalHeaderLabels([_("SKU"), _("Item"), _("Scanned"), _("Needed")])
        self._row_keys = ()  # the cells' words (serial hints) are rebuilt too
        if self._model is not None:
            self.show_model(self._model)
        if self._picture_state.kind is not PictureKind.READY:
            self.show_picture(self._picture_state)

    def _item_column_resized(self, index: int, _old: int, _new: int) -> None:
        if index == 1:
            self.lines.resizeRowsToContents()

    def set_px_per_mm(self, per_mm: float) -> None:
        """The screen changed size class: the counts' font follows, rows are re-measured."""
        self._count_font = _count_font(per_mm)
        self._row_keys = ()  # rebuilt (and measured) on the next model
        self._row_lines = ()

    def show_model(self, model: ScreenModel) -> None:
        """Show the model's order, lines, box and message."""
        self._model = model
        self.banner.show_message(model.tone, model.message)
        self.next_step.show_step(model.next_step)
        header = model.header
        if header is None:
            self.number.setText("")
            self.detail.setText("")
            self.priority.hide()
            self.cod.setText("")
            self.cod.hide()
        else:
            self.number.setText(header.number)
            parts = [header.channel, header.country, header.carrier]
            if header.cutoff_at is not None:
                parts.append(_("cut-off {time}", time=time(header.cutoff_at.astimezone())))
            if header.tote:
                # TRANSLATORS: the picking crate the order's items came in, e.g. "tote T-0042"
                parts.append(_("tote {tote}", tote=header.tote))
            self.detail.setText("  ·  ".join(p for p in parts if p))
            label = PRIORITY_TEXT.get(header.priority)
            self.priority.setText(_(label) if label else "")
            self.priority.setVisible(label is not None)
            self.cod.setText(render(messages.collect_cod(header.cod)) if header.cod else "")
            self.cod.setVisible(bool(header.cod))
        self._render_lines(model)
        self._render_box(model)

    def _render_lines(self, model: ScreenModel) -> None:
        """Update only the cells that changed.

        This runs on every scan and every scale reading. Rebuilding all items (and letting
        the styled header re-measure whole columns on each one) cost seconds on a 100-line
        order, so items are made once per order and then only their text and colour change.
        """
        keys = tuple(line.line_id for line in model.lines)
        if keys != self._row_keys:
            self._rebuild_rows(model)
            return
        shown, self._row_lines = self._row_lines, model.lines
        same = len(shown) == len(model.lines)
        for row, line in enumerate(model.lines):
            if same and shown[row] is line:
                continue  # the runtime reuses an unchanged row: nothing to work out
            wanted = self._row_look(line)
            before = self._row_cache[row]
            if before == wanted:
                continue
            self._row_cache[row] = wanted
            texts, colour = wanted
            (old_texts, old_colour), table = before, self.lines
            # Each change is a signal to the view: only the cells (and colour) that changed.
            for col, text in enumerate(texts):
                if text == old_texts[col] and colour == old_colour:
                    continue
                item = table.item(row, col)
                assert item is not None  # made by _rebuild_rows for every cell
                if text != old_texts[col]:
                    item.setText(text)
                if colour != old_colour:
                    item.setBackground(QColor(colour))
            if old_texts[1] != texts[1]:  # a serial number added to the name may need a line more
                table.resizeRowToContents(row)

    @staticmethod
    def _row_look(line: LineRow) -> tuple[tuple[str, str, str, str], str]:
        done = line.scanned >= line.required
        name = line.name
        if line.serials:
            name = f"{name}  ·  S/N {', '.join(line.serials)}"
        if line.needs_serial and line.scanned < line.required:
            needs = _("needs serial")
            name = f"{name}  ·  {needs}"
        texts = (
            line.sku,
            name,
            ("✔ " if done else "") + render(number(line.scanned)),
            render(number(line.required)),
        )
        colour = "#d7f0dd" if done else "#fff3c4" if line.highlight else "#ffffff"
        return texts, colour

    def _rebuild_rows(self, model: ScreenModel) -> None:
        table = self.lines
        table.setUpdatesEnabled(False)
        try:
            table.setRowCount(len(model.lines))
            self._row_cache = []
            for row, line in enumerate(model.lines):
                look = self._row_look(line)
                self._row_cache.append(look)
                texts, colour = look
                for col, text in enumerate(texts):
                    item = QTableWidgetItem(text)
                    if col >= 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                        item.setFont(self._count_font)
                    item.setBackground(QColor(colour))
                    table.setItem(row, col, item)
            for col in (0, 2, 3):
                table.resizeColumnToContents(col)
            table.resizeRowsToContents()
        finally:
            table.setUpdatesEnabled(True)
        self._row_keys = tuple(line.line_id for line in model.lines)
        self._row_lines = model.lines

    def show_picture(self, state: PictureState) -> None:
        """The product picture, or in words why there is none (packing never waits for it)."""
        self._picture_state = state
        if state.kind is PictureKind.READY and state.path is not None:
            pixmap = QPixmap(str(state.path))
            if not pixmap.isNull():
                size = self.picture.contentsRect().size()
                self.picture.setPixmap(
                    pixmap.scaled(
                        size,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
                return
            state = PictureState(PictureKind.NOT_AN_IMAGE)
        self.picture.setPixmap(QPixmap())
        self.picture.setText(_(PICTURE_TEXT.get(state.kind, PICTURE_TEXT[PictureKind.NONE])))

    def _render_box(self, model: ScreenModel) -> None:
        box = model.box
        live = model.status.live_grams
        if box is None:
            self.box_title.setText("")
            self.weight.setText("")
            self.expected.setText("")
            return
        # TRANSLATORS: "Box" = the shipping carton being packed; {type} is its size code
        self.box_title.setText(
            _("Box {box} of {boxes} · {type}", box=box.box_no, boxes=box.boxes, type=box.box_type)
        )
        if box.weight_grams is not None:
            self.weight.setText(f"{render(weight(box.weight_grams))} ✔")
        elif box.rejected_grams is not None:  # the number the banner names, until reweighed
            self.weight.setText(f"{render(weight(box.rejected_grams))} ✖")
        elif live is not None:
            settling = "" if model.status.live_stable else " …"
            self.weight.setText(f"{render(weight(live))}{settling}")
        else:
            self.weight.setText("— g")
        if box.expected_grams is not None:
            self.expected.setText(_("Expected about {weight}", weight=weight(box.expected_grams)))
        else:
            self.expected.setText(_("No expected weight (a product has no weight on file)"))
