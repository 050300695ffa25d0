"""Carrier labels as carriers send them: ZPL passes through; PDF/PNG are rasterised.

Rasterising happens at the target printer's own dpi (never at 72 dpi and scaled up), with
the page turned to match the media's orientation, at the size the carrier drew it.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageOps, UnidentifiedImageError

from app.printing.errors import CarrierLabelError, LabelTooLarge
from app.printing.model import MM_PER_INCH, Media
from app.printing.zpl import validate_zpl
from app.printing.zpl_graphics import graphic_field, to_bitmap

if TYPE_CHECKING:  # python-escpos takes a second to import; only ESC/POS printers pay
    from app.printing.escpos_render import EscPosProfile

log = logging.getLogger(__name__)
SUPERSAMPLE = 3  # PDF pages are drawn 3x finer than the printer's dots, then averaged


class CarrierFormat(StrEnum):
    ZPL = "zpl"
    PDF = "pdf"
    PNG = "png"


@dataclass(frozen=True, slots=True)
class CarrierLabel:
    """A label file from a carrier, as bytes, with its format."""

    format: CarrierFormat
    data: bytes


def rasterise(label: CarrierLabel, media: Media, dpi: int, shrink: bool = False) -> Image.Image:
    """The first page of a PDF/PNG carrier label as a 1-bit image of `media` at `dpi`.

    A PDF is drawn at its true size (bars keep their width in mm); a page larger than the
    media prints its inked area when that fits, with a warning, and is refused otherwise.
    """
    target = (round(media.width_mm / MM_PER_INCH * dpi), round(media.height_mm / MM_PER_INCH * dpi))
    if label.format is CarrierFormat.PDF:
        return _render_pdf(label.data, target, dpi, media, shrink)
    if label.format is CarrierFormat.PNG:
        try:
            image: Image.Image = Image.open(io.BytesIO(label.data))
            image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise CarrierLabelError(
                "The carrier label image is damaged: fetch the label again", detail=str(exc)
            ) from exc
        image = _flatten(image)
        if (image.width > image.height) != (target[0] > target[1]):
            image = image.rotate(90, expand=True)
        return to_bitmap(_fit(image, target), *target)
    raise CarrierLabelError(f"Cannot rasterise a {label.format} carrier label")


def _flatten(image: Image.Image) -> Image.Image:
    # Transparent PNGs would turn black where the alpha channel hides colour.
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")


def _open_pdf(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # pdfium's error code is global and can be stale: look for the trailer's /Encrypt.
        if b"/Encrypt" in data:
            raise CarrierLabelError(
                "The carrier label PDF is encrypted (password protected): ask the carrier "
                "for an unprotected label",
                detail=str(exc),
            ) from exc
        raise CarrierLabelError(
            "The carrier label PDF is damaged or has no page: fetch the label again",
            detail=str(exc),
        ) from exc


def _render_pdf(
    data: bytes, target: tuple[int, int], dpi: int, media: Media, shrink: bool
) -> Image.Image:
    import pypdfium2 as pdfium

    document = _open_pdf(data)
    try:
        if len(document) < 1:
            raise CarrierLabelError("The carrier label PDF has no pages: fetch the label again")
        page = document[0]
        width_pt, height_pt = page.get_size()
        rotation = 90 if (width_pt > height_pt) != (target[0] > target[1]) else 0
        if rotation:
            width_pt, height_pt = height_pt, width_pt
        scale = dpi / 72
        fit = min(target[0] / (width_pt * scale), target[1] / (height_pt * scale))
        if shrink and fit < 1:
            # Receipt printers: the paper is narrower than any carrier label. The bars get
            # thinner by the same ratio; the packer is warned to check that it scans.
            log.warning(
                "carrier label shrunk to %.0f %% to fit the paper: check it scans", fit * 100
            )
            scale *= fit
        # True size, drawn SUPERSAMPLE times finer and averaged back per printer dot: each bar
        # edge lands on the nearest dot, so a bar is never thinned by anti-aliasing and a
        # 0.25 mm module stays 2 dots at 203 dpi and 3 at 300 (no resampling of the result).
        fine = page.render(
            scale=scale * SUPERSAMPLE,
            rotation=rotation,
            grayscale=True,
            fill_color=(255, 255, 255, 255),
            no_smoothtext=True,
            no_smoothimage=True,
            no_smoothpath=True,
        ).to_pil()
        image = fine.convert("L").reduce(SUPERSAMPLE)
    except pdfium.PdfiumError as exc:
        raise CarrierLabelError(
            "The carrier label PDF cannot be drawn: fetch it again", detail=str(exc)
        ) from exc
    finally:
        document.close()
    bitmap = image.point(lambda v: 255 if v >= 128 else 0)
    if ImageOps.invert(bitmap).getbbox() is None:
        raise CarrierLabelError("The carrier label PDF page is blank: fetch the label again")
    return _place(bitmap, target, dpi, media).convert("1", dither=Image.Dither.NONE)


def _place(image: Image.Image, target: tuple[int, int], dpi: int, media: Media) -> Image.Image:
    """The page centred on the media; a larger page is cropped to its ink if that fits."""
    page = Image.new("L", target, 255)
    if image.width <= target[0] and image.height <= target[1]:
        page.paste(image, ((target[0] - image.width) // 2, (target[1] - image.height) // 2))
        return page
    ink = ImageOps.invert(image).getbbox()
    assert ink is not None
    left, top, right, bottom = ink
    size_mm = f"{image.width / dpi * MM_PER_INCH:.0f} x {image.height / dpi * MM_PER_INCH:.0f}"
    ink_mm = f"{(right - left) / dpi * MM_PER_INCH:.0f} x {(bottom - top) / dpi * MM_PER_INCH:.0f}"
    if right - left > target[0] or bottom - top > target[1]:
        # Shrinking would make the bars thinner than the carrier drew them (an A4 label at
        # half size has bars of about one dot): refuse instead of printing an unreadable one.
        raise LabelTooLarge(
            f"The carrier label PDF is {size_mm} mm and its printed area ({ink_mm} mm) is "
            f"larger than the {media.name} labels in this printer: ask the carrier for "
            f"{media.name} labels, or print it on the document printer"
        )
    slack = round(dpi / MM_PER_INCH)  # a page up to 1 mm larger than the media is just trimmed
    if image.width > target[0] + slack or image.height > target[1] + slack:
        log.warning(
            "carrier label PDF is %s mm, larger than %s media: printing its printed area (%s mm) "
            "at true size",
            size_mm,
            media.name,
            ink_mm,
        )
    cx, cy = (left + right) // 2, (top + bottom) // 2
    x0 = min(max(0, cx - target[0] // 2), image.width - target[0]) if image.width > target[0] else 0
    y0 = (
        min(max(0, cy - target[1] // 2), image.height - target[1])
        if image.height > target[1]
        else 0
    )
    crop = image.crop((x0, y0, min(image.width, x0 + target[0]), min(image.height, y0 + target[1])))
    page.paste(crop, ((target[0] - crop.width) // 2, (target[1] - crop.height) // 2))
    return page


def _fit(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Scale into target keeping proportions, centred on a white page."""
    ratio = min(target[0] / image.width, target[1] / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    if size == target:
        return image
    page = Image.new("L", target, 255)
    page.paste(image, ((target[0] - size[0]) // 2, (target[1] - size[1]) // 2))
    return page


_PRINT_WIDTH = re.compile(rb"\^PW(\d+)")


def zpl_size_warning(data: bytes, media: Media, dpi: int) -> str | None:
    """A warning when carrier ZPL was made for another resolution (e.g. 203 dpi on a 300)."""
    found = _PRINT_WIDTH.search(data)
    expected = media.dots(dpi)[0]
    if found is None or abs(int(found.group(1)) - expected) <= expected * 0.1:
        return None
    width = int(found.group(1))
    warning = (
        f"The carrier label is {width} dots wide but this printer's {media.name} labels are "
        f"{expected} dots at {dpi} dpi, so it prints at {width * 100 // expected} % size: set "
        f"the carrier's label resolution to {dpi} dpi"
    )
    log.warning("%s", warning)
    return warning


def carrier_to_zpl(label: CarrierLabel, media: Media, dpi: int = 203, z64: bool = False) -> bytes:
    """ZPL for a carrier label: ZPL untouched (validated lightly), PDF/PNG as one `^GF`."""
    if label.format is CarrierFormat.ZPL:
        validate_zpl(label.data)
        return label.data
    bitmap = rasterise(label, media, dpi)
    width, height = bitmap.size
    return (
        f"^XA\n^PW{width}\n^LL{height}\n^LH0,0\n^FO0,0{graphic_field(bitmap, z64)}^FS\n^PQ1\n^XZ\n"
    ).encode("ascii")


def carrier_to_escpos(label: CarrierLabel, profile: EscPosProfile, media: Media) -> bytes:
    """ESC/POS raster for a PDF/PNG carrier label, as wide as the printer's paper."""
    if label.format is CarrierFormat.ZPL:
        raise LabelTooLarge(
            "A ZPL carrier label cannot print on an ESC/POS printer: ask "
            "the carrier for PDF or PNG labels for this station"
        )
    height_mm = media.height_mm * (profile.width_px / profile.dpi * MM_PER_INCH) / media.width_mm
    fitted = Media("receipt", profile.width_px / profile.dpi * MM_PER_INCH, height_mm)
    from app.printing.escpos_render import raster_escpos  # python-escpos is slow to import

    return raster_escpos(rasterise(label, fitted, profile.dpi, shrink=True), profile)
