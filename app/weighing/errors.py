"""Typed scale errors; each message is a sentence the packer can act on."""

from __future__ import annotations


class ScaleError(Exception):
    """Base class for everything that can go wrong with a scale."""


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
