"""Words on screen for codes that travel on the wire, through Qt's tr() (one place).

A supervisor reads "damaged item", never `damaged_item`; the later translation work picks
every text here up with `pyside6-lupdate`.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

CONTEXT = "Packbench"


def tr(text: str) -> str:
    """`text` in the station's language (English until a .qm catalogue is installed)."""
    return QCoreApplication.translate(CONTEXT, text)


# The English is the key; lupdate finds these through the QT_TRANSLATE_NOOP-style table.
_CODES = {
    # order statuses
    "pending": "waiting for confirmation",
    "confirmed": "confirmed",
    "allocated": "allocated",
    "picking": "being picked",
    "packed": "packed",
    "shipped": "shipped",
    "delivered": "delivered",
    "completed": "completed",
    "on_hold": "on hold",
    "backorder": "back-ordered",
    "cancelled": "cancelled",
    "returned": "returned",
    # hold reasons
    "short_pick": "item missing from the tote",
    "damaged_item": "damaged item",
    "wrong_item_in_tote": "wrong item in the tote",
    "address_problem": "address problem",
    "other": "other (see message)",
    # exception kinds
    "hold": "order held at a station",
    "weight": "weight overridden",
    "validation": "order data to fix",
    "rejected": "station event refused",
    "cancellation": "cancelled by the shop",
    "late_change": "changed by the shop after picking",
    "carrier": "carrier problem",
    "stuck": "no progress",
    "unknown_sku": "product not in the catalogue",
}


def human(code: str) -> str:
    """A code in plain words; an unknown code is shown with spaces, never hidden."""
    words = _CODES.get(code)
    return tr(words) if words is not None else code.replace("_", " ")


def label_state(printed: int) -> str:
    """The exception list's label column: whether a printed label must be voided."""
    if printed <= 0:
        return tr("none")
    if printed == 1:
        return tr("1 printed: void it")
    return tr("%n printed: void them").replace("%n", str(printed))


_TO_PACK = frozenset({"pending", "confirmed", "allocated", "picking"})


def packer_state(status: str) -> str:
    """An order's status as the packer cares about it: to pack, packed, on hold..."""
    return tr("to pack") if status in _TO_PACK else human(status)
