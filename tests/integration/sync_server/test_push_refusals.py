"""Pushes the service can never accept are a 4xx naming the mutation and field, never a 500,
and a stand-in for a set-aside mutation is recorded as rejected so the ids stay gap-free."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.sync_server.conftest import StationAuth, claim, mutation, push, scan


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"id": 2**40}, "mutations.1.id"),
        ({"order_id": 2**40}, "mutations.1.order_id"),
        ({"lease_epoch": True}, "mutations.1.lease_epoch"),
        ({"payload": {"code": "SKU\x000", "outcome": "accepted"}}, "mutations.1.payload.code"),
    ],
)
def test_a_push_with_an_impossible_value_is_422_naming_the_mutation(
    client: TestClient,
    make_station: Callable[[str], StationAuth],
    make_order: Callable[..., int],
    bad: dict[str, object],
    field: str,
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = claim(client, st, order_id=oid).json()["leases"][0]["epoch"]
    r = push(client, st, scan(1, oid, epoch), {**scan(2, oid, epoch), **bad})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    # Nothing of the push was applied: the good first mutation is still expected.
    r = push(client, st, scan(1, oid, epoch))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"


def test_a_set_aside_stand_in_is_recorded_as_rejected_and_the_ids_go_on(
    client: TestClient,
    sessions: sessionmaker[Session],
    make_station: Callable[[str], StationAuth],
    make_order: Callable[..., int],
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = claim(client, st, order_id=oid).json()["leases"][0]["epoch"]
    stand_in = mutation(1, "set_aside", None, None)
    r = push(client, st, stand_in, scan(2, oid, epoch))
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["status"], first["reason"]) == ("rejected", "set_aside")
    assert second["status"] == "applied"
    assert r.json()["last_mutation_id"] == 2


@pytest.mark.parametrize(
    "body", [b'{"station_id": 1, "mutations": [', b"", b"[]", b'{"station_id": "one"}']
)
def test_a_push_that_is_not_a_push_request_is_422_and_changes_nothing(
    client: TestClient,
    make_station: Callable[[str], StationAuth],
    make_order: Callable[..., int],
    body: bytes,
) -> None:
    st = make_station("A")
    oid = make_order()
    epoch = claim(client, st, order_id=oid).json()["leases"][0]["epoch"]
    headers = {**st.headers, "content-type": "application/json"}
    r = client.post("/v1/sync/push", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"
    r = push(client, st, scan(1, oid, epoch))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"


def test_a_push_without_a_token_is_401_before_its_body_is_read(client: TestClient) -> None:
    r = client.post("/v1/sync/push", content=b"not json")
    assert r.status_code == 401, r.text
