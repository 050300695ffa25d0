"""Shared pytest configuration: offscreen Qt, a throwaway keyring, database URLs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
