"""A site's shipping-label layout as data: sender block, logo, which fields print.

The format is documented in resources/labels/label_layout.toml (the defaults, as a file to
copy). A file that cannot be used raises `LabelError` with the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from app.printing.errors import LabelError

FIELDS = ("qr", "weight", "order", "date", "tracking_barcode", "sscc")
DEFAULT_SENDER = ("Packbench Fulfilment", "Lagerstrasse 1", "12345 Musterstadt", "DE")
_SECTIONS = {"version", "sender", "logo", "fields"}


@dataclass(frozen=True, slots=True)
class ShippingLayout:
    """What a site's own shipping labels show."""

    sender: tuple[str, ...] = DEFAULT_SENDER
    logo: Image.Image | None = field(default=None, compare=False, repr=False)
    fields: frozenset[str] = frozenset(FIELDS)

    def shows(self, name: str) -> bool:
        """True when the label prints the field `name` (one of `FIELDS`)."""
        return name in self.fields


DEFAULT_LAYOUT = ShippingLayout()


def load_layout(path: Path) -> ShippingLayout:
    """The layout in `path`, or the defaults when there is no such file."""
    if not path.exists():
        return DEFAULT_LAYOUT
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _bad(path, f"it cannot be read ({exc})") from exc
    unknown = set(data) - _SECTIONS
    if unknown:
        raise _bad(path, f"unknown section(s) {', '.join(sorted(unknown))}")
    if data.get("version") != 1:
        raise _bad(path, f"version must be 1, not {data.get('version')!r}")
    sender = data.get("sender", {}).get("lines", list(DEFAULT_SENDER))
    if (
        not isinstance(sender, list)
        or not 1 <= len(sender) <= 6
        or not all(isinstance(line, str) and line.strip() for line in sender)
    ):
        raise _bad(path, "[sender] lines must be 1 to 6 non-empty strings")
    fields = data.get("fields", {})
    wrong = [k for k, v in fields.items() if k not in FIELDS or not isinstance(v, bool)]
    if wrong:
        raise _bad(path, f"[fields] takes true/false for {', '.join(FIELDS)}; not {wrong[0]}")
    shown = frozenset(name for name in FIELDS if fields.get(name, True))
    return ShippingLayout(tuple(sender), _logo(path, data.get("logo", {}).get("path", "")), shown)


def _logo(layout_path: Path, value: object) -> Image.Image | None:
    if not value:
        return None
    if not isinstance(value, str):
        raise _bad(layout_path, "[logo] path must be a string")
    file = (layout_path.parent / value).resolve()
    try:
        with Image.open(file) as image:
            return image.convert("L")
    except (OSError, UnidentifiedImageError) as exc:
        raise _bad(layout_path, f"the logo {file} cannot be read ({exc})") from exc


def _bad(path: Path, why: str) -> LabelError:
    return LabelError(f"The label layout file {path} cannot be used: {why}. Fix it and print again")
