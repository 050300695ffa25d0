"""The `ScannerSource` interface and `open_scanner(url)`, which builds one from a device URL.

    wedge                                          USB keyboard-wedge scanner (default)
    wedge:?gap_ms=60&min_length=4&prefix=STX       ... with detection settings
    serial:///dev/ttyACM0?baudrate=9600&suffix=CR  serial / USB CDC scanner
    serial://COM3?suffix=CRLF
    evdev:///dev/input/by-id/usb-Honeywell-event-kbd   Linux: exclusive HID reading

Common parameters: blanking_ms, double_scan_ms (ScanGuard), max_len (bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from app.device_status import DeviceStatus
from app.i18n import _
from app.scanning.classify import ScanRules
from app.scanning.errors import ScannerError
from app.scanning.framing import parse_byte_name
from app.scanning.guard import ScanGuard
from app.scanning.scan import Scan

_COMMON = {"blanking_ms", "double_scan_ms", "max_len"}
_PARAMS = {
    "wedge": _COMMON | {"gap_ms", "min_length", "prefix", "suffix", "layout", "prefix_timeout_ms"},
    "serial": _COMMON
    | {"baudrate", "suffix", "prefix", "bytesize", "parity", "stopbits", "backoff_max_s"},
    "evdev": _COMMON | {"suffix", "grab"},
}


class ScannerSource(Protocol):
    """A scanner: `start` delivers every scan once to `on_scan` and status to `on_status`."""

    def start(
        self, on_scan: Callable[[Scan], None], on_status: Callable[[DeviceStatus], None]
    ) -> None:
        """Begin reading; callbacks may run on a reader thread (wedge: the GUI thread)."""

    def stop(self) -> None:
        """Stop reading and release the device."""

    def probe(self) -> str:
        """Open the device once and release it (self-test); raise ScannerError if it fails."""


def open_scanner(
    url: str, rules: ScanRules | None = None, guard: ScanGuard | None = None
) -> ScannerSource:
    """Build the scanner a device URL describes; raises ScannerError on a bad URL.

    For `wedge` the returned WedgeScanner must also be installed: `source.install(app)`.
    """
    text = url.strip()
    if not text:
        raise ScannerError(
            _(
                "No scanner configured. Use {wedge} or e.g. {serial}.",
                wedge="'wedge'",
                serial="'serial:///dev/ttyACM0'",
            )
        )
    parts = urlsplit(text if "://" in text or ":" in text else text + ":")
    scheme = parts.scheme.lower()
    if scheme not in _PARAMS:
        raise ScannerError(
            f"Unknown scanner type in {url!r}. Use 'wedge', 'serial:///dev/ttyACM0' "
            "(or serial://COM3) or 'evdev:///dev/input/by-id/...'."
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - _PARAMS[scheme])
    if unknown:
        raise ScannerError(
            f"Unknown setting(s) {', '.join(unknown)} in scanner URL {url!r}; "
            f"known: {', '.join(sorted(_PARAMS[scheme]))}."
        )
    base = rules or ScanRules()
    if "max_len" in params:
        base = replace(base, max_length=_int(params, "max_len", 1))
    guard = guard or ScanGuard(
        blanking_s=_int(params, "blanking_ms", 0, 100) / 1000,
        double_scan_s=_int(params, "double_scan_ms", 0, 800) / 1000,
    )
    device = parts.netloc + parts.path
    if scheme == "wedge":
        from app.scanning.wedge import WedgeScanner  # Qt only when needed
        from app.scanning.wedge_decoder import WedgeConfig

        config = WedgeConfig.from_params(params)
        return WedgeScanner(config, rules=base, guard=guard, url=text)
    if not device:
        example = scheme + ":///dev/ttyACM0"
        raise ScannerError(
            _("Scanner URL {url} names no device, e.g. {example}.", url=repr(url), example=example)
        )
    if scheme == "serial":
        from app.scanning.serial_source import SerialScanner

        options: dict[str, object] = {}
        if "bytesize" in params:
            options["bytesize"] = _int(params, "bytesize", 5)
        if "parity" in params:
            options["parity"] = params["parity"].upper()[:1]
        if "stopbits" in params:
            stopbits = {"1": 1, "1.5": 1.5, "2": 2}.get(params["stopbits"])
            if stopbits is None:
                raise ScannerError(
                    _("Scanner setting {name} must be 1, 1.5 or 2.", name="stopbits")
                )
            options["stopbits"] = stopbits
        return SerialScanner(
            device,
            url=text,
            baudrate=_int(params, "baudrate", 1, 9600),
            suffix=parse_byte_name(params.get("suffix", "CR"), "suffix"),
            prefix=parse_byte_name(params["prefix"], "prefix") if "prefix" in params else b"",
            rules=base,
            guard=guard,
            backoff_max_s=float(_int(params, "backoff_max_s", 1, 5)),
            serial_options=options,
        )
    from app.scanning.evdev_source import EvdevScanner

    return EvdevScanner(
        device,
        url=text,
        suffix=parse_byte_name(params.get("suffix", "CR"), "suffix"),
        grab=params.get("grab", "1") not in ("0", "false", "no"),
        rules=base,
        guard=guard,
    )


def _int(params: dict[str, str], name: str, minimum: int, default: int | None = None) -> int:
    if name not in params:
        if default is None:
            raise ScannerError(_("Scanner setting {name} is required.", name=name))
        return default
    try:
        value = int(params[name])
    except ValueError as exc:
        setting = name + "=" + repr(params[name])
        raise ScannerError(
            _("Scanner setting {setting} must be a number.", setting=setting)
        ) from exc
    if value < minimum:
        setting = name + "=" + str(value)
        raise ScannerError(
            _(
                "Scanner setting {setting} must be at least {minimum}.",
                setting=setting,
                minimum=minimum,
            )
        )
    return value
