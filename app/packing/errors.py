"""Typed errors of the packing core; the view shows `str(error)` to the packer as is.

Every message is one sentence that says what to do next, because the station shows it
verbatim in the red banner. It is kept deferred in `error.message` (an `i18n.Msg`) and
rendered in the reader's language by `str(error)`.
"""

from __future__ import annotations

from app import i18n
from app.i18n import Msg, Text


class PackingError(Exception):
    """Base of every error the pack session raises on purpose."""

    def __init__(self, message: Text = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message: Text = message

    def __str__(self) -> str:
        return i18n.render(self.message)


class IllegalTransition(PackingError):
    """An action that the pack session does not allow in its current state."""

    def __init__(self, action: str, state: str, message: Text) -> None:
        super().__init__(message)
        self.action = action
        self.state = state


class UnknownCommand(PackingError):
    """A `PB:` command barcode that Packbench does not know; it is never guessed."""

    def __init__(self, text: str, message: Text = "") -> None:
        super().__init__(
            message
            or Msg("That command barcode is not known. Use a barcode from the command sheet.")
        )
        self.text = text


class UnknownBoxType(PackingError):
    """A box type that is not in the station's box catalogue."""

    def __init__(self, box_type: str, known: tuple[str, ...]) -> None:
        super().__init__(
            Msg(
                "Box type {box_type} is not known. Choose one of: {known}.",
                box_type=repr(box_type),
                known=", ".join(known),
            )
        )
        self.box_type = box_type
        self.known = known


class OrderNotPackable(PackingError):
    """The order cannot be packed at this station (cancelled, shipped, empty...)."""


class StaleStep(PackingError):
    """A step was computed from progress the session no longer holds (applied twice?)."""


class RestoreError(PackingError):
    """Recorded events do not belong to the order being restored."""


class ReasonRequired(PackingError):
    """A hold of reason OTHER, or an override, came without a usable reason text."""
