"""A small ESC/POS command-stream reader for the tests: commands, text and barcodes.

It knows only the commands Packbench sends; anything else is an error, so a malformed
stream fails the test instead of being skipped over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from escpos.magicencode import Encoder
from escpos.printer import Dummy

_ONE_ARG = {
    b"\x1b!",
    b"\x1bE",
    b"\x1ba",
    b"\x1bt",
    b"\x1b-",
    b"\x1bG",
    b"\x1bM",
    b"\x1bd",
    b"\x1bJ",
    b"\x1d!",
    b"\x1dh",
    b"\x1dw",
    b"\x1df",
    b"\x1dH",
}


@dataclass
class EscPosStream:
    """What a printer would do with the bytes: text lines, barcodes, images, cut."""

    lines: list[str] = field(default_factory=list)
    barcodes: list[tuple[int, bytes, int]] = field(default_factory=list)  # (type, data, module)
    qr_ec: list[int] = field(default_factory=list)
    images: int = 0
    cut: bool = False

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.lines).split())


def read_stream(data: bytes, profile: str = "TM-T88V") -> EscPosStream:
    """Parse `data`; raises AssertionError on a command it does not know or a cut-off one."""
    pages = {
        int(slot): name for name, slot in Dummy(profile=profile).profile.get_code_pages().items()
    }
    out = EscPosStream()
    page = 0
    line = ""
    module = 3
    i = 0
    while i < len(data):
        head = data[i : i + 2]
        if data[i] == 0x0A:
            out.lines.append(line)
            line = ""
            i += 1
        elif head == b"\x1b@":
            i += 2
        elif head in _ONE_ARG:
            assert i + 2 < len(data), f"command {head!r} cut off at {i}"
            if head == b"\x1bt":
                page = data[i + 2]
                assert page in pages, f"code page slot {page} not in the profile"
            if head == b"\x1dw":
                module = data[i + 2]
            i += 3
        elif head == b"\x1dk":
            kind = data[i + 2]
            assert kind >= 65, "function A barcodes are not sent"
            length = data[i + 3]
            out.barcodes.append((kind, data[i + 4 : i + 4 + length], module))
            i += 4 + length
        elif head == b"\x1d(" and data[i + 2 : i + 3] == b"k":
            size = data[i + 3] + data[i + 4] * 256
            body = data[i + 5 : i + 5 + size]
            assert len(body) == size, "QR command cut off"
            if body[:2] == b"1E":
                out.qr_ec.append(body[2])
            i += 5 + size
        elif head == b"\x1dv" and data[i + 2] == 0x30:
            xl, xh, yl, yh = data[i + 4 : i + 8]
            size = (xl + xh * 256) * (yl + yh * 256)
            assert i + 8 + size <= len(data), "raster image cut off"
            out.images += 1
            i += 8 + size
        elif head == b"\x1dV":
            out.cut = True
            i += 4 if data[i + 2] in (65, 66) else 3
        else:
            byte = data[i]
            assert byte >= 0x20, f"unknown control byte {byte:#04x} at {i}"
            line += chr(byte) if byte < 0x80 else _decode(pages[page], byte)
            i += 1
    if line:
        out.lines.append(line)
    return out


_ENCODER = Encoder({})


def _decode(page: str, byte: int) -> str:
    chars = _ENCODER._get_codepage_char_list(page)
    return str(chars[byte - 128])


def code128_modules(data: bytes) -> int:
    """Width in modules of python-escpos CODE128 data ({A/{B/{C sets, {1 = FNC1)."""
    symbols = 0
    mode = ""
    i = 0
    while i < len(data):
        if data[i : i + 1] == b"{" and i + 1 < len(data) and data[i + 1 : i + 2] in b"ABC":
            mode = chr(data[i + 1])
            symbols += 1  # start code or code-set switch
            i += 2
        elif data[i : i + 2] in (b"{1", b"{{"):
            symbols += 1
            i += 2
        else:
            assert mode, "data before a code set"
            symbols += 1
            i += 1
    return (symbols + 1) * 11 + 13  # + check symbol, + stop pattern
