"""Command barcodes of returns mode: `PB:RETURNS`, `PB:RESTOCK`, `PB:BGRADE[:REASON]`,
`PB:WRITEOFF[:REASON]`, `PB:CLOSE`, `PB:CANCEL`.

Strict like the packing commands: anything else starting with `PB:` is refused, never
mapped to the nearest known command.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.i18n import _
from sync.protocol import Disposition, ReturnReason

PREFIX = "PB:"
ENTER = "PB:RETURNS"


class ReturnCommandName(StrEnum):
    RETURNS = "RETURNS"
    RESTOCK = "RESTOCK"
    BGRADE = "BGRADE"
    WRITEOFF = "WRITEOFF"
    CLOSE = "CLOSE"
    CANCEL = "CANCEL"
    REPRINT = "REPRINT"
    LOGOUT = "LOGOUT"


DISPOSITIONS: dict[ReturnCommandName, Disposition] = {
    ReturnCommandName.RESTOCK: Disposition.RESTOCK,
    ReturnCommandName.BGRADE: Disposition.B_GRADE,
    ReturnCommandName.WRITEOFF: Disposition.WRITE_OFF,
}
_REASONS = {r.value.upper().replace("_", "-"): r for r in ReturnReason}


@dataclass(frozen=True, slots=True)
class ReturnCommand:
    """A parsed returns-mode command; `reason` only with a disposition."""

    name: ReturnCommandName
    reason: ReturnReason | None = None

    @property
    def barcode(self) -> str:
        """The canonical barcode text."""
        tail = f":{self.reason.value.upper().replace('_', '-')}" if self.reason else ""
        return f"{PREFIX}{self.name.value}{tail}"


class NotAReturnCommand(ValueError):
    """A `PB:` barcode that is not on the returns sheet."""


def is_enter_returns(text: str) -> bool:
    """Whether the scan is the `PB:RETURNS` command."""
    return text.strip().upper().replace("_", "-") == ENTER


def parse(text: str) -> ReturnCommand | None:
    """The command, None if the text is no `PB:` barcode at all; NotAReturnCommand if it is
    one that returns mode does not know."""
    stripped = text.strip().upper().replace("_", "-")
    if not stripped.startswith(PREFIX):
        return None
    head, colon, argument = stripped[len(PREFIX) :].partition(":")
    try:
        name = ReturnCommandName(head.replace("-", ""))
    except ValueError:
        raise NotAReturnCommand(text) from None
    if not colon:
        return ReturnCommand(name)
    reason = _REASONS.get(argument)
    if name not in DISPOSITIONS or name is ReturnCommandName.RESTOCK or reason is None:
        raise NotAReturnCommand(text)
    return ReturnCommand(name, reason)


def printable_return_commands() -> tuple[tuple[str, str], ...]:
    """(barcode, caption) for the returns command sheet, captions in the current language."""
    cards = [
        (ENTER, _("Returns mode")),
        ("PB:RESTOCK", _("Restock: sellable again")),
        # TRANSLATORS: second-quality goods sold at a discount.
        ("PB:BGRADE", _("B-grade: second quality")),
        ("PB:WRITEOFF", _("Write off")),
        ("PB:CLOSE", _("Close the return parcel")),
        ("PB:CANCEL", _("Leave the parcel / returns mode")),
    ]
    for name in (ReturnCommandName.BGRADE, ReturnCommandName.WRITEOFF):
        for reason in ReturnReason:
            command = ReturnCommand(name, reason)
            cards.append((command.barcode, f"{name.value.title()}: {reason.value}"))
    return tuple(cards)
