"""Every router of the service API: each module in `service.api` with a `router` is included.

Areas own their own module (operator.py, webhooks.py, sync.py, ...), so adding an area never
means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

import service.api as _pkg

# Matched first: the requests every station and shop sends all day. A request is matched
# against the routes in order, and an included router does not skip on its prefix: before,
# a push tried ~100 routes of 16 other routers first (~0.14-0.3 ms of a worker's CPU per
# push, half a bare request). No route of these overlaps another router's, so the order
# changes no answer (tests/unit/service/test_route_order.py).
HOT = ("sync", "webhooks")


def discover() -> list[APIRouter]:
    """The `router` of every module in service.api: HOT ones first, then by module name."""
    found: list[APIRouter] = []
    names = sorted(pkgutil.iter_modules(_pkg.__path__), key=lambda i: (i.name not in HOT, i.name))
    for info in names:
        module = importlib.import_module(f"{_pkg.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
