"""The returns bench's labels on every label medium: they fit, nothing overlaps, every barcode
reads back from the PNG the preview printer keeps, and ESC/POS printers can draw them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.printing.documents import BGradeLabel, BinLabel, ReturnSlip
from app.printing.escpos_render import escpos_profile, render_escpos
from app.printing.layouts import bgrade_label, bin_label, return_slip_label
from app.printing.model import MEDIA_4X3, MEDIA_4X6, MEDIA_100X150, MEDIA_A6, Label, Media
from app.printing.png import render_png
from tests.unit.printing.helpers import decoded, png_image

AT = datetime(2026, 12, 4, 23, 40, tzinfo=UTC)
LONG = "Blue mug 350 ml, hand-glazed stoneware, dishwasher safe, set of one " * 2


def labels(media: Media) -> dict[str, tuple[Label, set[str]]]:
    units = tuple(f"MUG-BLU-350  B-grade (damaged) {n}" for n in range(30))
    return {
        "bin": (
            bin_label(BinLabel("MAIN", "PB:LOC:MAIN", "MUG-BLU-350", LONG, "ORD-1", AT), media),
            {"PB:LOC:MAIN", "MUG-BLU-350"},
        ),
        "bgrade": (
            bgrade_label(
                BGradeLabel(
                    "BG-ORD-100077-5-12", "MUG-BLU-350", LONG, "damaged", "ORD-100077", "RMA-3", AT
                ),
                media,
            ),
            {"BG-ORD-100077-5-12"},
        ),
        "slip": (
            return_slip_label(
                ReturnSlip("", "ORD-100077", units, "30 B-grade", "bench-7", AT), media
            ),
            {"ORD-100077"},  # not announced: the order number is the code
        ),
    }


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("media", [MEDIA_4X6, MEDIA_4X3, MEDIA_100X150, MEDIA_A6], ids=str)
def test_every_return_label_fits_and_reads_back(media: Media, dpi: int) -> None:
    for name, (label, codes) in labels(media).items():
        label.check_fits()
        assert decoded(png_image(render_png(label, dpi))) == codes, name


def test_the_slip_says_how_many_units_did_not_fit() -> None:
    label, _codes = labels(MEDIA_4X3)["slip"]
    texts = [getattr(e, "text", "") for e in label.elements]
    assert any(re.fullmatch(r"\+ \d+ more units?", t) for t in texts)


def test_esc_pos_printers_draw_them() -> None:
    profile = escpos_profile()
    for name, (label, _codes) in labels(MEDIA_4X6).items():
        assert render_escpos(label, profile), name
