"""The supervisor screen: batches against cut-off, throughput chart, people, stations,
exceptions with their actions, and batch preparation.

It only renders `SupervisorSnapshot`s from `app.station.supervisor`. Every network call
(fetch, action, batch) goes through the injected background runner and comes back on the
GUI thread; a QTimer refreshes while the page is shown. No modal dialogs: a reason field
and buttons act on the selected exception, so the page never blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QMargins, QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.i18n import Msg, _, number, plural, render
from app.station.supervisor import (
    COUNT_HEADERS,
    DISPOSITION_HEADERS,
    LOW_STOCK_HEADERS,
    OVERSOLD_HEADERS,
    PACKER_HEADERS,
    STATION_HEADERS,
    ActionResult,
    ExceptionRow,
    SupervisorBoard,
    SupervisorSnapshot,
    hhmm,
)
from app.views.theme import DESIGN_PX_PER_MM, SIZES_MM, size_px
from app.views.words import human, label_state

Background = Callable[[Callable[[], object], Callable[[object], None]], None]
REFRESH_MS = 15_000
RED, GREEN, AMBER = "#c62828", "#1b7f3b", "#b26a00"

# Sizes are millimetres on the panel (theme.SIZES_MM "sup_*"), like the packer's screens.
_PAGE_STYLE = """
QLabel#supHeadline {{ font-size: {sup_headline}px; font-weight: 700; padding: 6px 12px;
                     border-radius: 6px; }}
QLabel#supNotice, QLabel#supFigures {{ font-size: {sup_notice}px; padding: 4px 8px; }}
QLabel#supFigures {{ font-weight: 700; }}
QLabel#supTitle {{ font-size: {sup_notice}px; font-weight: 700; }}
QTableWidget {{ font-size: {sup_table}px; }}
QHeaderView::section {{ font-size: {sup_header}px; padding: 4px; }}
QProgressBar {{ font-size: {sup_header}px; font-weight: 600; min-height: {sup_header}px;
               color: #111; text-align: center; border: 1px solid #99a; border-radius: 4px;
               background: #fff; }}
QProgressBar[miss="true"]::chunk {{ background: #ef9a9a; }}
QProgressBar[miss="false"]::chunk {{ background: #a5d6a7; }}
QTabBar::tab {{ font-size: {sup_tab}px; padding: 8px 18px; }}
QPushButton, QLineEdit, QComboBox, QSpinBox, QLabel {{ font-size: {sup_button}px; }}
QPushButton {{ padding: 6px 12px; }}
"""


def page_style(per_mm: float) -> str:
    """The supervisor page's style sheet with its sizes in pixels for this screen."""
    names = [n for n in SIZES_MM if n.startswith("sup_")]
    return _PAGE_STYLE.format(**{n: size_px(n, per_mm) for n in names})


def _table(columns: int) -> QTableWidget:
    """A read-only table; its headers are set (and translated) by `retranslate`."""
    table = QTableWidget(0, columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _table_width(table: QTableWidget) -> int:
    """The width `table` needs to show every column without scrolling sideways."""
    header = table.horizontalHeader()
    columns = sum(
        max(table.sizeHintForColumn(c), header.sectionSizeHint(c))
        for c in range(table.columnCount())
    )
    return columns + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()


class _OneLineWhenRoom(QLabel):
    """A label on one line when the window has the room, wrapped when it has not (the offline
    sentence in a longer language): it never makes the window wider than the screen."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()  # a wrapped label's own hint is two balanced lines
        frame = self.width() - self.contentsRect().width()  # margins and the style's padding
        metrics = self.fontMetrics()
        # a character's room to spare: the wrapped drawing must not break the last word
        one_line = metrics.horizontalAdvance(self.text()) + metrics.averageCharWidth() + frame
        return QSize(max(hint.width(), one_line), hint.height())


class _Resized(QWidget):
    """A plain widget that reports its new width (a layout that reflows with the window)."""

    def __init__(self, on_width: Callable[[int], None]) -> None:
        super().__init__()
        self._on_width = on_width

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._on_width(event.size().width())


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if text in ("OFFLINE", "paper out", "out of paper") or text.startswith("error"):
                item.setForeground(QBrush(QColor(RED)))
            table.setItem(r, c, item)
    table.resizeRowsToContents()  # a cell too narrow for its words wraps, never cut


class SupervisorPage(QWidget):
    """Live shift overview for a supervisor; says clearly when it shows offline data."""

    def __init__(
        self,
        board_for: Callable[[int], SupervisorBoard],
        background: Background,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__()
        self.setObjectName("page")
        self._per_mm = 0.0
        self._offline_said = False
        self.board_for = board_for
        self.background = background
        self.board: SupervisorBoard | None = None
        self.user_id: int | None = None
        self.snapshot: SupervisorSnapshot | None = None
        self._fetching = False
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)

        self.user_name = ""
        self._notice: tuple[bool, object] | None = None  # what the notice line says, if anything
        self.greeting = QLabel("")
        self.greeting.setObjectName("boxTitle")
        self.headline = _OneLineWhenRoom("")
        self.headline.setObjectName("supHeadline")
        self.notice = QLabel("")
        self.notice.setObjectName("supNotice")
        self.notice.setWordWrap(True)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.greeting)
        top.addStretch(1)
        top.addWidget(self.headline)
        top.addWidget(self.refresh_button)

        self.tabs = QTabWidget()
        for tab in (
            self._overview_tab(),
            self._people_tab(),
            self._exceptions_tab(),
            self._prepare_tab(),
            self._returns_tab(),
        ):
            self.tabs.addTab(tab, "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        self.set_px_per_mm(DESIGN_PX_PER_MM)
        self.retranslate()

    def retranslate(self) -> None:
        """Every static text in the current language; the last snapshot shown again."""
        tab_titles = (
            _("Batches & throughput"),
            _("Packers & stations"),
            # TRANSLATORS: orders that need a supervisor (held, refused, overridden...)
            _("Exceptions"),
            _("Prepare batch"),
            _("Returns & stock"),
        )
        for index, title in enumerate(tab_titles):
            # "&&" shows one "&" on a tab (a single "&" would underline the next letter)
            self.tabs.setTabText(index, title.replace("&", "&&"))
        self.refresh_button.setText(_("Refresh now"))
        self.batches.setHorizontalHeaderLabels(
            [
                _("Batch"),
                _("Station"),
                _("Progress"),
                # TRANSLATORS: orders of the batch on hold
                _("Held"),
                _("Rate/h"),
                _("Cut-off"),
                _("Projected finish"),
            ]
        )
        self.series.setName(_("orders packed per 15 minutes"))
        self.chart_view.chart().setTitle(_("Throughput over the shift"))
        self.y_axis.setTitleText(_("orders / 15 min"))
        self.accuracy.setText(
            _(
                "Packers (adjusted/h: orders weighted by lines and items; an average order "
                "of this shift counts 1). Accuracy: item scans that were right, as a share "
                "of all item scans (1 - refused scans / scans)."
            )
        )
        self.stations_title.setText(_("Stations (online: heard from in the last 2 minutes)"))
        self.packers.setHorizontalHeaderLabels([_(h) for h in PACKER_HEADERS])
        self.stations.setHorizontalHeaderLabels([_(h) for h in STATION_HEADERS])
        self.exceptions.setHorizontalHeaderLabels(
            [
                _("Order"),
                _("Status"),
                _("Kind"),
                _("Reason"),
                # TRANSLATORS: the shipping label(s) printed for the order
                _("Label"),
                _("Station"),
                _("At"),
                _("Message"),
            ]
        )
        self.reason.setPlaceholderText(_("Why? (required, kept with your name)"))
        action_words = {
            # TRANSLATORS: take the order off hold so it can be packed
            "release": _("Release"),
            "reassign": _("Reassign to"),
            "cancel": _("Cancel"),
            "resolve": _("Resolve"),
        }
        for action, button in self.action_buttons.items():
            button.setText(action_words[action])
        self.carrier.setPlaceholderText(_("carrier (any)"))
        self.service.setPlaceholderText(_("service (any)"))
        self.filter_button.setText(_("Show confirmed orders"))
        self.create_button.setText(_("Create batch"))
        self.assign_button.setText(_("Assign"))
        self.candidates.setHorizontalHeaderLabels(
            [
                _("Order"),
                _("Carrier"),
                _("Service"),
                _("Priority"),
                _("Cut-off"),
                _("Lines"),
                _("Items"),
            ]
        )
        self.max_label.setText(_("max per batch"))
        self.assign_label.setText(_("Assign batch"))
        self.to_station_label.setText(_("to station"))
        self.dispositions_title.setText(_("Dispositions per day"))
        self.oversold_title.setText(_("Orders packed oversold"))
        self.counts_title.setText(_("Cycle-count differences"))
        self.dispositions.setHorizontalHeaderLabels([_(h) for h in DISPOSITION_HEADERS])
        self.low_stock.setHorizontalHeaderLabels([_(h) for h in LOW_STOCK_HEADERS])
        self.oversold.setHorizontalHeaderLabels([_(h) for h in OVERSOLD_HEADERS])
        self.counts.setHorizontalHeaderLabels([_(h) for h in COUNT_HEADERS])
        if self.user_name:
            self.greeting.setText(_("{name} — supervisor", name=self.user_name))
        if self.snapshot is not None:
            self.show_snapshot(self.snapshot)
        else:
            self.headline.setText(_("Loading…"))
            self.returns_figures.setText(_("Returns figures come from the service."))
            self.low_stock_title.setText(_("Stock below the threshold"))
        if self._notice is not None and not self._offline_said:
            self._say(*self._notice)

    def set_px_per_mm(self, per_mm: float) -> None:
        """Sizes for this screen: letters and the chart in millimetres, not pixels."""
        if per_mm == self._per_mm:
            return
        self._per_mm = per_mm
        self.setStyleSheet(page_style(per_mm))
        self.chart_view.setMinimumHeight(size_px("sup_chart", per_mm))
        font = self.chart_view.chart().titleFont()
        font.setPixelSize(size_px("sup_header", per_mm))
        self.chart_view.chart().setTitleFont(font)
        for axis in (self.x_axis, self.y_axis):
            labels = axis.labelsFont()
            labels.setPixelSize(size_px("sup_header", per_mm))
            axis.setLabelsFont(labels)

    # ------------------------------------------------------------------ tabs

    def _overview_tab(self) -> QWidget:
        self.batches = _table(7)
        # The batch's name and its progress share what the figures leave: a long name wraps
        # (the row grows) rather than squeezing the progress text out of its bar.
        # The progress column is as wide as its longest words (measured per snapshot, they
        # change with the language); the name takes the rest and wraps.
        header = self.batches.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # The station's name shares that room too (it wraps at its hyphens when tight).
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(False)
        # The name wraps to the width the window leaves it: rows follow each new width.
        header.sectionResized.connect(
            lambda index, _old, _new: self.batches.resizeRowsToContents() if index < 2 else None
        )
        self.batches.setWordWrap(True)
        self.series = QLineSeries()
        chart = QChart()
        chart.addSeries(self.series)
        chart.legend().setVisible(False)
        chart.setMargins(QMargins(4, 4, 4, 4))
        self.x_axis = QDateTimeAxis()
        self.x_axis.setFormat("HH:mm")
        self.y_axis = QValueAxis()
        self.y_axis.setLabelFormat("%d")
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.x_axis)
        self.series.attachAxis(self.y_axis)
        self.chart_view = QChartView(chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.batches, 3)
        layout.addWidget(self.chart_view, 2)
        return tab

    def _people_tab(self) -> QWidget:
        self.packers = _table(len(PACKER_HEADERS))
        self.stations = _table(len(STATION_HEADERS))
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.accuracy = QLabel()
        self.accuracy.setWordWrap(True)
        layout.addWidget(self.accuracy)
        layout.addWidget(self.packers, 1)
        self.stations_title = QLabel()
        self.stations_title.setWordWrap(True)
        layout.addWidget(self.stations_title)
        layout.addWidget(self.stations, 1)
        return tab

    def _exceptions_tab(self) -> QWidget:
        self.exceptions = _table(8)
        self.reason = QLineEdit()
        self.target_batch = QComboBox()
        # The whole "code (station)" shows: the box grows with its longest choice.
        self.target_batch.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.action_buttons: dict[str, QPushButton] = {}
        # The reason has a line of its own: its hint is a whole sentence in any language.
        row = QHBoxLayout()
        for action in ("release", "reassign", "cancel", "resolve"):
            button = QPushButton()
            button.clicked.connect(lambda _=False, a=action: self.act(a))
            self.action_buttons[action] = button
            row.addWidget(button)
            if action == "reassign":
                row.addWidget(self.target_batch, 1)
        self.exceptions.itemSelectionChanged.connect(self._enable_actions)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.exceptions, 1)
        layout.addWidget(self.reason)
        layout.addLayout(row)
        self._enable_actions()
        return tab

    def _prepare_tab(self) -> QWidget:
        self.carrier = QLineEdit()
        self.service = QLineEdit()
        self.max_orders = QSpinBox()
        self.max_orders.setRange(1, 500)
        self.max_orders.setValue(25)
        self.filter_button = QPushButton()
        self.filter_button.clicked.connect(self.load_candidates)
        self.create_button = QPushButton()
        self.create_button.clicked.connect(self.create_batch)
        self.assign_batch = QComboBox()
        self.assign_station = QComboBox()
        self.assign_button = QPushButton()
        self.assign_button.clicked.connect(self.assign)
        self.candidates = _table(7)
        self.max_label = QLabel()
        self.assign_label = QLabel()
        self.to_station_label = QLabel()
        filters = QHBoxLayout()
        for widget in (self.carrier, self.service):
            filters.addWidget(widget, 1)
        filters.addWidget(self.max_label)
        filters.addWidget(self.max_orders)
        filters.addWidget(self.filter_button)
        filters.addWidget(self.create_button)
        assign = QHBoxLayout()
        assign.addWidget(self.assign_label)
        assign.addWidget(self.assign_batch, 1)
        assign.addWidget(self.to_station_label)
        assign.addWidget(self.assign_station, 1)
        assign.addWidget(self.assign_button)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(filters)
        layout.addWidget(self.candidates, 1)
        layout.addLayout(assign)
        return tab

    def _returns_tab(self) -> QWidget:
        self.returns_figures = QLabel()
        self.returns_figures.setObjectName("supFigures")
        self.returns_figures.setWordWrap(True)
        self.dispositions = _table(len(DISPOSITION_HEADERS))
        self.low_stock_title = QLabel()
        self.low_stock_title.setObjectName("supTitle")
        self.low_stock = _table(len(LOW_STOCK_HEADERS))
        self.oversold = _table(len(OVERSOLD_HEADERS))
        self.counts = _table(len(COUNT_HEADERS))
        self.dispositions_title = QLabel()
        self.oversold_title = QLabel()
        self.counts_title = QLabel()
        # Dispositions on the left, low stock over oversold on the right, the count
        # differences (long names) full width below: every column shows, nothing scrolls sideways.
        # When the two sides do not fit next to each other (a narrow screen, longer words),
        # the right side goes under the left one instead (`_reflow_returns`).
        for heading in (
            self.dispositions_title,
            self.low_stock_title,
            self.oversold_title,
            self.counts_title,
        ):
            heading.setObjectName("supTitle")
        left = QVBoxLayout()
        left.addWidget(self.dispositions_title)
        left.addWidget(self.dispositions, 1)
        right = QVBoxLayout()
        right.addWidget(self.low_stock_title)
        right.addWidget(self.low_stock, 2)
        right.addWidget(self.oversold_title)
        right.addWidget(self.oversold, 1)
        self._returns_sides = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._returns_sides.addLayout(left, 4)  # five short figures
        self._returns_sides.addLayout(right, 5)  # long SKUs
        tab = _Resized(self._reflow_returns)
        layout = QVBoxLayout(tab)
        self._returns_page, self._returns_layout = tab, layout
        layout.addWidget(self.returns_figures)
        layout.addLayout(self._returns_sides, 3)
        layout.addWidget(self.counts_title)
        layout.addWidget(self.counts, 2)
        return tab

    def _reflow_returns(self, width: int) -> None:
        """Side by side when both sides' columns fit in `width`, else one under the other."""
        sides = self._returns_sides
        need = _table_width(self.dispositions) + sides.spacing()
        need += max(_table_width(self.low_stock), _table_width(self.oversold))
        margins = self._returns_layout.contentsMargins()
        room = width - margins.left() - margins.right()
        wanted = (
            QBoxLayout.Direction.LeftToRight if need <= room else QBoxLayout.Direction.TopToBottom
        )
        if sides.direction() != wanted:
            sides.setDirection(wanted)

    # ------------------------------------------------------------------ life cycle

    def activate(self, user_id: int, user_name: str) -> None:
        """Shown for a supervisor: load now and keep refreshing."""
        if self.user_id != user_id or self.board is None:
            self.user_id = user_id
            self.board = self.board_for(user_id)
            self.snapshot = None
        self.user_name = user_name
        self.greeting.setText(_("{name} — supervisor", name=user_name))
        if not self.timer.isActive():
            self.timer.start()
            self.refresh()

    def deactivate(self) -> None:
        """Another screen (or a logout): stop refreshing."""
        self.timer.stop()

    def refresh(self) -> None:
        """Fetch the overview off the GUI thread (skipped while one is under way)."""
        board = self.board
        if board is None or self._fetching:
            return
        self._fetching = True
        self.background(board.fetch, self._fetched)

    def _fetched(self, result: object) -> None:
        self._fetching = False
        if isinstance(result, SupervisorSnapshot):
            self.show_snapshot(result)
        else:
            self._say(False, Msg("Could not load the overview: {problem}", problem=str(result)))

    # ------------------------------------------------------------------ rendering

    def show_snapshot(self, snap: SupervisorSnapshot) -> None:
        """Render one snapshot; offline is said in words and colour, actions are disabled."""
        colour = GREEN if snap.online else RED
        self.headline.setText(("●  " if snap.online else "✖  ") + render(snap.headline))
        self.headline.setStyleSheet(f"background: {colour}; color: white;")
        if not snap.online:
            self._say(
                False,
                Msg(
                    "Offline: showing this station's own batches from its local data; other "
                    "figures are the last ones seen. Actions need the service."
                ),
            )
            self._offline_said = True
        elif self._offline_said:  # back online: the offline sentence no longer holds
            self._notice = None
            self.notice.setText("")
            self.notice.setVisible(False)
            self._offline_said = False
        # A refresh must not move what the supervisor selected (same exception, same choices).
        chosen = self.selected_exception()
        self.snapshot = snap
        self._show_batches(snap)
        self._show_chart(snap)
        _fill(self.packers, snap.packers)
        _fill(self.stations, snap.stations)
        self._show_exceptions(snap.exceptions)
        self._show_returns(snap)
        self.exceptions.clearSelection()
        for row, e in enumerate(snap.exceptions):
            if chosen is not None and e.id == chosen.id:
                self.exceptions.selectRow(row)
        batches = [(f"{b.code} ({b.station})", f"{b.code} — {b.name}", b.id) for b in snap.batches]
        _choices(self.target_batch, [(short, id_) for short, _long, id_ in batches])
        self.target_batch.setMinimumWidth(self.target_batch.sizeHint().width())  # never cut
        _choices(self.assign_batch, [(long, id_) for _short, long, id_ in batches])
        _choices(self.assign_station, [(name, id_) for id_, name in snap.station_choices])
        for widget in (self.create_button, self.assign_button, self.filter_button):
            widget.setEnabled(snap.online)
        self._enable_actions()

    def _show_batches(self, snap: SupervisorSnapshot) -> None:
        table = self.batches
        table.setRowCount(len(snap.batches))
        for row, b in enumerate(snap.batches):
            table.setItem(row, 0, QTableWidgetItem(f"{b.code}  {b.name}"))
            table.setItem(row, 1, QTableWidgetItem(b.station))
            # Reuse the row's bar: a replaced cell widget lingers until the event loop runs.
            old = table.cellWidget(row, 2)
            bar = old if isinstance(old, QProgressBar) else QProgressBar()
            bar.setRange(0, max(b.total, 1))
            bar.setValue(b.packed)
            bar.setFormat(
                _(
                    "{packed} of {total} packed, {left} left",
                    packed=number(b.packed),
                    total=number(b.total),
                    left=number(b.remaining),
                )
            )
            bar.setProperty("miss", "true" if b.will_miss else "false")
            bar.style().unpolish(bar)  # the chunk colour follows the property
            bar.style().polish(bar)
            if bar is not old:
                table.setCellWidget(row, 2, bar)
            table.setItem(row, 3, QTableWidgetItem(render(number(b.held))))
            rate = "—" if b.rate_per_hour is None else render(number(round(b.rate_per_hour)))
            table.setItem(row, 4, QTableWidgetItem(rate))
            table.setItem(row, 5, QTableWidgetItem(hhmm(b.cutoff_at)))
            finish = QTableWidgetItem(("✖ " if b.will_miss else "") + render(b.finish_text))
            finish.setToolTip(render(b.finish_hint))
            if b.will_miss:
                finish.setForeground(QBrush(QColor(RED)))
                finish.setToolTip(
                    _(
                        "{hint} This batch misses its cut-off.",
                        hint=render(b.finish_hint),
                    )
                )
            table.setItem(row, 6, finish)
        self._fit_progress_column()
        table.resizeRowsToContents()

    def _fit_progress_column(self) -> None:
        """Every bar's words fit ("117 of 124 packed, 7 left" in the longest language)."""
        table = self.batches
        header = table.horizontalHeader()
        item = table.horizontalHeaderItem(2)
        widest = header.fontMetrics().horizontalAdvance(item.text() if item else "") + 24
        for row in range(table.rowCount()):
            bar = table.cellWidget(row, 2)
            if isinstance(bar, QProgressBar):
                bar.ensurePolished()
                widest = max(widest, bar.fontMetrics().horizontalAdvance(bar.text()) + 24)
        header.resizeSection(2, max(widest, 160))

    def _show_returns(self, snap: SupervisorSnapshot) -> None:
        board = snap.returns
        if board is None:
            self.returns_figures.setText(_("Returns figures come from the service: none yet."))
            self.low_stock_title.setText(_("Stock below the threshold"))
            for table in (self.dispositions, self.low_stock, self.oversold, self.counts):
                table.setRowCount(0)
            return
        self.returns_figures.setText(render(board.summary))
        self.low_stock_title.setText(_("Available below {n}", n=number(board.below)))
        _fill(self.dispositions, board.dispositions)
        _fill(self.low_stock, board.low_stock)
        _fill(self.oversold, board.oversold)
        _fill(self.counts, board.counts)
        self._reflow_returns(self._returns_page.width())
        for row, cells in enumerate(board.counts):  # a shortfall in red, as on the screen
            item = self.counts.item(row, 3)
            if item is not None and cells[3].startswith("-"):
                item.setForeground(QBrush(QColor(RED)))

    def _show_chart(self, snap: SupervisorSnapshot) -> None:
        points = snap.throughput
        self.series.clear()
        for start, orders in points:
            self.series.append(float(start.timestamp() * 1000), float(orders))
        if points:
            first, last = points[0][0], points[-1][0]
            self.x_axis.setRange(_qdt(first), _qdt(last))
        top = max((n for _, n in points), default=0)
        # A multiple of 4: the axis's five ticks fall on whole orders.
        self.y_axis.setRange(0, max(4, -(-(top + 1) // 4) * 4))

    def _show_exceptions(self, rows: Sequence[ExceptionRow]) -> None:
        table = self.exceptions
        table.setRowCount(len(rows))
        for r, e in enumerate(rows):
            cells = (
                e.order_number,
                human(e.order_status),
                human(e.kind),
                human(e.code),
                label_state(e.labels_printed),
                e.station,
                hhmm(e.at),
                render(e.message),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # long messages are elided in the cell
                if not e.open:
                    item.setForeground(QBrush(QColor("#666")))
                table.setItem(r, c, item)
        table.resizeRowsToContents()  # a long message wraps in its row, never cut off

    def selected_exception(self) -> ExceptionRow | None:
        """The exception row the supervisor selected, if any."""
        snap = self.snapshot
        rows = self.exceptions.selectionModel().selectedRows() if snap else []
        if not rows or snap is None or rows[0].row() >= len(snap.exceptions):
            return None
        return snap.exceptions[rows[0].row()]

    def _enable_actions(self) -> None:
        row = self.selected_exception()
        online = bool(self.snapshot and self.snapshot.online)
        allowed = row.actions() if row is not None and online else ()
        for action, button in self.action_buttons.items():
            button.setEnabled(action in allowed)

    def _say(self, ok: bool, message: object) -> None:
        """The notice line; a Msg is said again in the new words after a language switch."""
        self._offline_said = False
        self._notice = (ok, message)
        self.notice.setVisible(True)
        self.notice.setText(("✔  " if ok else "✖  ") + render(message))
        self.notice.setStyleSheet(f"color: {GREEN if ok else RED};")

    # ------------------------------------------------------------------ actions

    def act(self, action: str) -> None:
        """Run an action on the selected exception with the typed reason."""
        row, board = self.selected_exception(), self.board
        reason = self.reason.text().strip()
        if row is None or board is None:
            self._say(False, Msg("Select an exception first."))
            return
        if len(reason) < 3:
            self._say(
                False, Msg("Type why (at least 3 characters); it is recorded with your name.")
            )
            return
        batch_id = self.target_batch.currentData() if action == "reassign" else None
        self.background(lambda: board.act(action, row, reason, batch_id), self._action_done)

    def _action_done(self, result: object) -> None:
        if isinstance(result, ActionResult):
            self._say(result.ok, result.message)
            if result.ok:
                self.reason.clear()
                self.refresh()
        else:
            self._say(False, Msg("The action failed: {problem}", problem=str(result)))

    def load_candidates(self) -> None:
        """Show the confirmed orders the filter matches."""
        board = self.board
        if board is None:
            return
        carrier, service = self.carrier.text().strip(), self.service.text().strip()
        self.background(lambda: board.candidates(carrier, service), self._candidates_done)

    def _candidates_done(self, result: object) -> None:
        rows = result if isinstance(result, list) else []
        _fill(
            self.candidates,
            [
                (
                    str(c["number"]),
                    str(c["carrier"]),
                    str(c["service"]),
                    str(c["priority"]),
                    hhmm(_iso(c.get("cutoff_at"))),
                    str(c["lines"]),
                    str(c["items"]),
                )
                for c in rows
            ],
        )
        self._say(
            True,
            plural("{n} confirmed order matches.", "{n} confirmed orders match.", len(rows)),
        )

    def create_batch(self) -> None:
        """Create batches from the filter through the service's batching."""
        board = self.board
        if board is None:
            return
        carrier, service = self.carrier.text().strip(), self.service.text().strip()
        size = self.max_orders.value()
        self.background(lambda: board.create_batch(carrier, service, size), self._action_done)

    def assign(self) -> None:
        """Assign the chosen batch to the chosen station."""
        board = self.board
        batch_id, station_id = self.assign_batch.currentData(), self.assign_station.currentData()
        if board is None or batch_id is None or station_id is None:
            self._say(False, Msg("Choose a batch and a station."))
            return
        self.background(lambda: board.assign(batch_id, station_id), self._action_done)


def _choices(combo: QComboBox, items: Sequence[tuple[str, object]]) -> None:
    """Refill a combo box, keeping the chosen entry if it is still offered."""
    kept = combo.currentData()
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    index = combo.findData(kept)
    if index >= 0:
        combo.setCurrentIndex(index)


def _qdt(value: datetime) -> QDateTime:
    return QDateTime.fromMSecsSinceEpoch(int(value.timestamp() * 1000))


def _iso(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None
