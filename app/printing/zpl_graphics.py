"""ZPL `^GF` graphic fields: 1-bit images encoded as compressed ASCII hex or Z64, and back.

ASCII-hex compression (Zebra "ACS"): `G`-`Y` repeat the next hex digit 1-19 times, `g`-`z`
20-400 times; `,` fills the rest of the row with 0, `!` with F; `:` repeats the previous row.
We write every form but `!` (decoded all the same).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from PIL import Image, ImageOps

from app.printing.errors import LabelError

_RUN = re.compile(r"(.)\1{2,}")  # only runs of 3+ are worth a count prefix
_INVERT = bytes(255 - b for b in range(256))


def to_bitmap(image: Image.Image, width: int, height: int, threshold: int = 128) -> Image.Image:
    """Scale `image` to width x height dots and make it 1-bit (PIL mode "1": 0 = black).

    A hard threshold keeps bar edges crisp; dithering would blur barcodes on carrier labels.
    """
    gray = image.convert("L")
    if gray.size != (width, height):
        # Area averaging: each dot is as dark as the part of the image it covers (no ringing
        # that would break thin rules and bars into dashes, as Lanczos does).
        gray = gray.resize((width, height), Image.Resampling.BOX)
    lut = [255 if v >= threshold else 0 for v in range(256)]
    return gray.point(lut).convert("1", dither=Image.Dither.NONE)


def packed_rows(bitmap: Image.Image) -> tuple[bytes, int]:
    """Packed rows with 1 = black dot (ZPL and ESC/POS), and the bytes per row."""
    # PIL packs mode "1" with 1 = white; printers want 1 = black, so flip every byte. The
    # padding bits at a row's end would then print black: clear them.
    per_row = (bitmap.width + 7) // 8
    data = bitmap.convert("1").tobytes().translate(_INVERT)
    spare = per_row * 8 - bitmap.width
    if spare:
        mask = (0xFF << spare) & 0xFF
        rows = bytearray(data)
        rows[per_row - 1 :: per_row] = bytes(b & mask for b in rows[per_row - 1 :: per_row])
        data = bytes(rows)
    return data, per_row


def _repeat_prefix(count: int) -> str:
    prefix = "z" * (count // 400)
    count %= 400
    if count >= 20:
        prefix += chr(ord("g") + count // 20 - 1)
    if count % 20:
        prefix += chr(ord("G") + count % 20 - 1)
    return prefix


def _compress_row(row_hex: str) -> str:
    # "," (rest of row white) is safe everywhere; "!" (rest black) is mis-drawn by some
    # renderers (zebrash draws it dashed), so black tails are written as counted runs.
    stripped = row_hex.rstrip("0")
    tail = "," if len(stripped) < len(row_hex) else ""
    if not stripped:
        return tail
    return _RUN.sub(lambda m: _repeat_prefix(len(m.group(0))) + m.group(1), stripped) + tail


def encode_acs(data: bytes, bytes_per_row: int) -> str:
    """Compress packed rows to Zebra ASCII-hex run-length form."""
    hexed = binascii.hexlify(data).decode("ascii").upper()
    width = bytes_per_row * 2
    out: list[str] = []
    previous = None
    for start in range(0, len(hexed), width):
        row = hexed[start : start + width]
        out.append(":" if row == previous else _compress_row(row))
        previous = row
    return "".join(out)


def decode_acs(text: str, bytes_per_row: int, total: int) -> bytes:
    """Expand ASCII-hex compressed data back to packed rows (for tests and previews)."""
    width = bytes_per_row * 2
    rows: list[str] = []
    row = ""
    count = 0
    for char in text:
        if "G" <= char <= "Y":
            count += ord(char) - ord("G") + 1
            continue
        if "g" <= char <= "z":
            count += (ord(char) - ord("g") + 1) * 20
            continue
        if char == ":":
            rows.append(rows[-1] if rows else "0" * width)
            continue
        if char in ",!":
            row = row.ljust(width, "0" if char == "," else "F")
        elif char in "0123456789ABCDEFabcdef":
            row += char.upper() * (count or 1)
        elif not char.isspace():
            raise LabelError(f"Unexpected {char!r} in ^GF data")
        count = 0
        if len(row) >= width:
            rows.append(row[:width])
            row = ""
    raw = binascii.unhexlify("".join(rows))
    if len(raw) != total:
        raise LabelError(f"^GF data decodes to {len(raw)} bytes, header says {total}")
    return raw


def encode_z64(data: bytes) -> str:
    """Zebra Z64: zlib-deflated, base64 text, CRC-16/XMODEM of the base64 text."""
    b64 = base64.b64encode(zlib.compress(data, 6))
    return f":Z64:{b64.decode('ascii')}:{binascii.crc_hqx(b64, 0):04x}"


def decode_z64(text: str) -> bytes:
    """Inverse of `encode_z64`, checking the CRC."""
    _, kind, b64, crc = text.split(":")
    if kind != "Z64" or f"{binascii.crc_hqx(b64.encode('ascii'), 0):04x}" != crc.lower():
        raise LabelError("Z64 data is damaged (CRC mismatch)")
    return zlib.decompress(base64.b64decode(b64))


def graphic_field(bitmap: Image.Image, z64: bool = False) -> str:
    """`^GFA` command for a 1-bit image (without the `^FO` origin)."""
    data, per_row = packed_rows(bitmap)
    body = encode_z64(data) if z64 else encode_acs(data, per_row)
    return f"^GFA,{len(data)},{len(data)},{per_row},{body}"


_GF = re.compile(r"\^GFA,(\d+),(\d+),(\d+),([^\^~]*)")


def decode_graphic_field(total: int, per_row: int, body: str) -> Image.Image:
    """One `^GFA,total,total,per_row,body` field as a mode "L" image (black on white).

    Raises `LabelError` when the data is damaged (bad characters, wrong length, CRC).
    """
    if per_row <= 0 or total <= 0 or total % per_row:
        raise LabelError(f"^GF header is inconsistent: {total} bytes in rows of {per_row}")
    body = body.strip()
    try:
        raw = decode_z64(body) if body.startswith(":Z64:") else decode_acs(body, per_row, total)
    except (ValueError, zlib.error, binascii.Error) as exc:
        raise LabelError(f"^GF data cannot be read: {exc}") from exc
    if len(raw) != total:
        raise LabelError(f"^GF data decodes to {len(raw)} bytes, header says {total}")
    image = Image.frombytes("1", (per_row * 8, total // per_row), raw)
    return ImageOps.invert(image.convert("L"))


def decode_graphic_fields(zpl: str) -> list[Image.Image]:
    """Every `^GFA` image in a ZPL text as a mode "L" image (black on white)."""
    return [
        decode_graphic_field(int(match.group(1)), int(match.group(3)), match.group(4))
        for match in _GF.finditer(zpl)
    ]
