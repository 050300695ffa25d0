"""What one stolen station token can no longer do (issue 15): each attack as a test."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.batching import assign_batch
from service.models import Order, OrderEvent
from service.sync_server.enrollment import issue_enroll_code
from sync import pins
from sync.protocol import PinCheck
from tests.integration.sync_server.conftest import (
    SUPERVISOR_PIN,
    claim,
    mutation,
    proven_override,
    push,
)


def test_a_user_id_header_is_no_supervisor_and_wrong_pins_lock(
    client: TestClient, make_station, make_supervisor
) -> None:
    st = make_station("A")
    sup = make_supervisor()
    forged = {**st.headers, "X-Packbench-Supervisor": str(sup)}  # the old, trusted header
    r = client.post("/v1/supervisor/orders/1/cancel", json={"reason": "x"}, headers=forged)
    assert (r.status_code, r.json()["error"]) == (401, "unauthorized")
    assert "badge and PIN" in r.json()["message"]
    for _ in range(5):
        r = client.post("/v1/supervisor/sessions", json={"badge": "S-1", "pin": "000000"},
                        headers=st.headers)  # fmt: skip
        assert r.status_code == 401
    right = {"badge": "S-1", "pin": SUPERVISOR_PIN}
    r = client.post("/v1/supervisor/sessions", json=right, headers=st.headers)
    assert (r.status_code, r.json()["error"]) == (429, "pin_locked")  # even the right PIN


def test_pushed_overrides_without_a_valid_proof_are_refused(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order, make_supervisor
) -> None:
    st = make_station("A")
    sup = make_supervisor()
    oid = make_order()
    epoch = claim(client, st, order_id=oid).json()["leases"][0]["epoch"]
    bare = mutation(1, "override_granted", oid, epoch, kind="weight", supervisor_id=sup,
                    reason="scale drift")  # fmt: skip
    guessed = proven_override(sessions, 2, st.id, oid, epoch, sup, pin="111111")
    other_order = proven_override(sessions, 3, st.id, oid + 1, epoch, sup)
    other_order["order_id"] = oid  # a real proof, but made for another order
    r = push(client, st, bare, guessed, other_order)
    results = r.json()["results"]
    assert [x["reason"] for x in results] == ["override_unproven"] * 3, results
    assert all("supervisor" in x["message"] for x in results)
    good = proven_override(sessions, 4, st.id, oid, epoch, sup)
    assert push(client, st, good).json()["results"][0]["status"] == "applied"
    with sessions() as s:
        actors = s.scalars(
            select(OrderEvent.actor).where(
                OrderEvent.order_id == oid, OrderEvent.type == "override_granted"
            )
        ).all()
    assert actors == [f"user:{sup}"]  # only the proven one, in the supervisor's name


def test_an_order_of_another_stations_batch_cannot_be_claimed_pulled_or_packed(
    client: TestClient, make_station, make_order, make_batch
) -> None:
    a, b = make_station("A"), make_station("B")
    oid = make_order(batch_id=make_batch(station_id=a.id))
    r = claim(client, b, order_id=oid)
    assert (r.status_code, r.json()["error"]) == (409, "claimed_by_other")
    assert r.json()["station_name"] == "A" and "reassign" in r.json()["message"]
    pulled = client.get("/v1/sync/pull", params={"cursor": 0}, headers=b.headers).json()
    assert oid not in {c["entity_id"] for c in pulled["changes"] if c["entity"] == "order"}
    r = push(client, b, mutation(1, "scan_recorded", oid, 1, code="SKU0", outcome="accepted"))
    assert r.json()["results"][0]["reason"] == "claimed_by_other"
    assert claim(client, a, order_id=oid).status_code == 200  # the owner still can


def test_a_pull_gives_nothing_to_guess_pins_against_without_the_station_key(
    client: TestClient, sessions: sessionmaker[Session], make_supervisor
) -> None:
    sup = make_supervisor()
    private, public = pins.new_station_keypair()
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "bench-k")
    body = {"code": code, "pin_public_key": public}
    token = client.post("/v1/stations/enroll", json=body).json()["token"]
    pulled = client.get("/v1/sync/pull", params={"cursor": 0},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    raw = pulled.text
    assert "$argon2" not in raw and '"pin_hash":null' in raw.replace(" ", "")
    [user] = [c["data"] for c in pulled.json()["changes"] if c["entity"] == "user"]
    check = PinCheck.model_validate(user["pin"])
    assert user["id"] == sup and check.sealed_verifier is not None
    params = pins.PinParams(pins.unb64(check.salt), check.time_cost, check.memory_cost,
                            check.parallelism, check.hash_len)  # fmt: skip
    right = pins.verifier(pins.pin_key(SUPERVISOR_PIN, params))
    # A thief with the token has the pull but not the keyring: the verifier does not open, and
    # the right PIN's verifier appears nowhere in what was fetched, so no guess can be tested.
    thief_key, _ = pins.new_station_keypair()
    assert pins.unseal(thief_key, check.sealed_verifier) is None
    assert pins.b64(right) not in raw and right.hex() not in raw
    assert right not in json.dumps(pulled.json()).encode()
    # The station itself, with its private key, checks the right PIN (so the test can fail).
    assert pins.unseal(private, check.sealed_verifier) == right
    wrong = pins.verifier(pins.pin_key("000000", params))
    assert pins.unseal(private, check.sealed_verifier) != wrong


def test_assigning_the_batch_elsewhere_hands_its_leased_orders_over(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order, make_batch
) -> None:
    a, b = make_station("A"), make_station("B")
    oid = make_order()
    epoch_a = claim(client, a, order_id=oid).json()["leases"][0]["epoch"]
    batch = make_batch()
    with sessions() as s, s.begin():
        s.execute(update(Order).where(Order.id == oid).values(batch_id=batch))
        assign_batch(s, batch, b.id, actor="user:1")  # a supervisor gives the batch to B
    r = claim(client, b, batch_id=batch)
    assert r.status_code == 200, r.text  # B takes it over although A's lease has not expired
    assert r.json()["leases"][0]["epoch"] > epoch_a
    scan = mutation(1, "scan_recorded", oid, epoch_a, code="SKU0", outcome="accepted")
    assert push(client, a, scan).json()["results"][0]["reason"] == "claimed_by_other"
    assert claim(client, a, order_id=oid).status_code == 409


def test_re_enrolling_with_a_key_resends_the_user_list_with_sealed_verifiers(
    client: TestClient, sessions: sessionmaker[Session], make_supervisor
) -> None:
    sup = make_supervisor()
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "bench-old")
    token = client.post("/v1/stations/enroll", json={"code": code}).json()["token"]
    first = client.get("/v1/sync/pull", params={"cursor": 0},
                       headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    [old] = [c["data"] for c in first["changes"] if c["entity"] == "user"]
    assert old["pin"]["sealed_verifier"] is None  # enrolled without a key: nothing to open
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "bench-old")
    private, public = pins.new_station_keypair()
    body = {"code": code, "pin_public_key": public}
    token = client.post("/v1/stations/enroll", json=body).json()["token"]
    later = client.get("/v1/sync/pull", params={"cursor": first["cursor"]},
                       headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    [new] = [c["data"] for c in later["changes"] if c["entity"] == "user"]
    assert new["id"] == sup
    assert pins.unseal(private, new["pin"]["sealed_verifier"]) is not None
