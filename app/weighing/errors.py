"""Typed scale errors; each message is a sentence the packer can act on.

A sentence for the packer is kept deferred in `error.message` (an `i18n.Msg`) and rendered in
the reader's language by `str(error)`; a frame the scale garbled is described in English
with its raw bytes (for whoever reads the log, not translated).
"""

from __future__ import annotations

from app import i18n
from app.i18n import Text


class ScaleError(Exception):
    """Base class for everything that can go wrong with a scale."""

    def __init__(self, message: Text = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message: Text = message

    def __str__(self) -> str:
        return i18n.render(self.message)


class BadScaleUrl(ScaleError):
    """The configured scale URL cannot be understood."""


class ScaleTimeout(ScaleError):
    """The scale did not answer in time (switched off, wrong port or wrong protocol)."""


class ScaleDisconnected(ScaleError):
    """The port went away (USB adapter unplugged, cable pulled)."""


class ScaleProtocolError(ScaleError):
    """The scale answered with bytes that are not a frame of the configured protocol."""


class UnknownUnit(ScaleProtocolError):
    """The scale reported a weight in a unit we cannot convert exactly."""


class ScaleCommandRejected(ScaleError):
    """The scale understood the command but refused or could not execute it now."""


class ScaleCommandUnsupported(ScaleError):
    """The protocol has no such command (for example tare on a Toledo 8213)."""


class ScaleFault(ScaleError):
    """The scale reports an internal fault (memory, calibration) and needs service."""


class ManualEntryNotAllowed(ScaleError):
    """Manual weight entry was requested at a site that does not permit it."""
