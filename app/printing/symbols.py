"""Barcode symbols as module matrices, so the PDF and PNG renderers draw identical bars.

ZPL and ESC/POS use the printers' own barcode commands instead; these matrices are the
reference drawing for previews and documents.
"""

from __future__ import annotations

import re
from functools import lru_cache

import qrcode
from barcode.codex import Code128
from reportlab.graphics.barcode.ecc200datamatrix import ECC200DataMatrix

from app.printing.errors import LabelError
from app.printing.model import Symbology

Matrix = tuple[tuple[bool, ...], ...]

FNC1 = "\xf1"  # python-barcode's code for the Code 128 FNC1 character
# GS1 application identifiers with a fixed data length (prefix -> length); all others are
# variable and need an FNC1 separator when another AI follows.
_FIXED_AI = {
    "00": 18,
    "01": 14,
    "02": 14,
    "03": 14,
    "04": 16,
    "11": 6,
    "12": 6,
    "13": 6,
    "15": 6,
    "16": 6,
    "17": 6,
    "20": 2,
    "31": 6,
    "32": 6,
    "33": 6,
    "34": 6,
    "35": 6,
    "36": 6,
    "41": 13,
}
_AI_PART = re.compile(r"\((\d{2,4})\)([^()]+)")


def parse_gs1(value: str) -> list[tuple[str, str]]:
    """Split a bracketed GS1 element string such as "(01)0950...(10)LOT" into (AI, data)."""
    parts = _AI_PART.findall(value)
    if not parts or "".join(f"({a}){d}" for a, d in parts) != value:
        raise LabelError(f"GS1-128 value must be written as (AI)data pairs, got {value!r}")
    for ai, data in parts:
        fixed = _FIXED_AI.get(ai[:2])
        if fixed is not None and len(data) != fixed:
            raise LabelError(f"GS1 AI ({ai}) needs {fixed} characters, got {data!r}")
    return parts


def gs1_to_fnc1(value: str) -> str:
    """Bracketed GS1 string -> raw data with FNC1 separators after variable-length fields."""
    parts = parse_gs1(value)
    out = []
    for index, (ai, data) in enumerate(parts):
        out.append(ai + data)
        if ai[:2] not in _FIXED_AI and index < len(parts) - 1:
            out.append(FNC1)
    return "".join(out)


def human_text(symbology: Symbology, value: str) -> str:
    """The caption printed under a 1D barcode."""
    return value


@lru_cache(maxsize=512)
def modules_for(symbology: Symbology, value: str) -> Matrix:
    """Module matrix, top row first; a 1D code is a single row of bars."""
    if not value:
        raise LabelError("A barcode needs a value")
    if symbology is Symbology.CODE128:
        return (_code128(value),)
    if symbology is Symbology.GS1_128:
        return (_code128(FNC1 + gs1_to_fnc1(value)),)
    if symbology is Symbology.QR:
        # A fixed mask skips qrcode's penalty search (80% of its time); any of the eight masks
        # gives a valid symbol, and zxing decodes it in every test.
        qr = qrcode.QRCode(
            border=0, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2
        )
        qr.add_data(value)
        qr.make(fit=True)
        return tuple(tuple(bool(c) for c in row) for row in qr.get_matrix())
    return _datamatrix(value)


# Square ECC 200 sizes with a single Reed-Solomon block: (modules, regions per side, data
# codewords, error-correction codewords). reportlab's encoder always makes 44x44; it is
# generic enough to make the smallest size that fits, which is what ZPL ^BX picks too.
_DM_SIZES = (
    (10, 1, 3, 5),
    (12, 1, 5, 7),
    (14, 1, 8, 10),
    (16, 1, 12, 12),
    (18, 1, 18, 14),
    (20, 1, 22, 18),
    (22, 1, 30, 20),
    (24, 1, 36, 24),
    (26, 1, 44, 28),
    (32, 2, 62, 36),
    (36, 2, 86, 42),
    (40, 2, 114, 48),
    (44, 2, 144, 56),
    (48, 2, 174, 68),
)


def _datamatrix(value: str) -> Matrix:
    if any(ord(c) > 127 for c in value):
        raise LabelError(f"DataMatrix values must be ASCII, got {value!r}")
    codewords = _dm_ascii(value)
    fitting = [size for size in _DM_SIZES if len(codewords) <= size[2]]
    if not fitting:
        raise LabelError(f"DataMatrix value too long ({len(value)} characters)")
    modules, regions, data_cw, ecc_cw = fitting[0]
    codewords = _dm_pad(codewords, data_cw)
    dm = ECC200DataMatrix(value)
    dm.row_modules = dm.col_modules = modules
    dm.row_regions = dm.col_regions = regions
    dm.cw_data, dm.cw_ecc = data_cw, ecc_cw
    dm.row_usable_modules = dm.col_usable_modules = modules - regions * 2
    # reportlab's C40 encodation garbles some punctuation, so we encode ASCII ourselves and
    # use only its Reed-Solomon and module placement.
    full = codewords + dm._get_reed_solomon_code(codewords, ecc_cw)
    dm.encoded = dm._merge_data_regions(
        dm._wrap_data_regions_with_finders(dm._create_data_regions(dm._create_matrix(full)))
    )
    dm.encoded.reverse()
    # reportlab numbers rows from the bottom (PDF y axis points up).
    return tuple(tuple(bool(c) for c in row) for row in reversed(dm.encoded))


def _dm_ascii(value: str) -> list[int]:
    """ECC 200 ASCII encodation: one codeword per character, digit pairs packed in one."""
    out: list[int] = []
    index = 0
    while index < len(value):
        pair = value[index : index + 2]
        if len(pair) == 2 and pair.isdigit():
            out.append(130 + int(pair))
            index += 2
        else:
            out.append(ord(value[index]) + 1)
            index += 1
    return out


def _dm_pad(codewords: list[int], capacity: int) -> list[int]:
    """Pad to the symbol's capacity: 129 first, then the 253-state randomised pads."""
    out = list(codewords)
    if len(out) < capacity:
        out.append(129)
    while len(out) < capacity:
        position = len(out) + 1
        pad = 129 + (149 * position) % 253 + 1
        out.append(pad - 254 if pad > 254 else pad)
    return out


@lru_cache(maxsize=512)
def symbol_size(symbology: Symbology, value: str) -> tuple[int, int]:
    """(columns, rows) in modules, without drawing a 2D symbol when only its size is needed."""
    if symbology is Symbology.QR:
        qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
        qr.add_data(value)
        side = 17 + 4 * qr.best_fit()
        return side, side
    matrix = modules_for(symbology, value)
    return len(matrix[0]), len(matrix)


def _code128(data: str) -> tuple[bool, ...]:
    try:
        pattern = Code128(data).build()[0]
    except (ValueError, KeyError) as exc:  # python-barcode rejects characters Code 128 lacks
        raise LabelError(f"Cannot encode {data!r} as Code 128: {exc}") from exc
    return tuple(c == "1" for c in pattern)


def bar_runs(row: tuple[bool, ...]) -> list[tuple[int, int]]:
    """(start, width) of each dark run in a 1D row, for drawing bars as rectangles."""
    runs: list[tuple[int, int]] = []
    start = -1
    for index, dark in enumerate((*row, False)):
        if dark and start < 0:
            start = index
        elif not dark and start >= 0:
            runs.append((start, index - start))
            start = -1
    return runs
