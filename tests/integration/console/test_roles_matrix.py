"""Every console route against every kind of caller: no session, viewer, operator, admin.

A route without an entry in TABLE fails the test, so no page or action ships without
deciding who may use it. Pages without a session redirect to the sign-in page; actions
without a session, with too low a role, or (tested elsewhere) without the CSRF token get 403.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.app import create_app
from service.web import console_routes
from tests.integration.console.conftest import ROLES, Floor, post_sign_in, sign_in

# who may use each route: public | viewer | operator | admin
TABLE: dict[tuple[str, str], str] = {
    ("GET", "/console"): "public",  # a redirect to /console/
    ("GET", "/console/static/{name}"): "public",
    ("GET", "/console/sign-in"): "public",
    ("POST", "/console/sign-in"): "public",
    ("GET", "/console/"): "viewer",
    ("GET", "/console/orders"): "viewer",
    ("GET", "/console/orders/{order_id}"): "viewer",
    ("GET", "/console/labels/{label_id}"): "viewer",
    ("GET", "/console/exceptions"): "viewer",
    ("GET", "/console/batches"): "viewer",
    ("GET", "/console/stations"): "viewer",
    ("GET", "/console/catalogue"): "viewer",
    ("GET", "/console/channels"): "viewer",
    ("GET", "/console/jobs"): "viewer",
    ("GET", "/console/catalogue/import"): "viewer",
    ("GET", "/console/products/{product_id}"): "viewer",
    ("POST", "/console/language"): "viewer",
    ("POST", "/console/sign-out"): "viewer",
    ("POST", "/console/orders/{order_id}/hold"): "operator",
    ("POST", "/console/orders/{order_id}/release"): "operator",
    ("POST", "/console/orders/{order_id}/cancel"): "operator",
    ("POST", "/console/orders/{order_id}/address"): "operator",
    ("POST", "/console/orders/{order_id}/batch"): "operator",
    ("POST", "/console/exceptions/{exception_id}/resolve"): "operator",
    ("POST", "/console/batches"): "operator",
    ("POST", "/console/batches/{batch_id}/assign"): "operator",
    ("POST", "/console/orders/{order_id}/labels/{label_id}/relabel"): "operator",
    ("POST", "/console/jobs/{job_id}/retry"): "operator",
    ("POST", "/console/jobs/retry"): "operator",
    ("POST", "/console/jobs/{job_id}/discard"): "operator",
    ("POST", "/console/products/{product_id}"): "operator",
    ("POST", "/console/channels/{name}/inbox/retry"): "operator",
    ("GET", "/console/dispatch"): "admin",
    ("GET", "/console/audit"): "admin",
    ("GET", "/console/manifests/{manifest_id}.csv"): "admin",
    ("POST", "/console/dispatch/{carrier}/close"): "admin",
    ("POST", "/console/channels/{name}/shipping"): "admin",
    ("POST", "/console/catalogue/import"): "admin",
    ("POST", "/console/catalogue/apply"): "admin",
    ("GET", "/console/users"): "admin",
    ("POST", "/console/users"): "admin",
    ("POST", "/console/users/{user_id}"): "admin",
    ("POST", "/console/users/{user_id}/active"): "admin",
    ("POST", "/console/users/{user_id}/pin"): "admin",
}
RANK = {"public": -1, "none": -1, "viewer": 0, "operator": 1, "admin": 2}
FORMS: dict[str, dict[str, str]] = {
    "hold": {"reason": "checked", "version": "999", "seen_event": "0"},
    "release": {"reason": "checked", "version": "999", "seen_event": "0"},
    "cancel": {"reason": "checked", "version": "999", "seen_event": "0"},
    "address": {"reason": "checked", "version": "999", "seen_event": "0"},
    "batch": {"reason": "checked", "version": "999", "seen_event": "0", "batch": "B-none"},
    "resolve": {"reason": "checked"},
    "assign": {"station": "no-such-bench"},
    "close": {"reason": ""},
    "shipping": {"method": "Express", "carrier": "no-such-carrier"},
    "batches": {"max_orders": "1"},
    "relabel": {"reason": "checked", "version": "999", "seen_event": "0"},
    "retry": {"job": "999999"},
    "discard": {"reason": "checked"},
    "apply": {"carried": "eJwDAAAAAAE=", "digest": "0" * 64},
    "{product_id}": {"seen": "{}", "name": "x"},
    "users": {"name": "", "role": "packer", "badge": "B1"},
    "{user_id}": {"role": "packer"},
    "active": {"active": "true"},
    "pin": {"pin": "123456"},
    "language": {"language": "de", "next": "/console/"},
}


def test_every_console_route_has_an_entry_and_none_is_in_the_api_document() -> None:
    routes = console_routes()
    missing = [r for r in routes if r not in TABLE]
    assert not missing, f"decide who may use these, then add them to TABLE: {missing}"
    gone = [r for r in TABLE if r not in routes]
    assert not gone, f"TABLE names routes that no longer exist: {gone}"
    spec = create_app("sqlite://").openapi()
    assert not [p for p in spec["paths"] if p.startswith("/console")]


@pytest.fixture
def clients(service_engine: Engine, floor: Floor) -> Iterator[dict[str, tuple[TestClient, str]]]:
    """One client per caller kind, each with its own cookie jar and CSRF token."""
    made: dict[str, tuple[TestClient, str]] = {}
    for who in ("none", *ROLES):
        client = TestClient(create_app(service_engine))
        client.__enter__()
        made[who] = (client, sign_in(client, who) if who != "none" else "")
    yield made
    for client, _csrf in made.values():
        client.__exit__(None, None, None)


def _fill(path: str, floor: Floor) -> str:
    return (
        path.replace("{order_id}", str(floor.confirmed_id))
        .replace("{label_id}", "999999")
        .replace("{exception_id}", "999999")
        .replace("{batch_id}", "999999")
        .replace("{job_id}", "999999")
        .replace("{product_id}", "999999")
        .replace("{user_id}", "999999")
        .replace("{manifest_id}", "house-none")
        .replace("{carrier}", "house")
        .replace("{name}", "test-shop" if "channels" in path else "console.css")
    )


def test_each_caller_gets_exactly_what_the_table_allows(
    clients: dict[str, tuple[TestClient, str]], floor: Floor
) -> None:
    wrong: list[str] = []
    routes = sorted(console_routes(), key=lambda r: r == ("POST", "/console/sign-out"))
    for method, path in routes:
        needed = TABLE[(method, path)]
        for who, (client, csrf) in clients.items():
            url = _fill(path, floor)
            if method == "GET":
                r = client.get(url, follow_redirects=False)
            else:
                form = FORMS.get(path.rstrip("/").split("/")[-1], {})
                if path == "/console/sign-in":
                    # Its CSRF token comes with the form (a browser has no session yet).
                    r = post_sign_in(
                        client, {"email": "x@example.com", "password": "x"}, follow_redirects=False
                    )
                else:
                    r = client.post(url, data={**form, "csrf": csrf}, follow_redirects=False)
            assert r.status_code < 500, (method, path, who, r.text[:300])
            allowed = RANK[who] >= RANK[needed]
            if method == "GET" and who == "none" and not allowed:
                refused = r.status_code == 303 and "/console/sign-in" in r.headers["location"]
                if not refused:
                    wrong.append(f"{method} {path} as {who}: {r.status_code}, not to sign-in")
                continue
            refused = r.status_code == 403
            if refused == allowed:
                wrong.append(f"{method} {path} as {who}: {r.status_code} {r.text[:100]}")
    assert not wrong, "\n".join(wrong)


def test_a_refusal_says_why_and_keeps_the_navigation(app_client: TestClient, floor: Floor) -> None:
    sign_in(app_client, "viewer")
    r = app_client.get("/console/dispatch")
    assert r.status_code == 403
    assert "This page needs the admin role; you are viewer." in r.text
    assert "Sign out" in r.text and 'href="/console/orders"' in r.text
