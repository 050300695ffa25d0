"""A claim refusal reaches the packer in their language: the service sends a message code and
its parameters to stations that speak protocol 4 (with the English sentence for older ones),
and the station words it from its own catalogue."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.i18n import PSEUDO, render
from app.station.claims import REFUSALS, STATUSES, refusal_text
from app.station.rejections import REJECTIONS, rejection_text
from service.lifecycle import OrderStatus, transition
from service.models import Order
from sync.protocol import (
    CLAIM_MESSAGES,
    PROTOCOL_HEADER,
    REJECTION_MESSAGES,
    ClaimRefused,
    MutationResult,
)
from tests.integration.sync_server.conftest import StationAuth, claim, mutation, push


def _claim(client: TestClient, st: StationAuth, protocol: str | None, **body: int) -> Any:
    headers = dict(st.headers)
    headers.pop(PROTOCOL_HEADER, None)
    if protocol is not None:
        headers[PROTOCOL_HEADER] = protocol
    return client.post("/v1/claims", json=body, headers=headers)


def _words(text: str, *data: str) -> list[str]:
    for d in data:
        text = text.replace(d, " ")
    return re.findall(r"\b[A-Za-z]{2,}\b", text)


def test_the_station_and_the_service_say_the_same_sentences() -> None:
    assert REFUSALS == CLAIM_MESSAGES
    assert set(STATUSES) == {s.value for s in OrderStatus}


def test_a_refusal_travels_as_a_code_to_a_protocol_4_station(
    client: TestClient, make_station: Any, make_order: Any
) -> None:
    a, b = make_station("Bench A"), make_station("Bench B")
    oid = make_order()
    assert _claim(client, a, "4", order_id=oid).status_code == 200
    r = _claim(client, b, "4", order_id=oid)
    assert r.status_code == 409, r.text
    body = r.json()
    refusal = ClaimRefused.model_validate(body)
    assert refusal.code == "order_held_elsewhere"
    params = refusal.params or {}
    assert params["station"] == "Bench A" and re.fullmatch(r"\d\d:\d\d", params["until"])
    assert refusal.message == CLAIM_MESSAGES["order_held_elsewhere"].format(**params)
    assert body["error"] == "claimed_by_other"  # the wire's own code is unchanged

    text = refusal_text(refusal)
    assert render(text, "en") == refusal.message
    pseudo = render(text, PSEUDO)
    assert params["order"] in pseudo and "Bench A" in pseudo
    assert _words(pseudo, params["order"], "Bench A", "UTC") == [], pseudo

    for protocol in ("3", "2", None):  # an older station: English only, and nothing it refuses
        old = _claim(client, b, protocol, order_id=oid).json()
        assert "code" not in old and "params" not in old, old
        assert old["message"] == refusal.message
        assert refusal_text(ClaimRefused.model_validate(old)) == refusal.message


def test_a_status_and_the_shops_reason_are_parameters(
    client: TestClient, sessions: sessionmaker[Session], make_station: Any, make_order: Any
) -> None:
    st = make_station("A")
    oid = make_order()
    with sessions() as s, s.begin():
        order = s.get(Order, oid)
        assert order is not None
        number = order.number
        transition(s, order, OrderStatus.ON_HOLD, actor="webhook:shop", reason="address unclear")
    refusal = ClaimRefused.model_validate(_claim(client, st, "4", order_id=oid).json())
    assert refusal.code == "order_not_packable_why"
    assert refusal.params == {"order": number, "status": "on_hold", "why": "address unclear"}
    assert refusal.message == f"Order {number} cannot be packed: it is on hold (address unclear)."
    text = refusal_text(refusal)
    assert render(text, "en") == refusal.message
    pseudo = render(text, PSEUDO)
    assert "[öñ ĥöĺđ" in pseudo  # the status word comes from the catalogue too
    assert _words(pseudo, number, "address unclear") == [], pseudo

    missing = _claim(client, st, "4", order_id=424242)
    assert missing.status_code == 404
    gone = ClaimRefused.model_validate(missing.json())
    assert (gone.code, gone.params) == ("order_unknown", {"order": "424242"})
    assert render(refusal_text(gone), "en") == "Order 424242 does not exist."


def test_an_unknown_code_or_missing_parameter_shows_the_english() -> None:
    newer = ClaimRefused(
        error="order_not_claimable", message="Something new.", code="brand_new", params={}
    )
    assert refusal_text(newer) == "Something new."
    short = ClaimRefused(
        error="unknown_order", message="Order 7 does not exist.", code="order_unknown", params={}
    )
    assert refusal_text(short) == "Order 7 does not exist."


def test_a_rejected_event_says_why_as_a_code_every_station_reads(
    client: TestClient, sessions: sessionmaker[Session], make_station: Any, make_order: Any
) -> None:
    """The code rides in the result dict (open to every protocol version) and is stored,
    so a replayed push answers the same; the station words it in its reader's language."""
    assert REJECTIONS == REJECTION_MESSAGES
    a, b = make_station("Bench A"), make_station("Bench B")
    oid = make_order()
    epoch = claim(client, a, order_id=oid).json()["leases"][0]["epoch"]
    scan = {"code": "4006381333931", "outcome": "accepted"}
    first = push(client, b, mutation(1, "scan_recorded", oid, None, **scan)).json()["results"]
    with sessions() as s, s.begin():
        order = s.get(Order, oid)
        assert order is not None
        number = order.number
        transition(s, order, OrderStatus.CANCELLED, actor="webhook:shop", reason="fraud")
    second = push(client, a, mutation(1, "scan_recorded", oid, epoch, **scan)).json()["results"]
    replayed = push(client, a, mutation(1, "scan_recorded", oid, epoch, **scan)).json()["results"]
    assert second == replayed
    for (raw,), code in ((first, "not_claimed"), (second, "order_cancelled")):
        result = MutationResult.model_validate(raw)
        assert result.status == "rejected"
        assert result.result["say"] == {"code": code, "params": {"order": number}}
        assert result.message == REJECTION_MESSAGES[code].format(order=number)
        text = rejection_text(result)
        assert render(text, "en") == result.message
        pseudo = render(text, PSEUDO)
        assert number in pseudo and _words(pseudo, number) == [], pseudo
    old = MutationResult(id=9, status="rejected", reason="no_lease", message="Old words.")
    assert rejection_text(old) == "Old words."  # an older service: its English
