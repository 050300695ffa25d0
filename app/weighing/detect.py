"""Find out which scale protocol answers on a serial port, using read-only requests only.

Order matters: listen first (a CAS indicator streams without being asked, and sending it
bytes is pointless), then ask for the weight or status in each command protocol. Zero and
tare are never sent: probing must not change what the scale shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.weighing.cas import CasScale
from app.weighing.errors import ScaleCommandRejected, ScaleError
from app.weighing.mtsics import MtSicsScale, parse_mtsics_weight
from app.weighing.nci import NciScale, parse_nci_status
from app.weighing.serial_base import PORT_ERRORS, SerialScaleDriver, SerialSettings
from app.weighing.toledo import ToledoScale, parse_toledo_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DetectedScale:
    """The protocol that answered, the URL to configure, and what it said."""

    protocol: str
    url: str
    answer: bytes


def _probe_cas(driver: SerialScaleDriver) -> bytes:
    return driver.exchange(None)


def _probe_mtsics(driver: SerialScaleDriver) -> bytes:
    frame = driver.exchange(b"SI\r\n")
    try:
        parse_mtsics_weight(frame)
    except ScaleCommandRejected:  # "S I" (busy) or "EL" still means MT-SICS answered
        log.debug("MT-SICS probe answered %r", frame)
    return frame


def _probe_nci(driver: SerialScaleDriver) -> bytes:
    frame = driver.exchange(b"S\r")
    parse_nci_status(frame.rstrip(b"\r"))
    return frame


def _probe_toledo(driver: SerialScaleDriver) -> bytes:
    frame = driver.exchange(b"W")
    parse_toledo_frame(frame)
    return frame


_PROBES: tuple[tuple[str, type[SerialScaleDriver], Callable[[SerialScaleDriver], bytes]], ...] = (
    ("cas", CasScale, _probe_cas),
    ("mtsics", MtSicsScale, _probe_mtsics),
    ("nci", NciScale, _probe_nci),
    ("toledo", ToledoScale, _probe_toledo),
)


def detect_scale(
    port: str, *, timeout_s: float = 0.5, protocols: Sequence[str] | None = None
) -> DetectedScale | None:
    """Try each known protocol at its default settings; return the first that answers.

    Protocols with the same line settings share one open of the port: it halves the
    probing time, and some drivers (Linux ptys here, a few USB adapters) refuse to apply
    7E1 to a port a second time.
    """
    shared: dict[SerialSettings, Any] = {}
    try:
        for name, driver_cls, probe in _PROBES:
            if protocols is not None and name not in protocols:
                continue
            driver = driver_cls(port, timeout_s=timeout_s)
            try:
                if driver.settings in shared:
                    driver.use_port(shared[driver.settings])
                else:
                    driver.open()
                answer = probe(driver)
            except ScaleError as exc:
                log.info("scale detection on %s: not %s (%s)", port, name, exc)
                continue
            finally:
                opened = driver.detach_port()
                if opened is not None:
                    shared.setdefault(driver.settings, opened)
            log.info("scale detection on %s: %s answers %r", port, name, answer)
            return DetectedScale(driver_cls.protocol, f"{name}+serial://{port}", answer)
        return None
    finally:
        for serial_port in shared.values():
            try:
                serial_port.close()
            except PORT_ERRORS as exc:
                log.info("closing %s after detection: %s", port, exc)
