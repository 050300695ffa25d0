"""Version and build information for `--version` and the About box."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

from app import __version__

_REPO = Path(__file__).resolve().parent.parent


def build_id() -> str:
    """The git commit the station was built from (baked in by packaging; git in a checkout)."""
    baked = Path(__file__).with_name("_build.txt")
    if baked.exists():
        return baked.read_text(encoding="utf-8").strip()
    try:
        out = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def version_text() -> str:
    """One line: version, build, Python and Qt versions."""
    try:
        from PySide6 import __version__ as qt_version
    except ImportError:
        qt_version = "none"
    return (
        f"packbench {__version__} (build {build_id()}; Python {platform.python_version()}; "
        f"PySide6 {qt_version}; {platform.system()} {platform.machine()})"
    )
