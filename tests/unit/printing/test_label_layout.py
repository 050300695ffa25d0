"""A site's label layout file: sender block, logo and fields, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from app.printing.errors import LabelError
from app.printing.label_layout import DEFAULT_LAYOUT, FIELDS, load_layout
from app.printing.layouts import shipping_label
from app.printing.model import Barcode, Picture, Symbology, Text
from app.printing.png import render_image
from tests.unit.printing.helpers import decoded
from tests.unit.printing.samples import SHIPPING

EXAMPLE = Path(__file__).parents[3] / "resources" / "labels" / "label_layout.toml"


def test_the_shipped_example_file_is_the_default_layout() -> None:
    layout = load_layout(EXAMPLE)
    assert layout == DEFAULT_LAYOUT and layout.fields == frozenset(FIELDS)


def test_no_file_means_the_default_layout(tmp_path: Path) -> None:
    assert load_layout(tmp_path / "label_layout.toml") == DEFAULT_LAYOUT


def test_site_layout_sets_sender_logo_and_fields(tmp_path: Path) -> None:
    logo = Image.new("L", (300, 100), 255)
    ImageDraw.Draw(logo).rectangle((10, 10, 290, 90), fill=0)
    logo.save(tmp_path / "logo.png")
    (tmp_path / "label_layout.toml").write_text(
        'version = 1\n[sender]\nlines = ["Bistro Ștefan SRL", "Str. Mare 1", "Cluj", "RO"]\n'
        '[logo]\npath = "logo.png"\n[fields]\nqr = false\nsscc = false\ndate = false\n',
        encoding="utf-8",
    )
    layout = load_layout(tmp_path / "label_layout.toml")
    assert layout.sender[0] == "Bistro Ștefan SRL" and layout.logo is not None
    label = shipping_label(SHIPPING, layout=layout)
    kinds = {e.symbology for e in label.elements if isinstance(e, Barcode)}
    assert kinds == {Symbology.CODE128}
    assert any(isinstance(e, Picture) for e in label.elements)
    texts = [e.text for e in label.elements if isinstance(e, Text)]
    assert "SSCC" not in texts and "2024-05-06" not in texts and "ParcelGo" not in texts
    assert decoded(render_image(label, 203)) == {SHIPPING.tracking_number}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("version = 2\n", "version must be 1"),
        ("version = 1\n[colours]\nink = 1\n", "unknown section"),
        ("version = 1\n[fields]\nbarcode = true\n", "not barcode"),
        ("version = 1\n[fields]\nqr = 'yes'\n", "not qr"),
        ("version = 1\n[sender]\nlines = []\n", "1 to 6 non-empty"),
        ('version = 1\n[logo]\npath = "missing.png"\n', "cannot be read"),
        ("version = 1\n[sender\n", "cannot be read"),
    ],
)
def test_a_bad_layout_file_is_refused_with_its_path_and_reason(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "label_layout.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelError, match=reason) as caught:
        load_layout(path)
    assert str(path) in caught.value.message
