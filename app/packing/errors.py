"""Typed errors of the packing core; the view shows `str(error)` to the packer as is.

Every message is one sentence that says what to do next, because the station shows it
verbatim in the red banner.
"""

from __future__ import annotations


class PackingError(Exception):
    """Base of every error the pack session raises on purpose."""


class IllegalTransition(PackingError):
    """An action that the pack session does not allow in its current state."""

    def __init__(self, action: str, state: str, message: str) -> None:
        super().__init__(message)
        self.action = action
        self.state = state
        self.message = message


class UnknownCommand(PackingError):
    """A `PB:` command barcode that Packbench does not know; it is never guessed."""

    def __init__(self, text: str, message: str = "") -> None:
        super().__init__(
            message or "That command barcode is not known. Use a barcode from the command sheet."
        )
        self.text = text


class UnknownBoxType(PackingError):
    """A box type that is not in the station's box catalogue."""

    def __init__(self, box_type: str, known: tuple[str, ...]) -> None:
        super().__init__(f"Box type {box_type!r} is not known. Choose one of: {', '.join(known)}.")
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
