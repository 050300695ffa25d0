"""Typed printing errors; each carries a sentence the packer can act on."""

from __future__ import annotations


class PrinterError(Exception):
    """Base class for every printing failure.

    `message` is the sentence shown to the packer; `retryable` says whether the job may be
    sent again automatically once the printer is back.
    """

    retryable: bool = True

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class BadPrinterUrl(PrinterError):
    """The configured printer URL cannot be understood."""

    retryable = False


class PrinterOffline(PrinterError):
    """The printer cannot be reached (network, cable, power)."""


class PrinterInterrupted(PrinterOffline):
    """The connection broke while the job was being sent; the whole job is sent again."""


class PaperOut(PrinterError):
    """The printer has no labels or paper."""


class HeadOpen(PrinterError):
    """The print head or cover is open."""


class RibbonOut(PrinterError):
    """A thermal-transfer printer has run out of ribbon."""


class PrinterPaused(PrinterError):
    """The printer is paused and will not print until someone presses the pause key."""


class BufferFull(PrinterError):
    """The printer's receive buffer is full."""


class StatusUnknown(PrinterError):
    """The printer gave no answer, or an answer we cannot read, to a status query."""


class LabelError(PrinterError):
    """A label or document cannot be rendered; sending it again will not help."""

    retryable = False


class LabelTooLarge(LabelError):
    """Something on the label lies outside the media."""


class InvalidZpl(LabelError):
    """Pass-through ZPL failed the light validation."""


class CarrierLabelError(LabelError):
    """A carrier label (PDF or PNG) cannot be read."""
