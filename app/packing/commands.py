"""Command barcodes (`PB:CLOSE`, `PB:HOLD:SHORT-PICK`, ...) so a packer can work by scanner alone.

Parsing is strict: an unknown command raises `UnknownCommand` and is never mapped to the
nearest known one, because a misread "close" must not ship an order. Case and `-`/`_` are
not significant, since wedge scanners flip case with Caps Lock and people type either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.i18n import N_, Msg, _
from app.packing.errors import UnknownCommand
from app.packing.model import DEFAULT_BOX_WEIGHTS
from sync.protocol import HoldReason

PREFIX = "PB:"
MAX_COMMAND_LENGTH = 64
_BOX_TYPE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")


class CommandName(StrEnum):
    CLOSE = "CLOSE"
    NEW_BOX = "NEW-BOX"
    REPRINT = "REPRINT"
    HOLD = "HOLD"
    LOGOUT = "LOGOUT"
    REWEIGH = "REWEIGH"
    CANCEL = "CANCEL"
    BOX = "BOX"


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command barcode. `hold_reason` only for HOLD, `box_type` only for BOX."""

    name: CommandName
    hold_reason: HoldReason | None = None
    box_type: str | None = None

    @property
    def barcode(self) -> str:
        """The canonical barcode text for this command."""
        if self.name is CommandName.HOLD and self.hold_reason is not None:
            return f"{PREFIX}HOLD:{self.hold_reason.value.upper().replace('_', '-')}"
        if self.name is CommandName.BOX:
            return f"{PREFIX}BOX:{self.box_type}"
        return f"{PREFIX}{self.name.value}"


@dataclass(frozen=True, slots=True)
class CommandCard:
    """One entry of the printable command sheet."""

    barcode: str
    caption: str


def _token(text: str) -> str:
    return text.strip().upper().replace("_", "-")


_SIMPLE = {name.value: name for name in CommandName if name is not CommandName.BOX}
_HOLD_REASONS = {_token(reason.value): reason for reason in HoldReason}


def is_command(text: str) -> bool:
    """Whether the text is meant as a Packbench command (starts with `PB:`)."""
    return text.strip().upper().startswith(PREFIX)


def parse_command(text: str) -> Command:
    """Parse a command barcode; raise `UnknownCommand` for anything not on the sheet."""
    stripped = text.strip()
    # ASCII only: str.upper() maps e.g. a dotless "ı" to "I", which would be a guess.
    if (
        len(stripped) > MAX_COMMAND_LENGTH
        or not stripped.isascii()
        or not stripped.upper().startswith(PREFIX)
    ):
        raise UnknownCommand(text)
    head, colon, argument = stripped[len(PREFIX) :].partition(":")
    if colon and not argument:
        raise UnknownCommand(text)
    name = _token(head)
    if name == CommandName.BOX.value:
        box_type = _token(argument)
        if not _BOX_TYPE.fullmatch(box_type):
            raise UnknownCommand(
                text, Msg("That box barcode has no valid box type. Use the sheet.")
            )
        return Command(CommandName.BOX, box_type=box_type)
    command = _SIMPLE.get(name)
    if command is None:
        raise UnknownCommand(text)
    if command is CommandName.HOLD and argument:
        reason = _HOLD_REASONS.get(_token(argument))
        if reason is None:
            raise UnknownCommand(text, Msg("That hold reason is not known. Use the command sheet."))
        return Command(CommandName.HOLD, hold_reason=reason)
    if argument:
        raise UnknownCommand(text)
    return Command(command)


_CAPTIONS: dict[CommandName, str] = {
    CommandName.CLOSE: N_("Close order (all boxes weighed and labelled)"),
    CommandName.NEW_BOX: N_("Close this box and start a new one"),
    CommandName.REPRINT: N_("Reprint the label"),
    CommandName.HOLD: N_("Hold order (choose a reason)"),
    CommandName.REWEIGH: N_("Weigh this box again"),
    CommandName.CANCEL: N_("Cancel the current prompt"),
    CommandName.LOGOUT: N_("Log out"),
}
_HOLD_CAPTIONS: dict[HoldReason, str] = {
    HoldReason.SHORT_PICK: N_("Hold: short pick"),
    HoldReason.DAMAGED_ITEM: N_("Hold: damaged item"),
    # TRANSLATORS: "tote" is the picking crate the items arrive in.
    HoldReason.WRONG_ITEM_IN_TOTE: N_("Hold: wrong item in tote"),
    HoldReason.ADDRESS_PROBLEM: N_("Hold: address problem"),
    HoldReason.OTHER: N_("Hold: other reason (type it in)"),
}


def printable_commands(box_types: Iterable[str] = DEFAULT_BOX_WEIGHTS) -> tuple[CommandCard, ...]:
    """Every command barcode with its caption, for the printed command sheet."""
    cards = [CommandCard(Command(name).barcode, _(caption)) for name, caption in _CAPTIONS.items()]
    cards += [
        CommandCard(Command(CommandName.HOLD, hold_reason=reason).barcode, _(caption))
        for reason, caption in _HOLD_CAPTIONS.items()
    ]
    cards += [
        CommandCard(
            Command(CommandName.BOX, box_type=_token(box)).barcode,
            _("Box type {box_type}", box_type=box),
        )
        for box in box_types
    ]
    return tuple(cards)
