"""Golden ZPL and ESC/POS bytes for each document: a change in output must be deliberate.

A missing golden file fails the test. Regenerate with PACKBENCH_UPDATE_GOLDEN=1 after
checking the new output by eye, e.g.
PACKBENCH_UPDATE_GOLDEN=1 python -m pytest tests/unit/printing/test_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.printing import pages
from app.printing.escpos_render import escpos_profile, render_escpos
from app.printing.layouts import box_content_label, packing_slip_pages, shipping_label
from app.printing.model import MEDIA_4X6, Label
from app.printing.zpl import render_zpl
from tests.unit.printing.helpers import REGEN_FLAG, check_golden
from tests.unit.printing.samples import BOX, PRINTED_AT, SHIPPING, SLIP

GOLDEN = Path(__file__).parent / "golden"

DOCUMENTS: dict[str, Label] = {
    "shipping_label": shipping_label(SHIPPING),
    "packing_slip_4x6": packing_slip_pages(SLIP, MEDIA_4X6)[0],
    "box_content_label": box_content_label(BOX),
    "test_page": pages.test_page("zpl+tcp://10.0.0.5:9100", MEDIA_4X6, 203, PRINTED_AT),
    "calibration_page": pages.calibration_page(MEDIA_4X6),
}


def _check(name: str, data: bytes) -> None:
    check_golden(GOLDEN / name, data)


def test_a_missing_golden_file_fails_and_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REGEN_FLAG, raising=False)
    missing = tmp_path / "new_label.203.zpl"
    with pytest.raises(pytest.fail.Exception, match=r"golden file new_label\.203\.zpl is missing"):
        check_golden(missing, b"^XA^XZ")
    assert not missing.exists()
    monkeypatch.setenv(REGEN_FLAG, "1")  # regenerating is an explicit act
    check_golden(missing, b"^XA^XZ")
    assert missing.read_bytes() == b"^XA^XZ"
    monkeypatch.delenv(REGEN_FLAG)
    with pytest.raises(AssertionError, match="differs from its golden file"):
        check_golden(missing, b"^XA^FDchanged^XZ")


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_zpl_matches_golden(name: str, dpi: int) -> None:
    _check(f"{name}.{dpi}.zpl", render_zpl(DOCUMENTS[name], dpi))


@pytest.mark.parametrize("name", ["shipping_label", "packing_slip_4x6", "box_content_label"])
def test_escpos_matches_golden(name: str) -> None:
    _check(f"{name}.escpos.bin", render_escpos(DOCUMENTS[name], escpos_profile("TM-T88V")))


def test_zpl_sets_print_width_and_length_from_media() -> None:
    zpl = render_zpl(DOCUMENTS["shipping_label"], 300).decode()
    assert "^PW1200" in zpl and "^LL1800" in zpl  # 4x6 in at 300 dpi
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")


def test_zpl_uses_native_barcode_commands() -> None:
    zpl = render_zpl(DOCUMENTS["shipping_label"], 203).decode()
    assert "^BCN" in zpl and "^BQN" in zpl and "^GF" not in zpl
    assert "^FD(00)012345678901234560^FS" in zpl  # GS1-128 in UCC mode D
    assert "^BXN" in render_zpl(DOCUMENTS["box_content_label"], 203).decode()


def test_zpl_escapes_caret_and_tilde_in_text() -> None:
    from app.printing.model import Text

    zpl = render_zpl(Label(MEDIA_4X6, (Text(5, 5, "A^B~C é"),)), 203).decode()
    assert "^FH_^FDA_5EB_7EC _C3_A9^FS" in zpl


def test_escpos_output_uses_native_text_barcode_and_qr() -> None:
    data = render_escpos(DOCUMENTS["shipping_label"], escpos_profile("TM-T88V"))
    assert data.startswith(b"\x1b@")  # initialise
    assert b"\x1dkI" in data  # native CODE128
    assert b"\x1d(k" in data  # native QR
    assert b"BRISTOL BS1 4QA" in data
    assert data.rstrip().endswith(b"\x1dVA\x00") or b"\x1dV" in data[-8:]  # cut
