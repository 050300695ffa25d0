"""Fixtures for the service side of sync protocol v1: an app client, stations, orders."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.models import Batch, Product, User
from service.sync_server.enrollment import issue_enroll_code
from service.users import add_user
from sync import pins
from tests.support import factories


@dataclass(frozen=True)
class StationAuth:
    """An enrolled station: its id, name and the headers that authenticate it."""

    id: int
    name: str
    headers: dict[str, str]


@pytest.fixture
def client(service_engine: Engine) -> Iterator[TestClient]:
    """A TestClient over the real app on the test database."""
    with TestClient(create_app(service_engine)) as c:
        yield c


def enroll_station(client: TestClient, sessions: sessionmaker[Session], name: str) -> StationAuth:
    """Issue a code the way `enroll-code` does and trade it over HTTP."""
    with sessions() as s, s.begin():
        _station, code = issue_enroll_code(s, name)
    r = client.post("/v1/stations/enroll", json={"code": code, "app_version": "test"})
    assert r.status_code == 200, r.text
    body = r.json()
    return StationAuth(body["station_id"], name, {"Authorization": f"Bearer {body['token']}"})


@pytest.fixture
def make_station(
    client: TestClient, sessions: sessionmaker[Session]
) -> Callable[[str], StationAuth]:
    """Enrol a station by name."""
    return lambda name: enroll_station(client, sessions, name)


_numbers = itertools.count(100001)


@pytest.fixture
def make_order(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Create an order (default: allocated, two lines, no batch); returns its id."""

    def make(status: str = "allocated", batch_id: int | None = None, lines: int = 2) -> int:
        with sessions() as s, s.begin():
            n = next(_numbers)
            return factories.sync_order(s, n, status=status, batch_id=batch_id, lines=lines).id

    return make


@pytest.fixture
def make_batch(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Create a batch, optionally assigned to a station; returns its id."""
    counter = itertools.count(1)

    def make(station_id: int | None = None) -> int:
        with sessions() as s, s.begin():
            b = Batch(code=f"B{next(counter)}", name="batch", station_id=station_id, rule={})
            s.add(b)
            s.flush()
            return b.id

    return make


@pytest.fixture
def make_product(sessions: sessionmaker[Session]) -> Callable[[str], int]:
    """Create a product by SKU; returns its id."""

    def make(sku: str) -> int:
        with sessions() as s, s.begin():
            p = Product(sku=sku, name=sku.title(), weight_grams=100)
            s.add(p)
            s.flush()
            return p.id

    return make


def mutation(
    mid: int, type_: str, order_id: int | None, epoch: int | None, **payload: Any
) -> dict[str, Any]:
    """One wire mutation."""
    return {
        "id": mid,
        "type": type_,
        "order_id": order_id,
        "lease_epoch": epoch,
        "at": datetime(2026, 11, 29, 12, 0, tzinfo=UTC).isoformat(),
        "payload": payload,
    }


def scan(mid: int, order_id: int, epoch: int | None, outcome: str = "accepted") -> dict[str, Any]:
    """A scan_recorded mutation."""
    return mutation(mid, "scan_recorded", order_id, epoch, code="SKU0", outcome=outcome)


def push(client: TestClient, station: StationAuth, *mutations: dict[str, Any]) -> Any:
    """POST /v1/sync/push and return the response."""
    return client.post(
        "/v1/sync/push",
        json={"station_id": station.id, "mutations": list(mutations)},
        headers=station.headers,
    )


def claim(client: TestClient, station: StationAuth, **body: int) -> Any:
    """POST /v1/claims and return the response."""
    return client.post("/v1/claims", json=body, headers=station.headers)


SUPERVISOR_PIN = "246810"


@pytest.fixture
def make_supervisor(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Create a supervisor with SUPERVISOR_PIN (argon2id, as `user add` does); returns the id."""
    counter = itertools.count(1)

    def make(pin: str = SUPERVISOR_PIN, role: str = "supervisor") -> int:
        with sessions() as s, s.begin():
            n = next(counter)
            return add_user(s, name=f"Sup {n}", role=role, badge=f"S-{n}", pin=pin).id

    return make


def proven_override(
    sessions: sessionmaker[Session],
    mid: int,
    station_id: int,
    order_id: int,
    epoch: int | None,
    supervisor_id: int,
    pin: str = SUPERVISOR_PIN,
    **payload: Any,
) -> dict[str, Any]:
    """An override_granted mutation signed as a station does after the supervisor typed `pin`."""
    with sessions() as s:
        user = s.get(User, supervisor_id)
        assert user is not None and user.pin_hash is not None
        split = pins.split_pin_hash(user.pin_hash)
    assert split is not None
    body = {"kind": "weight", "reason": "scale drift", "details": {}, **payload}
    message = pins.override_message(
        station_id=station_id,
        order_id=order_id,
        supervisor_id=supervisor_id,
        kind=body["kind"],
        reason=body["reason"],
        details=body["details"],
    )
    proof = pins.sign_override(pins.pin_key(pin, split[0]), message)
    return mutation(
        mid,
        "override_granted",
        order_id,
        epoch,
        supervisor_id=supervisor_id,
        proof=proof,
        **body,
    )
