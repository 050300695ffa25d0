"""ZPL II renderer for Zebra-compatible printers, and light validation of pass-through ZPL."""

from __future__ import annotations

import logging
import re

from app.printing.errors import InvalidZpl
from app.printing.glyphs import needs_graphic, text_bitmap
from app.printing.model import (
    CAPTION_SIZE_MM,
    Barcode,
    Box,
    Label,
    Line,
    Picture,
    Symbology,
    Text,
    mm_to_dots,
)
from app.printing.zpl_graphics import graphic_field, to_bitmap

log = logging.getLogger(__name__)

# Characters that would end or alter a field: hex-escape them with ^FH.
_NEEDS_HEX = re.compile(r"[\^~_\\\x00-\x1f\x7f-\U0010ffff]")


def field_data(text: str) -> str:
    """`^FD...^FS` for `text`, hex-escaping ZPL control and non-ASCII characters (UTF-8)."""
    if not _NEEDS_HEX.search(text):
        return f"^FD{text}^FS"
    escaped = _NEEDS_HEX.sub(
        lambda m: "".join(f"_{b:02X}" for b in m.group(0).encode("utf-8")), text
    )
    return f"^FH_^FD{escaped}^FS"


def render_zpl(label: Label, dpi: int = 203, z64: bool = False) -> bytes:
    """Render a label model to one ZPL format (`^XA`...`^XZ`) sized from its media."""
    if dpi not in (203, 300, 600):
        raise InvalidZpl(f"ZPL printers print at 203, 300 or 600 dpi, not {dpi}")
    label.check_fits()
    width, height = label.media.dots(dpi)
    out = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}", "^LH0,0"]
    for element in label.elements:
        out.extend(_element(element, dpi, z64))
    out.append("^PQ1")
    out.append("^XZ")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_zpl_pages(pages: list[Label], dpi: int = 203) -> bytes:
    """Several labels as consecutive formats in one job."""
    return b"".join(render_zpl(page, dpi) for page in pages)


def _dots(mm: float, dpi: int) -> int:
    return mm_to_dots(mm, dpi)


def _element(element: object, dpi: int, z64: bool) -> list[str]:
    if isinstance(element, Text):
        h = max(10, _dots(element.size_mm, dpi))
        x, y = _dots(element.x_mm, dpi), _dots(element.y_mm, dpi)
        if needs_graphic(element.text):
            # Font 0 is not sure to have the letter on every printer: send the line as a
            # bitmap drawn here (see app/printing/glyphs.py for the choice).
            width = max(1, _dots(element.width_mm(), dpi))
            # Always the bold face: font 0 (CG Triumvirate Bold Condensed) is bold too.
            bitmap = text_bitmap(element.text, h, True, width)
            return [f"^FO{x},{y}{graphic_field(bitmap, z64)}^FS"]
        return [f"^FO{x},{y}^A0N,{h},{h}{field_data(element.text)}"]
    if isinstance(element, Barcode):
        return _barcode(element, dpi)
    if isinstance(element, Line):
        t = max(1, _dots(element.thickness_mm, dpi))
        x, y = (
            _dots(min(element.x1_mm, element.x2_mm), dpi),
            _dots(min(element.y1_mm, element.y2_mm), dpi),
        )
        if element.y1_mm == element.y2_mm:
            length = max(t, _dots(abs(element.x2_mm - element.x1_mm), dpi))
            return [f"^FO{x},{y}^GB{length},{t},{t}^FS"]
        x -= t // 2
        length = max(t, _dots(abs(element.y2_mm - element.y1_mm), dpi))
        return [f"^FO{x},{y}^GB{t},{length},{t}^FS"]
    if isinstance(element, Box):
        w, h = _dots(element.width_mm, dpi), _dots(element.height_mm, dpi)
        t = min(w, h) if element.filled else max(1, _dots(element.thickness_mm, dpi))
        return [f"^FO{_dots(element.x_mm, dpi)},{_dots(element.y_mm, dpi)}^GB{w},{h},{t}^FS"]
    assert isinstance(element, Picture)
    bitmap = to_bitmap(element.image, _dots(element.width_mm, dpi), _dots(element.height_mm, dpi))
    return [
        f"^FO{_dots(element.x_mm, dpi)},{_dots(element.y_mm, dpi)}{graphic_field(bitmap, z64)}^FS"
    ]


def module_dots(module_mm: float, dpi: int) -> int:
    """Narrow bar / cell size in whole dots (barcodes must not be scaled by fractions)."""
    return max(1, round(module_mm * dpi / 25.4))


def _barcode(code: Barcode, dpi: int) -> list[str]:
    x, y = _dots(code.x_mm, dpi), _dots(code.y_mm, dpi)
    m = module_dots(code.module_mm, dpi)
    if code.symbology is Symbology.QR:
        # ^BQ draws a few dots below ^FO; the quiet zone in the model absorbs it.
        return [f"^FO{x},{y}^BQN,2,{min(m, 10)}{field_data('MA,' + code.value)}"]
    if code.symbology is Symbology.DATAMATRIX:
        return [f"^FO{x},{y}^BXN,{m},200{field_data(code.value)}"]
    h = _dots(code.height_mm, dpi)
    # reportlab's barcode encoders load on the first label, not at station start.
    from app.printing.symbols import gs1_to_fnc1, modules_for

    if code.symbology is Symbology.GS1_128:
        gs1_to_fnc1(code.value)  # validates the AI structure before it reaches the printer
        # Mode D (UCC/EAN): the printer strips the brackets and inserts FNC1 itself.
        out = [f"^FO{x},{y}^BY{m}^BCN,{h},N,N,N,D{field_data(code.value)}"]
    else:
        out = [f"^FO{x},{y}^BY{m}^BCN,{h},N,N,N,A{field_data(code.value)}"]
    if code.show_text:
        # Our own caption, centred under the bars, so every renderer shows the same text.
        width = len(modules_for(code.symbology, code.value)[0]) * m
        ch = _dots(CAPTION_SIZE_MM, dpi)
        out.append(
            f"^FO{x},{y + h + _dots(0.8, dpi)}^A0N,{ch},{ch}^FB{width},1,0,C"
            f"{field_data(code.value)}"
        )
    return out


# ZPL II command names (Zebra programming guide); anything else draws a warning.
_KNOWN = """^A ^A@ ^B0 ^B1 ^B2 ^B3 ^B4 ^B5 ^B7 ^B8 ^B9 ^BA ^BB ^BC ^BD ^BE ^BF ^BI ^BJ ^BK ^BL
    ^BM ^BO ^BP ^BQ ^BR ^BS ^BT ^BU ^BX ^BY ^BZ ^CC ~CC ^CD ~CD ^CF ^CI ^CM ^CN ^CO ^CP ^CT
    ~CT ^CV ^CW ~DB ~DE ^DF ~DG ~DN ~DS ~DT ~DU ~DY ~EG ^FA ^FB ^FC ^FD ^FE ^FH ^FL ^FM ^FN
    ^FO ^FP ^FR ^FS ^FT ^FV ^FW ^FX ^GB ^GC ^GD ^GE ^GF ^GS ~HB ~HD ^HF ^HG ^HH ~HI ~HM ~HQ
    ~HS ^HT ^HV ^HW ^HY ^HZ ^ID ^IL ^IM ^IS ~JA ^JB ~JB ~JC ~JD ~JE ~JF ~JG ^JH ~JI ^JI ^JJ
    ~JL ^JM ~JN ~JO ~JP ~JQ ~JR ^JS ~JS ^JT ^JU ^JW ~JX ^JZ ~KB ^KD ^KL ^KN ^KP ^KV ^LF ^LH
    ^LL ^LR ^LS ^LT ^MA ^MC ^MD ^MF ^MI ^ML ^MM ^MN ^MP ^MT ^MU ^MW ^NC ~NC ^NI ~NR ^NS ~NT
    ^PA ^PF ^PH ~PH ^PL ^PM ^PN ^PO ^PP ~PP ^PQ ^PR ~PR ^PS ~PS ^PW ~RO ^RB ^RF ^RS ^RU ^RW
    ^SC ~SD ^SE ^SF ^SI ^SL ^SN ^SO ^SP ^SQ ^SR ^SS ^ST ^SX ^SZ ~TA ^TB ^TO ~WC ^WD ^WT ^XA
    ^XB ^XF ^XG ^XS ^XZ ^ZZ"""
KNOWN_COMMANDS = frozenset(_KNOWN.split())
_COMMAND = re.compile(r"([\^~])(A@|A|[A-Z0-9@]{2})", re.IGNORECASE)


def validate_zpl(data: bytes) -> list[str]:
    """Lightly check pass-through ZPL and return warnings; the bytes are never changed.

    Raises `InvalidZpl` when the job does not start with ^XA and end with ^XZ, because a
    printer given half a format prints nothing or prints garbage.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    stripped = text.strip()
    if not stripped.upper().startswith("^XA"):
        raise InvalidZpl("The carrier label is not ZPL: it does not start with ^XA")
    if not stripped.upper().endswith("^XZ"):
        raise InvalidZpl("The carrier label is cut short: it does not end with ^XZ")
    warnings = []
    # Field data cannot hold a bare ^ or ~ (the printer would take it as a command), so every
    # prefix character starts a command.
    for match in _COMMAND.finditer(text):
        name = match.group(1) + match.group(2).upper()
        if name not in KNOWN_COMMANDS:
            warnings.append(f"Unknown ZPL command {name} at offset {match.start()}")
    for warning in warnings:
        log.warning("pass-through ZPL: %s", warning)
    return warnings
