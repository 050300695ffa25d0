"""The bundled station's library check (app/libcheck.py) on lists with libraries present and not.

The bundle itself is checked in tests/packaging (a bare Debian chroot); here the same code on
a list written by the test: one library every Linux has, two that no system has, a file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.libcheck import check_libraries, missing, missing_sentence, read_requirements

LIST = (
    "# soname or file, Debian package, a bundled file that needs it\n"
    "libc.so.6\tlibc6\tpackbench\n"
    "libpackbench-absent.so.1\tlibpackbench-absent1\tPySide6/QtGui.abi3.so\n"
    "libpackbench-gone.so.2\tlibpackbench-absent1\tPySide6/Qt/lib/libQt6Gui.so.6\n"
    "/nonexistent/packbench/fonts.conf\tfontconfig-config\tfontconfig (bundled)\n"
)


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    path = tmp_path / "system-libraries.txt"
    path.write_text(LIST)
    return path


def test_every_missing_one_is_named_with_its_package(
    listing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_libraries(listing) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[ok] libc.so.6 (package libc6; needed by packbench)",
        "[missing] libpackbench-absent.so.1 (package libpackbench-absent1; "
        "needed by PySide6/QtGui.abi3.so)",
        "[missing] libpackbench-gone.so.2 (package libpackbench-absent1; "
        "needed by PySide6/Qt/lib/libQt6Gui.so.6)",
        "[missing] /nonexistent/packbench/fonts.conf (package fontconfig-config; "
        "needed by fontconfig (bundled))",
        "3 of 4 missing; install them with: "
        "sudo apt install libpackbench-absent1 fontconfig-config",
    ]
    sentence = missing_sentence(missing(read_requirements(listing)))
    assert sentence.startswith(
        "packbench: this system lacks libpackbench-absent.so.1 (package libpackbench-absent1), "
        "libpackbench-gone.so.2 (package libpackbench-absent1), "
        "/nonexistent/packbench/fonts.conf (package fontconfig-config); install them with: "
        "sudo apt install libpackbench-absent1 fontconfig-config"
    )
    assert "\n" not in sentence


def test_all_present_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "system-libraries.txt"
    path.write_text("libc.so.6\tlibc6\tpackbench\n/\tbase-files\tpackbench\n")
    assert check_libraries(path) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "all 2 system libraries and files are there"
    )


def test_a_bundle_without_its_list_is_called_damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_libraries(tmp_path / "system-libraries.txt") == 1
    assert "this bundle is damaged; download it again" in capsys.readouterr().out


def test_installed_command_outside_a_bundle_says_what_it_checks() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("packbench")), "--check-libraries"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "the library check is for the bundled station" in done.stdout
