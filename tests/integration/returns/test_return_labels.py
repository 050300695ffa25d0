"""House-carrier return labels: the installed CLI and the operator API issue one for a shipped
order (its own tracking number, customer -> warehouse, PDF and ZPL), refuse what must be
refused with nothing recorded, and the bench finds the order by the label's number."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from service.carriers.numbers import is_valid_tracking
from service.ingest.rows import IngestResult
from service.lifecycle import OrderStatus, transition
from service.models import Label, Order, OrderEvent, Return
from tests.integration.stock.conftest import normalised
from tests.integration.stock.test_stock_cli import _cli
from tests.integration.sync_server.conftest import enroll_station
from tests.support.service_process import child_env
from tests.unit.printing.helpers import decoded, pdf_pages


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        return str(document[0].get_textpage().get_text_range())
    finally:
        document.close()


def _check_label(pdf: bytes, zpl: bytes, tracking: str, number: str) -> None:
    """Decoded: the barcode is the tracking number; FROM is the customer, TO the warehouse."""
    (page,) = pdf_pages(pdf)
    assert tracking in decoded(page)
    text = _pdf_text(pdf)
    frm, to = text.index("FROM:"), text.index("TO:")
    assert frm < text.index("Ada Lovelace") < text.index("Damrak 1") < to
    assert to < text.index("Packbench Warehouse") < text.index("Dock 1")
    assert "NL-10 RETURN" in text and f"Order: {number}" in text
    body = zpl.decode()
    assert f"^FD{tracking}^FS" in body
    assert body.index("Damrak 1") < body.index("TO:") < body.index("Dock 1")


def _cancelled(sessions: sessionmaker[Session], ingest: Callable[..., IngestResult]) -> str:
    result = ingest(normalised({"MUG": 1}))
    with sessions() as s, s.begin():
        order = s.scalar(
            select(Order).options(lazyload(Order.channel)).where(Order.id == result.order_id)
        )
        assert order is not None
        transition(s, order, OrderStatus.CANCELLED, actor="test")
    return str(result.number)


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Label)) or 0,
            s.scalar(select(func.count()).select_from(Return)) or 0,
            s.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .where(OrderEvent.type == "return_label_issued")
            )
            or 0,
        )


def test_the_cli_issues_a_return_label_once_and_again_only_when_asked(
    service_db: tuple[str, Engine],
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
    tmp_path: Path,
) -> None:
    url = service_db[0]
    env = child_env(tmp_path / "keyring.json")
    order = shipped({"MUG": 2, "PLATE": 1}, tracking="JJD0011223344")
    number = str(order.number)
    out = tmp_path / "label.pdf"
    r = _cli(env, "return", "label", "--db", url, number, "--out", str(out))
    assert r.returncode == 0, r.stderr
    first = r.stdout.split()[2]
    assert is_valid_tracking(first)
    assert r.stdout.strip() == (
        f"return label {first} for {number} (RMA-"
        + r.stdout.split("(RMA-")[1].split(")")[0]
        + f"): {out} and {out.with_suffix('.zpl')}"
    )
    code = r.stdout.split("(")[1].split(")")[0]
    _check_label(out.read_bytes(), out.with_suffix(".zpl").read_bytes(), first, number)

    # The return it made announces every shipped unit.
    r = _cli(env, "return", "show", "--db", url, code)
    assert r.returncode == 0, r.stderr
    assert "expected 2 x MUG" in r.stdout and "expected 1 x PLATE" in r.stdout
    assert r.stdout.startswith(f"{code}  order {number}  expected  (operator)")

    before = _counts(stocked)
    r = _cli(env, "return", "label", "--db", url, number, "--out", str(tmp_path / "x.pdf"))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"packbench-service: error: Order {number} already has return label {first} "
        f"({code}); use --again to void it and issue a new one."
    )
    assert _counts(stocked) == before and not (tmp_path / "x.pdf").exists()

    again = tmp_path / "again.pdf"
    r = _cli(env, "return", "label", "--db", url, number, "--rma", code, "--again",
             "--out", str(again))  # fmt: skip
    assert r.returncode == 0, r.stderr
    second = r.stdout.split()[2]
    assert second != first and f"replaced {first}: that label is void" in r.stdout
    _check_label(again.read_bytes(), again.with_suffix(".zpl").read_bytes(), second, number)

    refusals = {
        str(ingest(normalised({"MUG": 1})).number): "was never shipped (it is confirmed); "
        "a return label is issued only for a shipped order.",
        _cancelled(stocked, ingest): "is cancelled; it gets no return label.",
        "ORD-999999": "No order ORD-999999.",
    }
    before = _counts(stocked)
    for bad, message in refusals.items():
        r = _cli(env, "return", "label", "--db", url, bad, "--out", str(tmp_path / "bad.pdf"))
        assert r.returncode == 1, r.stdout
        assert message in r.stderr and "Traceback" not in r.stderr
    r = _cli(env, "return", "label", "--db", url, number, "--rma", "RMA-999999", "--again")
    assert r.returncode == 1 and f"There is no return RMA-999999 for order {number}." in r.stderr
    assert _counts(stocked) == before and not (tmp_path / "bad.pdf").exists()

    with stocked() as s:
        events = s.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order.order_id, OrderEvent.type == "return_label_issued")
            .order_by(OrderEvent.id)
        ).all()
        assert [(e.actor, e.payload["tracking_number"], e.payload["replaced"]) for e in events] == [
            ("cli:return", first, []),
            ("cli:return", second, [first]),
        ]
        assert all(e.at is not None for e in events)
        labels = s.scalars(
            select(Label).where(Label.order_id == order.order_id).order_by(Label.id)
        ).all()
        assert [(lb.tracking_number, lb.format, lb.status) for lb in labels] == [
            (first, "pdf", "cancelled"),
            (first, "zpl", "cancelled"),
            (second, "pdf", "return"),
            (second, "zpl", "return"),
        ]
        assert s.scalar(select(func.count()).select_from(Return)) == 1


def test_the_api_returns_the_label_and_the_bench_finds_the_return_by_its_number(
    operator_client: TestClient,
    service_engine: Engine,
    stocked: sessionmaker[Session],
    ingest: Callable[..., IngestResult],
    shipped: Callable[..., IngestResult],
) -> None:
    order = shipped({"MUG": 2, "PLATE": 1})
    number = str(order.number)
    created = operator_client.post(
        "/v1/returns",
        json={"order": number, "lines": [{"sku": "MUG", "quantity": 1}], "reason": "too big"},
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]

    r = operator_client.post("/v1/returns/labels", json={"order": number, "rma": code})
    assert r.status_code == 201, r.text
    body = r.json()
    tracking = body["tracking_number"]
    assert (body["order_number"], body["return_code"], body["replaced"]) == (number, code, [])
    pdf = base64.b64decode(body["pdf_base64"])
    _check_label(pdf, body["zpl"].encode(), tracking, number)
    assert body["label_url"] == f"/v1/returns/{code}/label?format=pdf"

    got = operator_client.get(body["label_url"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content == pdf
    assert f'filename="return-label-{number}.pdf"' in got.headers["content-disposition"]
    zpl = operator_client.get(f"/v1/returns/{number}/label", params={"format": "zpl"})
    assert zpl.status_code == 200 and zpl.text == body["zpl"]

    refused = [
        ({"order": number}, 409, f"Order {number} already has return label {tracking} ({code})"),
        (
            {"order": str(ingest(normalised({"MUG": 1})).number)},
            409,
            "a return label is issued only for a shipped order.",
        ),
        ({"order": _cancelled(stocked, ingest)}, 409, "is cancelled; it gets no return label."),
        ({"order": "ORD-999999"}, 404, "No order ORD-999999."),
    ]
    before = _counts(stocked)
    for payload, status, message in refused:
        r = operator_client.post("/v1/returns/labels", json=payload)
        assert r.status_code == status, r.text
        assert message in r.json()["message"]
    assert _counts(stocked) == before
    assert operator_client.get("/v1/returns/RMA-999999/label").status_code == 404

    # The returns bench scans the label's number: the order and this return.
    client = TestClient(operator_client.app)
    station = enroll_station(client, stocked, "returns-bench")
    look = client.get("/v1/returns/lookup", params={"code": tracking}, headers=station.headers)
    assert look.status_code == 200, look.text
    info = look.json()
    assert (info["order_number"], info["return_code"]) == (number, code)
    assert [(li["sku"], li["expected"]) for li in info["lines"]] == [("MUG", 1), ("PLATE", 0)]
    assert "applied_through" not in info  # only for a station that asks for it
    asked = client.get(
        "/v1/returns/lookup", params={"code": tracking, "applied": "1"}, headers=station.headers
    )
    assert asked.status_code == 200 and asked.json()["applied_through"] == 0

    # A replaced label still names the order (the customer may send the old one).
    again = operator_client.post("/v1/returns/labels", json={"order": number, "again": True})
    assert again.status_code == 201 and again.json()["replaced"] == [tracking]
    old = client.get("/v1/returns/lookup", params={"code": tracking}, headers=station.headers)
    assert old.status_code == 200 and old.json()["order_number"] == number
