"""`Printer`: a language, a transport and the media; `open_printer(url)` builds one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from app.device_status import DeviceKind, DeviceStatus
from app.printing.errors import BadPrinterUrl, PrinterError
from app.printing.model import MEDIA_4X6, MEDIA_A4, MEDIA_BY_NAME, Label, Media
from app.printing.status import (
    ESCPOS_QUERIES,
    READY,
    PrinterStatus,
    Problem,
    parse_escpos_status,
    parse_host_status,
    parse_lpstat,
)

if TYPE_CHECKING:
    # python-escpos and its imaging take over a second to import: only ESC/POS printers pay.
    from app.printing.escpos_render import EscPosProfile

from app.printing.transport import (
    CupsTransport,
    DirectoryTransport,
    SerialTransport,
    TcpTransport,
    Transport,
    UsbTransport,
)

log = logging.getLogger(__name__)


class Language(StrEnum):
    ZPL = "zpl"
    ESCPOS = "escpos"
    PDF = "pdf"

    @property
    def extension(self) -> str:
        return {"zpl": "zpl", "escpos": "bin", "pdf": "pdf"}[self.value]


@dataclass
class Printer:
    """One configured printer. Thread use: one `PrintWorker` per printer."""

    url: str
    language: Language
    transport: Transport
    kind: DeviceKind = DeviceKind.LABEL_PRINTER
    dpi: int = 203
    media: Media = MEDIA_4X6
    escpos: EscPosProfile | None = None
    status_timeout: float = 2.0
    writes_previews: bool = False

    def render(self, pages: Label | list[Label]) -> bytes:
        """Render label models in this printer's language, for its dpi and profile."""
        from app.printing.pdf import render_pdf
        from app.printing.zpl import render_zpl

        pages = [pages] if isinstance(pages, Label) else pages
        if self.language is Language.ZPL:
            return b"".join(render_zpl(page, self.dpi) for page in pages)
        if self.language is Language.ESCPOS:
            assert self.escpos is not None
            from app.printing.escpos_render import render_escpos

            return b"".join(render_escpos(page, self.escpos) for page in pages)
        return render_pdf(pages)

    def preview(self, pages: Label | list[Label]) -> bytes | None:
        """A PNG of the first page for printers that keep previews (file://), else None."""
        from app.printing.png import render_png

        if not self.writes_previews:
            return None
        first = pages if isinstance(pages, Label) else pages[0]
        return render_png(first, self.dpi)

    @property
    def knows_status(self) -> bool:
        """Whether `status()` asks the printer; a folder or raw PDF printer is assumed ready."""
        if isinstance(self.transport, CupsTransport):
            return True
        return self.transport.can_query and self.language in (Language.ZPL, Language.ESCPOS)

    def status(self) -> PrinterStatus:
        """Ask the printer how it is; an unreachable printer is a status, not an exception."""
        try:
            if isinstance(self.transport, CupsTransport):
                return parse_lpstat(self.transport.lpstat(), self.transport.queue)
            if not self.transport.can_query:
                return READY
            if self.language is Language.ZPL:
                answer = self.transport.query(
                    b"~HS", lambda a: a.count(b"\x03") >= 3, self.status_timeout
                )
                return parse_host_status(answer)
            if self.language is Language.ESCPOS:
                answers: list[bytes | None] = [
                    self.transport.query(q, lambda a: len(a) >= 1, self.status_timeout)
                    for q in ESCPOS_QUERIES
                ]
                return parse_escpos_status(answers)
            return READY
        except PrinterError as exc:
            log.warning("printer %s status: %s (%s)", self.url, exc.message, exc.detail)
            return PrinterStatus(frozenset({Problem.OFFLINE}), exc.message)

    def device_status(self, status: PrinterStatus | None = None) -> DeviceStatus:
        """The status as the shared `DeviceStatus` value for the status bar."""
        return (status or self.status()).device_status(self.kind, self.url)

    def send(self, payload: bytes, name: str = "job", preview_png: bytes | None = None) -> None:
        """Send one whole job; raises `PrinterError` (and subclasses) on failure."""
        self.transport.send(payload, name=name, preview_png=preview_png)


def open_printer(url: str) -> Printer:
    """Build a printer from a device URL, or raise `BadPrinterUrl` saying what is wrong.

    Query options: `dpi` (203/300/600), `media` (4x6, 4x3, A6, A4), `profile` and
    `width_px` (ESC/POS), `baudrate` (serial), `timeout` (status seconds), `lang` (cups,
    file: zpl/escpos/pdf).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        dpi = int(query.get("dpi", "203"))
        timeout = float(query.get("timeout", "2.0"))
        port_number = parts.port
    except ValueError as exc:
        raise BadPrinterUrl(f"Printer URL {url!r} has a bad number: {exc}") from exc
    if dpi not in (180, 203, 300, 600):
        raise BadPrinterUrl(f"Printer URL {url!r}: dpi must be 203, 300 or 600")
    media_name = query.get("media", "")
    if media_name and media_name.lower() not in MEDIA_BY_NAME:
        raise BadPrinterUrl(
            f"Printer URL {url!r}: unknown media {media_name!r}; use one of "
            + ", ".join(MEDIA_BY_NAME)
        )
    media = MEDIA_BY_NAME.get(media_name.lower(), MEDIA_4X6)
    language = scheme.partition("+")[0]

    if scheme in ("zpl+tcp", "escpos+tcp"):
        if not parts.hostname:
            raise BadPrinterUrl(f"Printer URL {url!r} needs a host, e.g. {scheme}://10.0.0.5:9100")
        transport: Transport = TcpTransport(parts.hostname, port_number or 9100)
    elif scheme in ("zpl+serial", "escpos+serial"):
        device = unquote(parts.netloc + parts.path)
        if not device:
            raise BadPrinterUrl(f"Printer URL {url!r} needs a port, e.g. {scheme}:///dev/ttyS0")
        transport = SerialTransport(device, int(query.get("baudrate", "9600")))
    elif scheme == "escpos+usb":
        try:
            vendor, product = (int(part, 16) for part in parts.netloc.split(":"))
        except ValueError as exc:
            raise BadPrinterUrl(
                f"Printer URL {url!r} needs vendor:product in hex, e.g. escpos+usb://04b8:0202"
            ) from exc
        transport = UsbTransport(vendor, product)
    elif scheme == "cups":
        queue_name = unquote(parts.netloc or parts.path.strip("/"))
        if not queue_name:
            raise BadPrinterUrl(f"Printer URL {url!r} needs a queue name, e.g. cups://Office")
        language = query.get("lang", "pdf")
        transport = CupsTransport(queue_name)
    elif scheme in ("file", "pdf"):
        directory = unquote(parts.path)
        if not directory:
            raise BadPrinterUrl(f"Printer URL {url!r} needs a folder, e.g. {scheme}:///tmp/labels")
        language = "pdf" if scheme == "pdf" else query.get("lang", "zpl")
        transport = DirectoryTransport(
            Path(directory),
            Language(language).extension if language in Language.__members__.values() else "bin",
        )
    else:
        raise BadPrinterUrl(
            f"Printer URL {url!r} is not supported: use zpl+tcp://, zpl+serial://, escpos+usb://,"
            " escpos+tcp://, cups://, file:// or pdf://"
        )

    if language not in ("zpl", "escpos", "pdf"):
        raise BadPrinterUrl(f"Printer URL {url!r}: unknown printer language {language!r}")
    lang = Language(language)
    profile = None
    if lang is Language.ESCPOS:
        width_px = int(query["width_px"]) if "width_px" in query else None
        try:
            from app.printing.escpos_render import escpos_profile

            profile = escpos_profile(query.get("profile", "TM-T88V"), width_px)
        except Exception as exc:  # escpos raises its own NotSupported types
            raise BadPrinterUrl(f"Printer URL {url!r}: {exc}") from exc
        dpi = profile.dpi
    kind = DeviceKind.DOCUMENT_PRINTER if lang is Language.PDF else DeviceKind.LABEL_PRINTER
    if lang is Language.PDF and not media_name:
        media = MEDIA_A4
    return Printer(
        language=lang,
        transport=transport,
        kind=kind,
        escpos=profile,
        writes_previews=scheme == "file" and lang is Language.ZPL,
        url=url,
        dpi=dpi,
        media=media,
        status_timeout=timeout,
    )
