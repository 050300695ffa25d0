"""Registers the `packaging` marker (installer builds: minutes of PyInstaller)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the installers with PyInstaller (several minutes)"
    )
