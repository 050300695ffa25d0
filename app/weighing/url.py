"""Device URLs for scales: `open_scale("mtsics+serial:///dev/ttyUSB0?baudrate=9600")`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

from app.i18n import Msg
from app.weighing.cas import CasScale
from app.weighing.driver import ScaleDriver
from app.weighing.errors import BadScaleUrl, ManualEntryNotAllowed
from app.weighing.hidpos import HidPosScale
from app.weighing.mtsics import MtSicsScale
from app.weighing.nci import NciScale
from app.weighing.reading import parse_unit
from app.weighing.serial_base import SerialScaleDriver
from app.weighing.simulated import ManualScale, SimulatedScale
from app.weighing.toledo import ToledoScale

SERIAL_DRIVERS: dict[str, type[SerialScaleDriver]] = {
    "mtsics": MtSicsScale,
    "toledo": ToledoScale,
    "nci": NciScale,
    "cas": CasScale,
}
_SERIAL_KEYS = {"baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "timeout"}
_EXAMPLES = (
    "mtsics+serial:///dev/ttyUSB0?baudrate=9600, toledo+serial://COM3, nci+serial://..., "
    "cas+serial://..., hidpos://0922:8003, sim://, manual"
)


def _bad(url: str, why: str) -> BadScaleUrl:
    return BadScaleUrl(f"The scale setting '{url}' is not valid: {why}. Examples: {_EXAMPLES}.")


def _query(url: str, text: str, allowed: set[str]) -> dict[str, str]:
    query = dict(parse_qsl(text, keep_blank_values=True))
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise _bad(url, f"unknown option {', '.join(unknown)}")
    return query


def scale_from_url(url: str, *, allow_manual: bool = False) -> ScaleDriver:
    """Build (but do not open) the driver a URL names; `ScaleError` if the URL is bad."""
    text = url.strip()
    if text in ("manual", "manual://"):
        if not allow_manual:
            raise ManualEntryNotAllowed(
                Msg("Typing weights by hand is not permitted at this site; connect a scale.")
            )
        return ManualScale()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "sim":
        query = _query(url, parts.query, {"grams", "settle"})
        try:
            grams = Decimal(query.get("grams", "0"))
            settle = float(query.get("settle", "0.5"))
        except (InvalidOperation, ValueError) as exc:
            raise _bad(url, "grams and settle must be numbers") from exc
        return SimulatedScale(grams, settle_s=settle, url=text)
    if scheme == "hidpos":
        try:
            vid_text, pid_text = parts.netloc.split(":")
            vid, pid = int(vid_text, 16), int(pid_text, 16)
        except ValueError as exc:
            raise _bad(url, "write the USB ids as hidpos://VVVV:PPPP in hex") from exc
        return HidPosScale(vid, pid)
    protocol, _, transport = scheme.partition("+")
    if transport != "serial" or protocol not in SERIAL_DRIVERS:
        raise _bad(url, f"unknown scale type '{parts.scheme or text}'")
    port = parts.netloc + parts.path
    if not port:
        raise _bad(url, "no serial port given")
    driver_cls = SERIAL_DRIVERS[protocol]
    allowed = _SERIAL_KEYS | ({"unit"} if driver_cls is ToledoScale else set())
    query = _query(url, parts.query, allowed)
    try:
        settings = driver_cls.default_settings.with_query(query)
        timeout = float(query.get("timeout", "1.0"))
    except ValueError as exc:
        raise _bad(url, f"a serial option is not a number ({exc})") from exc
    if settings.parity not in ("N", "E", "O", "M", "S") or settings.bytesize not in (5, 6, 7, 8):
        raise _bad(url, "parity must be N/E/O and bytesize 5-8")
    driver = driver_cls(port, settings, timeout_s=timeout, url=text)
    if "unit" in query and isinstance(driver, ToledoScale):
        driver.unit = parse_unit(query["unit"])
    return driver


def open_scale(url: str, *, allow_manual: bool = False) -> ScaleDriver:
    """Build the driver a URL names and open it."""
    driver = scale_from_url(url, allow_manual=allow_manual)
    driver.open()
    return driver
