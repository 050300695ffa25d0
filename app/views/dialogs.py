"""Dialogs: PIN entry, hold reason, supervisor confirmation (override and reprint)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import N_, _
from app.views.language import name_buttons
from app.views.theme import named_label
from sync.protocol import HoldReason

# TRANSLATORS: why an order is put on hold; "tote" = the picking crate
HOLD_TEXT = {
    HoldReason.SHORT_PICK: N_("Short pick: an item is missing"),
    HoldReason.DAMAGED_ITEM: N_("Damaged item"),
    HoldReason.WRONG_ITEM_IN_TOTE: N_("Wrong item in the tote"),
    HoldReason.ADDRESS_PROBLEM: N_("Address problem"),
    HoldReason.OTHER: N_("Other (type why)"),
}


def fit_placeholders(dialog: QDialog) -> None:
    """Make each field wide enough for its whole grey hint, in the font it will show."""
    dialog.ensurePolished()
    for field in dialog.findChildren(QLineEdit):
        field.ensurePolished()
        hint = field.placeholderText()
        if hint:
            needed = field.fontMetrics().horizontalAdvance(hint) + 24  # text margins, frame
            field.setMinimumWidth(max(field.minimumWidth(), needed))


class PinDialog(QDialog):
    """Type the PIN for the badge just scanned; Enter confirms, Esc cancels."""

    def __init__(self, parent: QWidget | None, name: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("PIN"))
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setObjectName("pinField")
        layout = QVBoxLayout(self)
        layout.addWidget(named_label(_("{name}, type your PIN and press Enter", name=name), "hint"))
        layout.addWidget(self.pin)
        self.pin.returnPressed.connect(self.accept)


class HoldDialog(QDialog):
    """Choose why the order is held: 1-5 on the keyboard, or the arrow keys and Enter."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        # TRANSLATORS: put the order on hold (it waits, not packed, until someone releases it)
        self.setWindowTitle(_("Hold order"))
        self.reasons = QListWidget()
        for number, (reason, text) in enumerate(HOLD_TEXT.items(), start=1):
            item = QListWidgetItem(f"{number}  {_(text)}")
            item.setData(Qt.ItemDataRole.UserRole, reason.value)
            self.reasons.addItem(item)
        self.reasons.setCurrentRow(0)
        self.text = QLineEdit()
        self.text.setPlaceholderText(_("Details (needed for 'Other')"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        name_buttons(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(named_label(_("Why is this order on hold?"), "boxTitle"))
        layout.addWidget(self.reasons)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:
        """Every reason shown whole, without scrolling, in the font the style sheet gives."""
        self.ensurePolished()
        self.reasons.ensurePolished()
        frame = 2 * self.reasons.frameWidth()
        self.reasons.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.reasons.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.reasons.setMinimumWidth(self.reasons.sizeHintForColumn(0) + frame + 8)
        rows = sum(self.reasons.sizeHintForRow(r) for r in range(self.reasons.count()))
        self.reasons.setMinimumHeight(rows + frame + 4)
        fit_placeholders(self)
        self.adjustSize()
        super().showEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.text()
        if key.isdigit() and 1 <= int(key) <= self.reasons.count() and not self.text.hasFocus():
            self.reasons.setCurrentRow(int(key) - 1)
            return
        super().keyPressEvent(event)

    def reason(self) -> HoldReason:
        item = self.reasons.currentItem()
        return HoldReason(item.data(Qt.ItemDataRole.UserRole))


class SupervisorDialog(QDialog):
    """A supervisor scans their badge, types the PIN and says why (override or reprint)."""

    def __init__(self, parent: QWidget | None, title: str, question: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.badge = QLineEdit()
        self.badge.setPlaceholderText(_("scan the supervisor badge"))
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(_("at least 3 characters"))
        form = QFormLayout()
        form.addRow(_("Supervisor badge"), self.badge)
        form.addRow(_("PIN"), self.pin)
        form.addRow(_("Reason"), self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        name_buttons(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(named_label(question, "hint"))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:
        fit_placeholders(self)
        self.adjustSize()
        super().showEvent(event)

    def badge_scanned(self, badge: str) -> None:
        """A badge scan while the dialog is open fills the badge and moves on to the PIN."""
        self.badge.setText(badge)
        self.pin.setFocus()
