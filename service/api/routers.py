"""Every router of the service API: each module in `service.api` with a `router` is included.

Areas own their own module (operator.py, webhooks.py, sync.py, ...), so adding an area never
means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

import service.api as _pkg


def discover() -> list[APIRouter]:
    """The `router` of every module in service.api, in module-name order."""
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(_pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{_pkg.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
