"""A PNG preview of carrier ZPL for file printers (the demo), without a ZPL interpreter.

Carrier ZPL comes in two kinds:
- a raster label: one or more `^GFA` graphic fields placed with `^FO` (what the station
  itself sends for a carrier PDF, and what some carriers ship). The picture *is* the label,
  so the preview draws those fields where the printer would, on the printer's media at its
  dpi: exactly the dots that print.
- native ZPL: text, barcode and box commands (`^A`, `^BC`, `^GB`, ...) that the printer
  draws with its own fonts and barcode engine. The station has no ZPL interpreter (the
  independent renderer the tests use runs on node, which a station does not have), and a
  half-drawn picture would show something that does not print. The preview then says so
  plainly, with the label's own text fields listed, and the log says the same.

A label whose graphic data is damaged gets the same plain notice with the reason; the label
itself still goes to the printer (which decides what to do with it).
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFont

from app.printing.errors import LabelError
from app.printing.glyphs import font_path
from app.printing.model import Media
from app.printing.zpl_graphics import decode_graphic_field

# What the notice says (a file beside the label, read by whoever checks the demo's labels).
NO_PREVIEW_TITLE = "No preview of this label"
NATIVE_ZPL = (
    "The carrier sent this label as ZPL that the printer draws itself (text and barcode "
    "commands). The station cannot draw that, so there is no picture of it here. The label "
    "was sent to the printer unchanged: look at the printed label."
)
DAMAGED_RASTER = (
    "The picture in this carrier label cannot be read ({reason}). The label was sent to the "
    "printer unchanged: look at the printed label, and fetch it again if it is blank."
)

# Commands that set up the page or place a field without drawing anything themselves.
# (^CC/^CD/^CT change the command characters themselves: such a label is not read here.)
_LAYOUT = frozenset(
    {"XA", "XZ", "PW", "LL", "LH", "LS", "LT", "FO", "FS", "PQ", "CI", "MM", "MN", "MT",
     "MD", "PR", "PM", "PO", "LR", "JM", "FX", "JU", "SZ", "CF", "BY"}
)  # fmt: skip
_COMMAND = re.compile(r"([\^~])([A-Za-z0-9@]{2})([^\^~]*)", re.S)
_FORMAT = re.compile(r"\^XA.*?(?:\^XZ|$)", re.S)


@dataclass(frozen=True)
class ZplPreview:
    """The preview image; `notice` is why it is a notice rather than the label's dots."""

    image: Image.Image
    notice: str | None = None
    fields: tuple[str, ...] = ()

    def png(self, dpi: int) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG", dpi=(dpi, dpi))
        return out.getvalue()


class _NotRaster(Exception):
    """The format draws with printer commands, not only with graphic fields."""


def _numbers(args: str, count: int) -> list[int]:
    values = []
    for part in (args.split(",") + [""] * count)[:count]:
        part = part.strip()
        values.append(int(part) if part.lstrip("-").isdigit() else 0)
    return values


def _raster(fmt: str, media: Media, dpi: int) -> Image.Image:
    """The format's graphic fields on the media, as the printer places them."""
    page = Image.new("L", media.dots(dpi), 255)
    home = origin = (0, 0)
    inverted = drawn = False
    for caret, name, args in _COMMAND.findall(fmt):
        name = name.upper()
        if caret == "~":
            if name in ("DG", "DY", "DB"):  # a stored graphic recalled by ^XG: not drawn here
                raise _NotRaster(name)
            continue
        if name == "LH":
            home = tuple(_numbers(args, 2))  # type: ignore[assignment]
        elif name == "FO":
            origin = tuple(_numbers(args, 2))  # type: ignore[assignment]
        elif name == "PO":
            inverted = args.strip().upper().startswith("I")
        elif name == "GF":
            parts = args.split(",", 4)
            if len(parts) < 5 or parts[0].strip().upper() != "A":
                raise LabelError("only ASCII graphic fields (^GFA) can be shown")
            try:
                total, per_row = int(parts[1]), int(parts[3])
            except ValueError as exc:
                raise LabelError(f"the ^GF header {args[:30]!r} is not numbers") from exc
            field = decode_graphic_field(total, per_row, parts[4])
            # Black dots win where fields overlap, as on the printer.
            position = (home[0] + origin[0], home[1] + origin[1])
            layer = Image.new("L", page.size, 255)
            layer.paste(field, position)
            page = ImageChops.darker(page, layer)
            drawn = True
        elif name not in _LAYOUT:
            raise _NotRaster(name)
    if not drawn:
        raise _NotRaster("no graphic field")
    return page.rotate(180) if inverted else page


def text_fields(zpl: str) -> tuple[str, ...]:
    """The label's `^FD` fields in order, `^FH` hex escapes decoded; barcodes marked."""
    fields: list[str] = []
    hex_char: str | None = None
    barcode = False
    for caret, name, args in _COMMAND.findall(zpl):
        name = name.upper()
        if caret != "^":
            continue
        if name[0] == "B" and name[1] != "Y":  # ^BC, ^BQ, ^BX, ... (^BY only sets the module)
            barcode = True
        elif name == "FH":
            hex_char = args[:1] or "_"
        elif name == "FD":
            text = " ".join(_unhex(args, hex_char).split())
            if text:
                fields.append(f"barcode {text}" if barcode else text)
        elif name == "FS":
            hex_char, barcode = None, False
    return tuple(fields)


def _unhex(text: str, marker: str | None) -> str:
    """`^FH` field data with its `<marker>XX` UTF-8 byte escapes decoded."""
    if not marker:
        return text

    def bytes_of(match: re.Match[str]) -> str:
        return bytes.fromhex(match.group(0).replace(marker, "")).decode("utf-8", "replace")

    return re.sub(rf"(?:{re.escape(marker)}[0-9A-Fa-f]{{2}})+", bytes_of, text)


@lru_cache(maxsize=8)
def _font(px: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(font_path(bold), px)
    except (LabelError, OSError):
        return ImageFont.load_default(size=px)


def _notice_image(media: Media, dpi: int, lines: list[tuple[str, bool]]) -> Image.Image:
    width, height = media.dots(dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    margin = round(4 / 25.4 * dpi)
    frame = max(2, round(0.6 / 25.4 * dpi))
    draw.rectangle((frame, frame, width - frame - 1, height - frame - 1), outline=0, width=frame)
    y = margin + frame
    for text, bold in lines:
        px = round((4.2 if bold else 3.0) / 25.4 * dpi)
        font = _font(px, bold)
        chars = max(12, int((width - 2 * margin) / (px * 0.5)))
        for line in textwrap.wrap(text, chars) or [""]:
            if y + px > height - margin:
                return image
            draw.text((margin + frame, y), line, fill=0, font=font)
            y += round(px * 1.25)
        y += round(px * 0.5)
    return image


def notice(
    media: Media, dpi: int, reason: str, tracking_number: str, fields: tuple[str, ...] = ()
) -> ZplPreview:
    """A media-sized PNG that says plainly why there is no picture, with the label's text."""
    lines: list[tuple[str, bool]] = [(NO_PREVIEW_TITLE, True), (reason, False)]
    if tracking_number:
        lines.append((f"Tracking number: {tracking_number}", True))
    if fields:
        lines.append(("Text fields on the label:", True))
        lines.extend((field, False) for field in fields)
    image = _notice_image(media, dpi, lines)
    return ZplPreview(image, reason, fields)


def zpl_preview(data: bytes, media: Media, dpi: int, tracking_number: str = "") -> ZplPreview:
    """The first label of a carrier's ZPL as the printer would print it, or a plain notice."""
    text = data.decode("utf-8", "replace")
    found = _FORMAT.search(text)
    fmt = found.group(0) if found else text
    try:
        return ZplPreview(_raster(fmt, media, dpi))
    except _NotRaster:
        return notice(media, dpi, NATIVE_ZPL, tracking_number, text_fields(fmt))
    except LabelError as exc:
        reason = DAMAGED_RASTER.format(reason=exc.message)
        return notice(media, dpi, reason, tracking_number, text_fields(fmt))
