"""Typed errors of the scanning package."""

from __future__ import annotations


class ScannerError(Exception):
    """A scanner cannot be configured or opened; the message tells a person what to fix."""
