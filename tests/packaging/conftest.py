"""The `packaging` marker and the one build every packaging test shares (build_cache.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.packaging import build_cache


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the installers with PyInstaller (several minutes)"
    )
    # Also without pytest-xdist (-p no:xdist): the packaging modules carry its group marker.
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist's worker group")


@pytest.fixture(scope="session")
def dist() -> Path:
    """Every artefact of `packaging/build` for this checkout: built once, kept by input hash."""
    if os.environ.get("PACKBENCH_TEST_PACKAGING") != "1":
        pytest.skip("set PACKBENCH_TEST_PACKAGING=1 to build and test the installers")
    if shutil.which("dpkg-deb") is None:
        pytest.skip("needs dpkg-deb")
    pytest.importorskip("PyInstaller", reason="pip install pyinstaller to build the bundle")
    return build_cache.built()
