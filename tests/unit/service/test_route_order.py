"""The hot routers are matched first (service.api.routers.HOT); that must change no answer.

A request goes to the first route that matches its method and path, so moving routers
ahead could hand another router's request to a hot route, or the reverse. It cannot if no
hot route matches any other router's paths and no other route matches a hot one's: checked
here on every path and method of the published API, each path's parameters filled in.
"""

from __future__ import annotations

import re

from starlette.routing import Match, Route

from service.api import routers
from service.api.app import create_app

HOT_TAGS = ("sync", "webhooks")  # the tags of the HOT modules' routers


def _sample(path: str) -> str:
    """A concrete path for a template: each {param} (or {param:int}) filled with a 7."""
    return re.sub(r"\{[^}]+\}", "7", path)


def _endpoint() -> None:  # never called: the routes below are only matched
    return None


def test_the_hot_routers_share_no_path_with_any_other_route() -> None:
    paths = create_app("sqlite://").openapi()["paths"]
    routes: list[tuple[bool, str, str, Route]] = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            hot = bool(set(HOT_TAGS) & set(operation.get("tags", [])))
            route = Route(path, _endpoint, methods=[method.upper()])
            routes.append((hot, method.upper(), path, route))
    assert sum(hot for hot, *_ in routes) >= 8, "push, pull, claims, webhooks..."
    assert sum(not hot for hot, *_ in routes) >= 50
    overlaps = []
    for hot, method, path, route in routes:
        scope = {"type": "http", "path": _sample(path), "method": method, "root_path": ""}
        assert route.matches(scope)[0] == Match.FULL, path  # the sample reaches its own
        for other_hot, _method, other_path, other in routes:
            if other_hot != hot and other.matches(scope)[0] == Match.FULL:
                overlaps.append((method, path, other_path))
    assert overlaps == []


def test_the_hot_routers_come_first_in_the_app() -> None:
    found = routers.discover()
    hot = [r for r in found if set(HOT_TAGS) & set(r.tags)]
    assert found[: len(hot)] == hot
    assert len(hot) == len(routers.HOT)
