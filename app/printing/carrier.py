"""Carrier labels as carriers send them: ZPL passes through; PDF/PNG are rasterised.

Rasterising happens at the target printer's own dpi (never at 72 dpi and scaled up), with
the page turned to match the media's orientation and scaled to fit it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from app.printing.errors import CarrierLabelError, LabelTooLarge
from app.printing.model import MM_PER_INCH, Media
from app.printing.zpl import validate_zpl
from app.printing.zpl_graphics import graphic_field, to_bitmap

if TYPE_CHECKING:  # python-escpos takes a second to import; only ESC/POS printers pay
    from app.printing.escpos_render import EscPosProfile

log = logging.getLogger(__name__)


class CarrierFormat(StrEnum):
    ZPL = "zpl"
    PDF = "pdf"
    PNG = "png"


@dataclass(frozen=True, slots=True)
class CarrierLabel:
    """A label file from a carrier, as bytes, with its format."""

    format: CarrierFormat
    data: bytes


def rasterise(label: CarrierLabel, media: Media, dpi: int) -> Image.Image:
    """The first page of a PDF/PNG carrier label as a 1-bit image filling `media` at `dpi`."""
    target = (round(media.width_mm / MM_PER_INCH * dpi), round(media.height_mm / MM_PER_INCH * dpi))
    if label.format is CarrierFormat.PDF:
        image = _render_pdf(label.data, target, dpi)
    elif label.format is CarrierFormat.PNG:
        try:
            image = Image.open(io.BytesIO(label.data))
            image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise CarrierLabelError(
                "The carrier label image is damaged: fetch the label again", detail=str(exc)
            ) from exc
        image = _flatten(image)
        if (image.width > image.height) != (target[0] > target[1]):
            image = image.rotate(90, expand=True)
    else:
        raise CarrierLabelError(f"Cannot rasterise a {label.format} carrier label")
    return to_bitmap(_fit(image, target), *target)


def _flatten(image: Image.Image) -> Image.Image:
    # Transparent PNGs would turn black where the alpha channel hides colour.
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")


def _render_pdf(data: bytes, target: tuple[int, int], dpi: int) -> Image.Image:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CarrierLabelError(
            "The carrier label PDF is damaged: fetch the label again", detail=str(exc)
        ) from exc
    try:
        if len(document) < 1:
            raise CarrierLabelError("The carrier label PDF has no pages")
        page = document[0]
        width_pt, height_pt = page.get_size()
        rotation = 90 if (width_pt > height_pt) != (target[0] > target[1]) else 0
        if rotation:
            width_pt, height_pt = height_pt, width_pt
        # Render straight at the size the printer needs, so nothing is scaled up later.
        scale = min(target[0] / width_pt, target[1] / height_pt)
        if scale * 72 > dpi * 1.05:
            log.info("carrier page smaller than media; enlarging to fit (%.0f dpi)", scale * 72)
        bitmap = page.render(
            scale=scale, rotation=rotation, grayscale=True, fill_color=(255, 255, 255, 255)
        )
        image: Image.Image = bitmap.to_pil().convert("L")
        return image
    except pdfium.PdfiumError as exc:
        raise CarrierLabelError(
            "The carrier label PDF cannot be drawn: fetch it again", detail=str(exc)
        ) from exc
    finally:
        document.close()


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

    return raster_escpos(rasterise(label, fitted, profile.dpi), profile)
