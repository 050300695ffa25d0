"""Every operation of the OpenAPI document against every kind of credential.

The table below says which class each operation is in; a route without an entry fails the
test, so a new endpoint cannot ship without deciding who may call it. "Refused" means 401 or
403 with the uniform error body; "let in" means any other answer (404 or 422 included: the
caller got past authentication to the handler's own checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.sync_server.enrollment import issue_enroll_code
from service.users import add_user, create_token

PIN = "246810"

# class of each operation: public | code | webhook | station | supervisor | operator | admin
# (code and webhook: the body carries the credential; a bearer token changes nothing)
TABLE: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("POST", "/v1/stations/enroll"): "code",  # the one-time code is the credential
    ("POST", "/v1/channels/shopify/{name}/webhooks"): "webhook",
    ("POST", "/v1/channels/woocommerce/{name}/webhooks"): "webhook",
    ("GET", "/v1/stations/me"): "station",
    ("POST", "/v1/stations/heartbeat"): "station",
    ("POST", "/v1/sync/push"): "station",
    ("GET", "/v1/sync/pull"): "station",
    ("GET", "/v1/sync/checksum"): "station",
    ("POST", "/v1/claims"): "station",
    ("DELETE", "/v1/claims/{claim_id}"): "station",
    ("POST", "/v1/supervisor/sessions"): "station",  # the badge + PIN are checked inside
    ("DELETE", "/v1/supervisor/sessions/current"): "station",
    ("GET", "/v1/supervisor/overview"): "supervisor",
    ("POST", "/v1/supervisor/orders/{order_id}/release"): "supervisor",
    ("POST", "/v1/supervisor/orders/{order_id}/cancel"): "supervisor",
    ("POST", "/v1/supervisor/orders/{order_id}/reassign"): "supervisor",
    ("POST", "/v1/supervisor/exceptions/{exception_id}/resolve"): "supervisor",
    ("POST", "/v1/supervisor/rejections/{station_id}/{mutation_id}/resolve"): "supervisor",
    ("GET", "/v1/supervisor/candidates"): "supervisor",
    ("POST", "/v1/supervisor/batches"): "supervisor",
    ("POST", "/v1/supervisor/batches/{batch_id}/assign"): "supervisor",
    ("GET", "/v1/orders"): "operator",
    ("POST", "/v1/orders"): "operator",
    ("GET", "/v1/orders/{order_id}"): "operator",
    ("POST", "/v1/orders/{order_id}/transition"): "operator",
    ("POST", "/v1/orders/{order_id}/hold"): "operator",
    ("POST", "/v1/orders/{order_id}/release"): "operator",
    ("GET", "/v1/exceptions"): "operator",
    ("POST", "/v1/exceptions/{exception_id}/resolve"): "operator",
    ("POST", "/v1/batches"): "operator",
    ("GET", "/v1/batches"): "operator",
    ("POST", "/v1/batches/{batch_id}/assign"): "operator",
    ("POST", "/v1/tracking/import"): "operator",
    ("GET", "/v1/stations"): "operator",
    ("GET", "/v1/channels/{name}/shipping"): "operator",
    ("PUT", "/v1/channels/{name}/shipping"): "admin",
    ("GET", "/v1/channels/{name}/carrier-rules"): "operator",
    ("PUT", "/v1/channels/{name}/carrier-rules"): "admin",
    ("GET", "/v1/channels/{name}/packing-slip"): "operator",
    ("PUT", "/v1/channels/{name}/packing-slip"): "admin",
    ("GET", "/v1/jobs"): "operator",
    ("POST", "/v1/jobs/{job_id}/retry"): "operator",
    ("POST", "/v1/jobs/{job_id}/dismiss"): "operator",
    ("GET", "/v1/products"): "operator",
    ("GET", "/v1/products/{sku}"): "operator",
    ("POST", "/v1/products"): "operator",  # the catalogue is the operations team's work
    ("PUT", "/v1/products"): "operator",
    ("GET", "/v1/stock"): "operator",
    ("GET", "/v1/stock/{sku}"): "operator",
    ("POST", "/v1/stock/adjustments"): "operator",
    ("GET", "/v1/returns/lookup"): "station",
    ("GET", "/v1/supervisor/returns"): "supervisor",
    ("GET", "/v1/returns"): "operator",
    ("POST", "/v1/returns"): "operator",
    ("GET", "/v1/returns/{code}"): "operator",
    ("POST", "/v1/returns/{code}/units"): "operator",
    ("POST", "/v1/returns/{code}/close"): "operator",
    ("POST", "/v1/returns/labels"): "operator",
    ("GET", "/v1/returns/{code}/label"): "operator",
    ("POST", "/v1/dispatch/{carrier}/close"): "admin",
}

CREDENTIALS = (
    "none",
    "wrong",
    "station",
    "other_station",
    "station+supervisor",
    "other_station+supervisor",  # another bench replaying station A's supervisor session
    "operator",
    "admin",
)

LET_IN: dict[str, set[str]] = {
    "public": set(CREDENTIALS),
    "station": {"station", "other_station", "station+supervisor", "other_station+supervisor"},
    "supervisor": {"station+supervisor"},
    "operator": {"operator", "admin"},
    "admin": {"admin"},
}

# A well-formed body per operation, so a let-in caller reaches the handler (never a 422 that
# would hide an authorisation bug); {me} is the calling station's id.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/stations/enroll"): {"code": "AAAA-BBBB-CCCC"},
    ("POST", "/v1/stations/heartbeat"): {},
    ("POST", "/v1/sync/push"): {"station_id": "{me}", "mutations": []},
    ("POST", "/v1/claims"): {"order_id": 999999},
    ("POST", "/v1/supervisor/sessions"): {"badge": "S-SAM", "pin": PIN},
    ("POST", "/v1/supervisor/orders/{order_id}/release"): {"reason": "checked"},
    ("POST", "/v1/supervisor/orders/{order_id}/cancel"): {"reason": "checked"},
    ("POST", "/v1/supervisor/orders/{order_id}/reassign"): {"reason": "checked", "batch_id": 1},
    ("POST", "/v1/supervisor/exceptions/{exception_id}/resolve"): {"reason": "checked"},
    ("POST", "/v1/supervisor/rejections/{station_id}/{mutation_id}/resolve"): {"reason": "ok"},
    ("POST", "/v1/supervisor/batches"): {"max_orders": 1},
    ("POST", "/v1/supervisor/batches/{batch_id}/assign"): {"station_id": 999999},
    ("POST", "/v1/orders"): {},
    ("POST", "/v1/orders/{order_id}/transition"): {"to": "confirmed", "reason": "checked"},
    ("POST", "/v1/orders/{order_id}/hold"): {"reason": "checked"},
    ("POST", "/v1/orders/{order_id}/release"): {"reason": "checked"},
    ("POST", "/v1/exceptions/{exception_id}/resolve"): {"resolution": "checked"},
    ("POST", "/v1/batches"): {"max_orders": 1},
    ("POST", "/v1/batches/{batch_id}/assign"): {"station_id": 999999},
    ("POST", "/v1/jobs/{job_id}/dismiss"): {"reason": "checked"},
    ("PUT", "/v1/channels/{name}/shipping"): {"method": "DHL Paket", "carrier": "house"},
    ("PUT", "/v1/channels/{name}/carrier-rules"): {
        "rules": [{"countries": ["DE"], "carrier": "house", "service": "standard"}]
    },
    ("PUT", "/v1/channels/{name}/packing-slip"): {"packing_slip": "always"},
    ("POST", "/v1/products"): {"products": []},
    ("PUT", "/v1/products"): {"products": []},
    ("POST", "/v1/stock/adjustments"): {"sku": "NO-SUCH-SKU", "qty": 1, "reason": "checked"},
    ("POST", "/v1/returns"): {
        "order": "ORD-1",
        "lines": [{"sku": "X", "quantity": 1}],
        "reason": "r",
    },
    ("POST", "/v1/returns/{code}/units"): {"sku": "X", "disposition": "restock"},
    ("POST", "/v1/returns/labels"): {"order": "ORD-1"},
}


@dataclass
class Callers:
    client: TestClient
    headers: dict[str, dict[str, str]]
    station_ids: dict[str, int]


@pytest.fixture
def callers(sessions: sessionmaker[Session], service_engine: Engine) -> Iterator[Callers]:
    with sessions() as s, s.begin():
        _a, code_a = issue_enroll_code(s, "bench-a")
        _b, code_b = issue_enroll_code(s, "bench-b")
        add_user(s, name="Sam", role="supervisor", badge="S-SAM", pin=PIN)
        _row, operator = create_token(s, role="operator", name="ops")
        _row, admin = create_token(s, role="admin", name="boss")
    with TestClient(create_app(service_engine)) as client:
        tokens, ids = {}, {}
        for name, code in (("station", code_a), ("other_station", code_b)):
            body = client.post("/v1/stations/enroll", json={"code": code}).json()
            tokens[name], ids[name] = body["token"], body["station_id"]
        a = {"Authorization": f"Bearer {tokens['station']}"}
        b = {"Authorization": f"Bearer {tokens['other_station']}"}
        r = client.post("/v1/supervisor/sessions", json={"badge": "S-SAM", "pin": PIN}, headers=a)
        assert r.status_code == 201, r.text
        sup = {"X-Packbench-Supervisor-Session": r.json()["session"]}
        headers = {
            "none": {},
            "wrong": {"Authorization": "Bearer not-a-token"},
            "station": a,
            "other_station": b,
            "station+supervisor": {**a, **sup},
            "other_station+supervisor": {**b, **sup},
            "operator": {"Authorization": f"Bearer {operator}"},
            "admin": {"Authorization": f"Bearer {admin}"},
        }
        ids["station+supervisor"] = ids["station"]
        ids["other_station+supervisor"] = ids["other_station"]
        yield Callers(client, headers, ids)


def _operations() -> list[tuple[str, str]]:
    spec = create_app("sqlite://").openapi()
    ops = sorted((m.upper(), path) for path, ops in spec["paths"].items() for m in ops)
    # Signing out ends the session the other supervisor calls use: last.
    return sorted(ops, key=lambda op: op == ("DELETE", "/v1/supervisor/sessions/current"))


def test_every_operation_has_an_entry_in_the_table() -> None:
    operations = _operations()
    missing = [op for op in operations if op not in TABLE]
    assert not missing, f"decide who may call these, then add them to TABLE: {missing}"
    gone = [op for op in TABLE if op not in operations]
    assert not gone, f"TABLE names operations that no longer exist: {gone}"


def _fill(path: str) -> str:
    for name in ("order_id", "exception_id", "batch_id", "claim_id", "mutation_id"):
        path = path.replace("{" + name + "}", "999999")
    return (
        path.replace("{station_id}", "1").replace("{carrier}", "house").replace("{name}", "nosuch")
    )


def _body(op: tuple[str, str], me: int) -> Any:
    body = BODIES.get(op)
    if isinstance(body, dict):
        return {k: (me if v == "{me}" else v) for k, v in body.items()}
    return body


def test_each_credential_gets_exactly_what_the_table_allows(callers: Callers) -> None:
    wrong: list[str] = []
    for op in _operations():
        method, path = op
        kind = TABLE[op]
        statuses: dict[str, int] = {}
        for who in CREDENTIALS:
            me = callers.station_ids.get(who, callers.station_ids["station"])
            call: Callable[..., Any] = callers.client.request
            r = call(method, _fill(path), json=_body(op, me), headers=callers.headers[who])
            statuses[who] = r.status_code
            assert r.status_code < 500, (op, who, r.text)
            if kind in ("webhook", "code"):
                continue
            refused = r.status_code in (401, 403)
            if refused:
                body = r.json()
                assert set(body) >= {"error", "message"} and body["message"], (op, who, body)
            if refused == (who in LET_IN[kind]):
                wrong.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
        if kind in ("webhook", "code"):
            # A bearer token of any kind opens no webhook: the answer is the anonymous one.
            assert len(set(statuses.values())) == 1, (op, statuses)
    assert not wrong, "\n".join(wrong)
