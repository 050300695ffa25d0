"""The supervisor API over HTTP on both databases: auth, overview, actions, batch preparation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.db import utcnow
from service.models import Label, Order, OrderEvent, OrderException
from service.shipping.labels import prepare_labels
from service.sync_server.enrollment import issue_enroll_code
from tests.support import factories
from tests.unit.supervisor.shift import SAM_PIN, Shift, build


@dataclass
class Floor:
    client: TestClient
    sessions: sessionmaker[Session]
    shift: Shift
    headers: dict[str, str]  # station token + supervisor Sam's session

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/v1/supervisor{path}", json=body, headers=self.headers)

    def order(self, order_id: int) -> Order:
        with self.sessions() as s:
            order = s.get(Order, order_id)
            assert order is not None
            s.expunge(order)
            return order

    def actions(self, order_id: int) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(
                select(OrderEvent).where(
                    OrderEvent.order_id == order_id, OrderEvent.type == "supervisor_action"
                )
            ).all()
            return [{**e.payload, "actor": e.actor} for e in rows]


@pytest.fixture
def floor(sessions: sessionmaker[Session], service_engine: Any) -> Iterator[Floor]:
    with sessions() as s, s.begin():
        shift = build(s, utcnow())
        _station, code = issue_enroll_code(s, "bench-office")
    with TestClient(create_app(service_engine)) as client:
        r = client.post("/v1/stations/enroll", json={"code": code, "app_version": "t"})
        token = {"Authorization": f"Bearer {r.json()['token']}"}
        r = client.post(
            "/v1/supervisor/sessions", json={"badge": "S-SAM", "pin": SAM_PIN}, headers=token
        )
        assert r.status_code == 201, r.text
        headers = {**token, "X-Packbench-Supervisor-Session": r.json()["session"]}
        yield Floor(client, sessions, shift, headers)


def test_only_an_active_supervisor_at_a_known_station_gets_in(floor: Floor) -> None:
    url = "/v1/supervisor/overview"
    token = {"Authorization": floor.headers["Authorization"]}
    assert floor.client.get(url).status_code == 401
    assert floor.client.get(url, headers=token).status_code == 401  # no supervisor session
    for badge, pin in (("P-ALICE", SAM_PIN), ("S-SUE", SAM_PIN), ("S-SAM", "000000")):
        # a packer; an inactive supervisor; a wrong PIN: one answer that says nothing more
        r = floor.client.post(
            "/v1/supervisor/sessions", json={"badge": badge, "pin": pin}, headers=token
        )
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized"), r.text
        assert (
            r.json()["message"]
            == "Badge or PIN not accepted. Scan the badge and type the PIN again."
        )
    bad = {**floor.headers, "Authorization": "Bearer nope"}
    assert floor.client.get(url, headers=bad).status_code == 401
    r = floor.client.get(url, headers=floor.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    batches = {b["code"]: b for b in body["batches"]}
    assert (batches["B-A"]["remaining"], batches["B-B"]["will_miss_cutoff"]) == (6, True)
    assert {p["name"] for p in body["packers"]} == {"Alice", "Bob"}
    assert [e["kind"] for e in body["exceptions"]] == ["hold", "weight", "stuck", "rejected"]


def test_release_records_who_and_why_and_closes_the_hold(floor: Floor) -> None:
    held = floor.shift.held_order
    version = floor.order(held).version
    r = floor.post(
        f"/orders/{held}/release", {"reason": "new mug found", "expected_version": version}
    )
    assert r.status_code == 200, r.text
    assert r.json()["order_status"] == "allocated"
    assert r.json()["actor"] == f"user:{floor.shift.users['sam']}"
    [action] = floor.actions(held)
    assert action["action"] == "release" and action["reason"] == "new mug found"
    assert action["supervisor_name"] == "Sam" and action["actor"].startswith("user:")
    with floor.sessions() as s:
        exc = s.get(OrderException, floor.shift.hold_exception)
        assert exc is not None and exc.resolved_by == action["actor"]
    r = floor.post(f"/orders/{held}/release", {"reason": "again"})
    assert r.status_code == 409 and "not on hold" in r.json()["message"]


def test_an_order_packed_or_cancelled_meanwhile_is_refused_and_unchanged(floor: Floor) -> None:
    packed = floor.shift.orders["A"][0]
    r = floor.post(f"/orders/{packed}/cancel", {"reason": "customer asked"})
    assert r.status_code == 409 and "packed" in r.json()["message"]
    waiting = floor.shift.orders["A"][6]
    seen = floor.order(waiting).version
    with floor.sessions() as s, s.begin():  # the shop cancels while the supervisor looks
        order = s.get(Order, waiting)
        assert order is not None
        order.status, order.version = "cancelled", order.version + 1
    r = floor.post(
        f"/orders/{waiting}/reassign",
        {
            "reason": "balance load",
            "batch_id": floor.shift.batches["B"],
            "expected_version": seen,
        },
    )
    assert r.status_code == 409
    assert "cancelled meanwhile" in r.json()["message"]
    after = floor.order(waiting)
    assert (after.status, after.batch_id) == ("cancelled", floor.shift.batches["A"])
    assert floor.actions(waiting) == []


def test_reassign_and_cancel_and_resolve(floor: Floor) -> None:
    order_id = floor.shift.orders["A"][7]
    r = floor.post(
        f"/orders/{order_id}/reassign",
        {
            "reason": "bench-1 is behind",
            "batch_id": floor.shift.batches["B"],
        },
    )
    assert r.status_code == 200, r.text
    assert floor.order(order_id).batch_id == floor.shift.batches["B"]
    assert floor.actions(order_id)[0]["to_station_id"] == floor.shift.stations["bench-2"]

    other = floor.shift.orders["A"][8]
    r = floor.post(f"/orders/{other}/cancel", {"reason": "duplicate order"})
    assert r.status_code == 200 and r.json()["order_status"] == "cancelled"

    r = floor.post(f"/exceptions/{floor.shift.hold_exception}/resolve", {"reason": "checked"})
    assert r.status_code == 200, r.text
    r = floor.post(f"/exceptions/{floor.shift.hold_exception}/resolve", {"reason": "checked"})
    assert r.status_code == 409
    bench2 = floor.shift.stations["bench-2"]
    r = floor.post(f"/rejections/{bench2}/7/resolve", {"reason": "bench-1 packed it"})
    assert r.status_code == 200, r.text
    kinds = [
        e["kind"]
        for e in floor.client.get("/v1/supervisor/overview", headers=floor.headers).json()[
            "exceptions"
        ]
    ]
    assert kinds == ["weight", "stuck"]  # the hold and the rejection are dealt with


def test_cancel_voids_the_labels_made_ahead(floor: Floor) -> None:
    order_id = floor.shift.orders["A"][9]
    with floor.sessions() as s, s.begin():
        assert prepare_labels(s, [order_id]) == 1
    r = floor.post(f"/orders/{order_id}/cancel", {"reason": "customer asked"})
    assert r.status_code == 200, r.text
    with floor.sessions() as s:
        statuses = s.scalars(select(Label.status).where(Label.order_id == order_id)).all()
        voided = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "label_cancelled"
            )
        ).all()
    assert statuses == ["cancelled"]  # the station will not print it
    assert [(e.payload["reason"], e.actor) for e in voided] == [
        ("order_cancelled", f"user:{floor.shift.users['sam']}")
    ]


def test_batch_preparation_filters_creates_and_assigns(floor: Floor) -> None:
    with floor.sessions() as s, s.begin():
        for _ in range(3):
            factories.order(s, status="confirmed", carrier="dhl", service="express")
        factories.order(s, status="confirmed", carrier="ups")
    r = floor.client.get(
        "/v1/supervisor/candidates", params={"carrier": "dhl"}, headers=floor.headers
    )
    assert r.status_code == 200 and len(r.json()) == 3
    r = floor.post("/batches", {"carrier": "dhl", "max_orders": 10})
    assert r.status_code == 201, r.text
    [batch] = r.json()
    assert batch["order_count"] == 3
    assert batch["created_by"] == f"user:{floor.shift.users['sam']}"
    bench1 = floor.shift.stations["bench-1"]
    r = floor.post(f"/batches/{batch['id']}/assign", {"station_id": bench1})
    assert r.status_code == 200 and r.json()["station_id"] == bench1


def test_a_held_order_with_a_printed_label_says_so(floor: Floor) -> None:
    """Issue 17: a label that printed before the hold must be voided; the list shows it."""
    body = floor.client.get("/v1/supervisor/overview", headers=floor.headers).json()
    held = next(e for e in body["exceptions"] if e["kind"] == "hold")
    assert held["labels_printed"] == 0
    with floor.sessions() as s, s.begin():  # printed at the bench before the hold
        s.add(
            Label(
                order_id=held["order_id"],
                carrier="house",
                tracking_number="HB000000001",
                format="zpl",
                content=b"^XA^XZ",
                weight_min_grams=100,
                weight_max_grams=900,
                status="printed",
            )
        )
    body = floor.client.get("/v1/supervisor/overview", headers=floor.headers).json()
    again = next(e for e in body["exceptions"] if e["id"] == held["id"])
    assert again["labels_printed"] == 1
    assert all(e["labels_printed"] == 0 for e in body["exceptions"] if e["id"] != held["id"])


def test_an_actions_answer_is_a_code_the_station_words_in_its_language(floor: Floor) -> None:
    """The English `message` for older stations; `code` and `params` for the supervisor's
    own language at the bench (the same sentences in the station's catalogue)."""
    import re

    from app.i18n import PSEUDO, render
    from app.station.supervisor import ACTIONS, action_text
    from service.supervisor.schemas import ACTION_MESSAGES

    assert ACTIONS == ACTION_MESSAGES
    held = floor.shift.held_order
    version = floor.order(held).version
    r = floor.post(f"/orders/{held}/release", {"reason": "found", "expected_version": version})
    assert r.status_code == 200, r.text
    answer = r.json()
    number = floor.order(held).number
    assert (answer["code"], answer["params"]) == (
        "released",
        {"order": number, "status": "allocated"},
    )
    assert answer["message"] == f"Order {number} released; it is allocated."
    text = action_text(answer)
    assert render(text, "en") == answer["message"]
    pseudo = render(text, PSEUDO)
    assert number in pseudo and "[àĺĺöçàţéđ" in pseudo  # the status word too
    assert re.findall(r"\b[A-Za-z]{2,}\b", pseudo.replace(number, " ")) == [], pseudo
    assert action_text({"message": "Older words."}) == "Older words."  # an older service
    assert render(action_text({}), "en") == "Done."


def test_a_validation_exception_reaches_the_station_as_a_code_it_words(floor: Floor) -> None:
    """Issue 20: a shop's order with an unknown SKU, taken in through the real webhook, is an
    exception the supervisor API sends as a code and parameters beside the English; the
    station words it from its catalogue (pseudo-locale here), the SKU shown as it came."""
    import json
    import re

    from app.i18n import PSEUDO, render
    from app.station.supervisor import parse_overview
    from service.channels import add_channel
    from service.ingest.webhooks import sign
    from sync.protocol import EXCEPTION_MESSAGES
    from tests.support.shop_payloads import shopify_order

    with floor.sessions() as s, s.begin():
        add_channel(s, "shopify", "i18n-shop", secret="shpss_i18n")
    payload = shopify_order(7020)
    payload["line_items"][0]["sku"] = "GHOST-20"
    body = json.dumps(payload).encode()
    r = floor.client.post(
        "/v1/channels/shopify/i18n-shop/webhooks",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": sign("shpss_i18n", body),
            "X-Shopify-Shop-Domain": "i18n.myshopify.com",
            "X-Shopify-Webhook-Id": "i18n-1",
        },
    )
    assert r.status_code == 200, r.text
    overview = floor.client.get("/v1/supervisor/overview", headers=floor.headers).json()
    item = next(e for e in overview["exceptions"] if e["code"] == "unknown_sku")
    assert item["kind"] == "validation"
    assert item["say"] == {"code": "unknown_sku", "params": {"sku": "GHOST-20"}}
    assert item["message"] == EXCEPTION_MESSAGES["unknown_sku"].format(sku="GHOST-20")

    row = next(e for e in parse_overview(overview).exceptions if e.id == item["id"])
    assert render(row.message, "en") == item["message"]
    pseudo = render(row.message, PSEUDO)
    assert "GHOST-20" in pseudo and pseudo != item["message"]
    assert re.findall(r"\b[A-Za-z]{2,}\b", pseudo.replace("GHOST-20", " ")) == [], pseudo
    # a person's hold note has no sentence of ours: it reaches the screen as typed
    note = next(e for e in parse_overview(overview).exceptions if e.kind == "hold")
    assert note.message == next(e["message"] for e in overview["exceptions"] if e["kind"] == "hold")
