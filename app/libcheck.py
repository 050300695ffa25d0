"""`packbench --check-libraries`: the system libraries the bundled station needs, found or not.

The bundle (the .deb, the tarball) brings Qt and most of what it links to, but not the
libraries every desktop has and that must match its graphics driver (libGL, libEGL, libxcb,
Wayland's) nor fontconfig's configuration. packaging/system_libraries.py lists them at build
time, each with its Debian package, in `system-libraries.txt` inside the bundle. This module
loads each one (no Qt import: it runs where Qt cannot start) and names every missing one with
its package at once, instead of the first dynamic-linker error Qt would die of.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from pathlib import Path

LIST_NAME = "system-libraries.txt"


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str  # a soname (libGL.so.1) or an absolute file path
    package: str  # the Debian package that provides it
    needed_by: str  # a bundled file that needs it

    def present(self) -> bool:
        if self.name.startswith("/"):
            return Path(self.name).exists()
        try:
            ctypes.CDLL(self.name)
        except OSError:
            return False
        return True


def requirements_file() -> Path | None:
    """The list inside a PyInstaller bundle; None when this is not a bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or bundle is None:
        return None
    return Path(bundle) / LIST_NAME


def read_requirements(path: Path) -> list[Requirement]:
    found = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, package, needed_by = [*line.split("\t"), "", ""][:3]
            found.append(Requirement(name, package, needed_by))
    return found


def missing(requirements: list[Requirement]) -> list[Requirement]:
    return [r for r in requirements if not r.present()]


def install_hint(absent: list[Requirement]) -> str:
    packages = " ".join(dict.fromkeys(r.package for r in absent))
    return f"sudo apt install {packages}"


def missing_sentence(absent: list[Requirement]) -> str:
    """One line for stderr: every missing library with its package, and the command."""
    names = ", ".join(f"{r.name} (package {r.package})" for r in absent)
    return (
        f"packbench: this system lacks {names}; install them with: {install_hint(absent)} "
        "(INSTALL.txt lists them), then start packbench again"
    )


def check_libraries(path: Path | None = None) -> int:
    """Print one line per requirement and a summary; 0 when everything is there."""
    path = path or requirements_file()
    if path is None:
        print(
            "packbench: the library check is for the bundled station (the .deb or the "
            "tarball); this is a Python installation, where pip installed Qt's own libraries"
        )
        return 0
    if not path.exists():
        print(f"packbench: {path} is missing: this bundle is damaged; download it again")
        return 1
    requirements = read_requirements(path)
    absent = missing(requirements)
    for r in requirements:
        state = "missing" if r in absent else "ok"
        print(f"[{state}] {r.name} (package {r.package}; needed by {r.needed_by})")
    if absent:
        print(
            f"{len(absent)} of {len(requirements)} missing; install them with: "
            f"{install_hint(absent)}"
        )
        return 1
    print(f"all {len(requirements)} system libraries and files are there")
    return 0


def missing_in_bundle() -> list[Requirement]:
    """What the running bundle lacks (empty outside a bundle or when its list is missing)."""
    path = requirements_file()
    if path is None or not path.exists():
        return []
    return missing(read_requirements(path))
