"""Console fixtures: the service app on a fresh database, office users of every role, orders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.ingest.model import Address
from service.ingest.store import apply_validation
from service.ingest.validate import address_reasons
from service.models import Order
from service.office.accounts import add_office_user
from tests.support import factories

PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def email(role: str) -> str:
    """The test account of a role."""
    return f"{role}@example.com"


SIGN_IN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def post_sign_in(client: TestClient, data: dict[str, str], **kwargs: Any) -> Any:
    """POST the sign-in form the way a browser does: load it first, send its CSRF token."""
    form = client.get("/console/sign-in")
    found = SIGN_IN_CSRF.search(form.text)
    assert found, "the sign-in form carries a CSRF token"
    return client.post("/console/sign-in", data={"csrf": found.group(1), **data}, **kwargs)


def sign_in(client: TestClient, role: str, password: str = PASSWORD) -> str:
    """Sign `client` in as the role's account; returns the session's CSRF token."""
    r = post_sign_in(
        client,
        data={"email": email(role), "password": password, "next": "/console/orders"},
        follow_redirects=True,
    )
    assert r.status_code == 200, r.text
    found = CSRF.search(r.text)
    assert found, "a signed-in page carries the CSRF token"
    return found.group(1)


@dataclass
class Floor:
    """What the console tests act on."""

    held_id: int  # on hold: postcode invalid (validation)
    confirmed_id: int


@pytest.fixture
def app_client(service_engine: Engine) -> Iterator[TestClient]:
    """A TestClient on the whole service app (API and console)."""
    with TestClient(create_app(service_engine), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def office(sessions: sessionmaker[Session]) -> None:
    """One office user per role, all with PASSWORD."""
    with sessions() as s, s.begin():
        for role in ROLES:
            add_office_user(
                s, email=email(role), name=f"{role.title()} Person", role=role, password=PASSWORD
            )


def held_for_address(session: Session, order: Order) -> None:
    """Hold `order` the way ingest does when its address does not validate."""
    address = Address(
        name=order.ship_name,
        street1=order.ship_street1,
        postcode=order.ship_postcode,
        city=order.ship_city,
        country=order.ship_country,
    )
    apply_validation(session, order, address_reasons(address), "webhook:test-shop")


@pytest.fixture
def floor(sessions: sessionmaker[Session], office: None) -> Floor:
    """A held order (bad German postcode) and a confirmed one."""
    with sessions() as s, s.begin():
        held = factories.order(s, status="pending")
        held.ship_postcode = "1011"
        held.email = "jane@example.com"
        held.ship_name = "Jane Doe"
        s.flush()
        held_for_address(s, held)
        assert held.status == "on_hold"
        confirmed = factories.order(s, status="confirmed")
        return Floor(held.id, confirmed.id)
