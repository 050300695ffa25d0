"""Returns at the desk through the API: refusals record nothing, dispositions move stock,
every state change is audited, and the ledger agrees."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.rows import IngestResult
from service.models import OrderEvent, Product, Return, StockMovement
from service.stock.ledger import check, level
from tests.integration.stock.conftest import normalised


def _stock(sessions: sessionmaker[Session], sku: str, location: str = "MAIN") -> tuple[int, int]:
    with sessions() as s:
        product_id = s.scalar(select(Product.id).where(Product.sku == sku))
        assert product_id is not None
        lv = level(s, product_id, location)
        return lv.on_hand, lv.allocated


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_bad_returns_are_refused_with_one_sentence_and_record_nothing(
    operator_client: TestClient,
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
) -> None:
    unshipped = ingest(normalised({"MUG": 1}))
    order = shipped({"MUG": 2})
    cases = [
        (
            unshipped.number,
            "MUG",
            1,
            f"Order {unshipped.number} was never shipped (it is confirmed); "
            "there is nothing to return.",
        ),
        (order.number, "BOWL", 1, f"BOWL is not in order {order.number}; nothing was recorded."),
        (
            order.number,
            "MUG",
            3,
            f"Order {order.number} shipped 2 of MUG; 0 already returned or expected, "
            "so 3 more cannot come back.",
        ),
    ]
    for number, sku, qty, message in cases:
        r = operator_client.post(
            "/v1/returns",
            json={"order": number, "lines": [{"sku": sku, "quantity": qty}], "reason": "x"},
        )
        assert r.status_code == 409, r.text
        assert r.json()["message"] == message
    assert _count(stocked, Return) == 0
    r = operator_client.post(
        "/v1/returns/RMA-424242/units", json={"sku": "MUG", "disposition": "restock"}
    )
    assert r.status_code == 404 and r.json()["message"] == "There is no return RMA-424242."


def test_a_return_is_received_unit_by_unit_and_closed(
    operator_client: TestClient,
    stocked: sessionmaker[Session],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"MUG": 3, "PLATE": 1})
    assert _stock(stocked, "MUG") == (7, 0) and _stock(stocked, "PLATE") == (2, 0)
    r = operator_client.post(
        "/v1/returns",
        json={
            "order": order.number,
            "lines": [{"sku": "MUG", "quantity": 3}, {"sku": "PLATE", "quantity": 1}],
            "reason": "customer withdrew",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == "expected"

    for disposition, reason in (
        ("restock", None),
        ("b_grade", "damaged"),
        ("write_off", "damaged"),
    ):
        r = operator_client.post(
            f"/v1/returns/{code}/units",
            json={"sku": "mug", "disposition": disposition, "reason": reason, "key": disposition},
        )
        assert r.status_code == 200, r.text
    # A retried call (same key) books nothing twice; a fourth MUG is more than was shipped.
    r = operator_client.post(
        f"/v1/returns/{code}/units", json={"sku": "MUG", "disposition": "restock", "key": "restock"}
    )
    assert r.status_code == 200 and len(r.json()["units"]) == 3
    r = operator_client.post(
        f"/v1/returns/{code}/units", json={"sku": "MUG", "disposition": "restock"}
    )
    assert r.status_code == 409
    assert "shipped 3 of MUG, and all of them are already back" in r.json()["message"]

    assert _stock(stocked, "MUG") == (8, 0)  # one restocked
    assert _stock(stocked, "MUG", "B-GRADE") == (1, 0)  # one second quality
    r = operator_client.post(f"/v1/returns/{code}/close")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "closed"
    assert sorted((u["sku"], u["disposition"]) for u in body["units"]) == [
        ("MUG", "b_grade"),
        ("MUG", "restock"),
        ("MUG", "write_off"),
        ("PLATE", "missing"),
    ]
    assert _stock(stocked, "PLATE") == (2, 0)  # nothing came back
    with stocked() as s:
        assert check(s) == []
        kinds = sorted(
            s.scalars(
                select(StockMovement.kind).where(
                    StockMovement.order_id == order.order_id,
                    StockMovement.event_key.like("return:%"),
                )
            )
        )
        assert kinds == ["b_grade", "returned_to_stock", "written_off"]
        changes = [
            (e.payload["from"], e.payload["to"])
            for e in s.scalars(
                select(OrderEvent)
                .where(
                    OrderEvent.order_id == order.order_id,
                    OrderEvent.type == "return_status_changed",
                )
                .order_by(OrderEvent.id)
            )
        ]
        assert changes == [
            ("expected", "received"),
            ("received", "inspected"),
            ("inspected", "closed"),
        ]
    # Not every shipped unit came back (PLATE missing): the order stays shipped.
    r = operator_client.get(f"/v1/returns/{code}")
    assert r.json()["order_number"] == order.number
    r = operator_client.get("/v1/returns", params={"status": "closed"})
    assert [x["code"] for x in r.json()] == [code]


def test_a_restocked_unit_serves_a_backorder(
    operator_client: TestClient,
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"PLATE": 3})
    waiting = ingest(normalised({"PLATE": 1}))
    assert waiting.status == "backorder"
    r = operator_client.post(
        "/v1/returns",
        json={"order": order.number, "lines": [{"sku": "PLATE", "quantity": 1}], "reason": "x"},
    )
    code = r.json()["code"]
    r = operator_client.post(
        f"/v1/returns/{code}/units", json={"sku": "PLATE", "disposition": "restock"}
    )
    assert r.status_code == 200, r.text
    r = operator_client.get(f"/v1/orders/{waiting.order_id}")
    assert r.json()["status"] == "confirmed"
    assert _stock(stocked, "PLATE") == (1, 1)
