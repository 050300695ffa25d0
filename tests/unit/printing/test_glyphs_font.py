"""Which font draws letters outside Latin-1: Condensed where installed, else plain DejaVu Sans
(Debian 12's fonts-dejavu-core ships no Condensed face; the chroot demo test found it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.printing import glyphs
from app.printing.errors import LabelError

SYSTEM = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture
def fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(glyphs, "_FONT_DIRS", (str(tmp_path),))
    glyphs.font_path.cache_clear()
    yield tmp_path
    glyphs.font_path.cache_clear()


def test_plain_dejavu_sans_draws_when_no_condensed_face_is_installed(fonts: Path) -> None:
    shutil.copy(SYSTEM / "DejaVuSans.ttf", fonts / "DejaVuSans.ttf")
    assert glyphs.font_path(False) == str(fonts / "DejaVuSans.ttf")


def test_the_condensed_face_is_preferred(fonts: Path) -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSansCondensed.ttf"):
        shutil.copy(SYSTEM / name, fonts / name)
    assert glyphs.font_path(False) == str(fonts / "DejaVuSansCondensed.ttf")


def test_no_dejavu_at_all_names_the_package(fonts: Path) -> None:
    with pytest.raises(LabelError, match="fonts-dejavu-core"):
        glyphs.font_path(True)
