"""The hot routers are matched first (service.api.routers.HOT); that must change no answer.

A request goes to the first route that matches its method and path, so moving routers
ahead could hand another router's request to a hot route, or the reverse. It cannot if no
hot route matches any other router's paths and no other route matches a hot one's: checked
here on every path and method of every router, each path's parameters filled in.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.routing import Match

from service.api import routers


def _sample(path: str) -> str:
    """A concrete path for a template: each {param} (or {param:int}) filled with a 7."""
    return re.sub(r"\{[^}]+\}", "7", path)


def test_the_hot_routers_come_first_and_share_no_path_with_any_other_route() -> None:
    found = routers.discover()
    hot_count = len(routers.HOT)
    hot_modules = {f"service.api.{name}" for name in routers.HOT}
    routes = [
        (i < hot_count, route)
        for i, router in enumerate(found)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    assert {route.endpoint.__module__ for hot, route in routes if hot} == hot_modules
    assert not any(route.endpoint.__module__ in hot_modules for hot, route in routes if not hot)
    assert sum(hot for hot, _ in routes) >= 8, "push, pull, claims, webhooks..."
    assert sum(not hot for hot, _ in routes) >= 50
    overlaps = []
    for hot, route in routes:
        for method in route.methods:
            scope = {"type": "http", "path": _sample(route.path), "method": method}
            assert route.matches(scope)[0] == Match.FULL, route.path  # reaches its own
            for other_hot, other in routes:
                if other_hot != hot and other.matches(scope)[0] == Match.FULL:
                    overlaps.append((method, route.path, other.path))
    assert overlaps == []
