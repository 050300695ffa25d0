"""Device status values shared by scanners, scales and printers.

Devices run on their own threads and report through plain callbacks; the Qt bridge in
`app/` turns these values into signals on the GUI thread and the status bar shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sync.clock import utcnow


class DeviceKind(StrEnum):
    SCANNER = "scanner"
    SCALE = "scale"
    LABEL_PRINTER = "label_printer"
    DOCUMENT_PRINTER = "document_printer"


class DeviceState(StrEnum):
    READY = "ready"  # working, nothing to say
    WARNING = "warning"  # works, but a person should know (paper near end, reconnected)
    ERROR = "error"  # cannot work until someone acts (paper out, head open)
    DISCONNECTED = "disconnected"  # not there; we keep trying to reconnect


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One report from a device: what state it is in and a sentence for the packer."""

    kind: DeviceKind
    state: DeviceState
    message: str
    url: str = ""
    at: datetime = field(default_factory=utcnow)
