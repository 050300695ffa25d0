"""Closing a carrier's day (CLI and API), roll-up of parcels, and tracking imports."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.api.app import create_app
from service.cli import main
from service.lifecycle import OrderStatus, transition
from service.models import Order, OrderEvent, Parcel
from service.shipping.labels import prepare_labels
from service.shipping.rollup import unpacked_parcels
from service.users import create_token
from tests.integration.carriers.conftest import pack


def _status(sessions: sessionmaker[Session], oid: int) -> str:
    with sessions() as s:
        return s.get_one(Order, oid).status


def test_unpacked_parcels_names_each_box_not_closed_and_labelled(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order(status="picking")
    with sessions() as s, s.begin():
        order = s.get_one(Order, oid)
        prepare_labels(s, [oid])
        assert unpacked_parcels(s, order) == ["no box has been closed"]
        s.add(Parcel(order_id=oid, box_no=1, status="closed", weight_grams=1300, items=[]))
        s.add(Parcel(order_id=oid, box_no=2, status="awaiting_label", items=[]))
        s.flush()
        assert unpacked_parcels(s, order) == ["box 2 is waiting for a new label"]
        assert unpacked_parcels(s, order, boxes=1) == ["box 2 is beyond the 1 reported"]
        assert unpacked_parcels(s, order, boxes=3) == [
            "box 2 is waiting for a new label",
            "box 3 was never closed",
        ]
        parcel1 = s.scalars(select(Parcel).where(Parcel.box_no == 1)).one()
        parcel1.weight_grams = 5000  # the label made ahead is for about 1.3 kg
        parcel2 = s.scalars(select(Parcel).where(Parcel.box_no == 2)).one()
        s.delete(parcel2)
        s.flush()
        assert unpacked_parcels(s, order) == ["box 1 has no label for 5000 g"]
        parcel1.weight_grams = 1300
        assert unpacked_parcels(s, order) == []


def test_close_leaves_orders_with_an_unlabelled_box_or_a_disputed_pack(
    sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    from service.models import OrderException
    from service.shipping.dispatch import close_day

    half, disputed, fine = make_order(), make_order(), make_order()
    for oid in (half, disputed, fine):
        pack(sessions, oid, [1300])
    with sessions() as s, s.begin():
        # A second box of `half` that never got a label; `disputed` has an open exception.
        s.add(Parcel(order_id=half, box_no=2, status="closed", weight_grams=600, items=[]))
        s.add(
            OrderException(
                order_id=disputed, kind="carrier", code="packed_incomplete", message="box 1 ..."
            )
        )
    with sessions() as s, s.begin():
        manifest = close_day(s, "house", actor="test")
        numbers = {s.get_one(Order, o).number: o for o in (half, disputed, fine)}
    by_id = {oid: number for number, oid in numbers.items()}
    assert manifest.shipped_order_ids == [fine]
    assert manifest.skipped == {
        by_id[half]: "no tracking number for box 2",
        by_id[disputed]: "its boxes and labels disagree (see exceptions)",
    }
    assert [_status(sessions, o) for o in (half, disputed, fine)] == ["packed", "packed", "shipped"]


def test_cli_close_ships_packed_orders_with_a_manifest_and_tracking_delivers_them(
    service_db: tuple[str, Engine],
    sessions: sessionmaker[Session],
    make_order: Callable[..., int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, _engine = service_db
    two_boxes, one_box, unlabelled, other = (
        make_order(),
        make_order(),
        make_order(),
        make_order(carrier="sendcloud"),
    )
    numbers = pack(sessions, two_boxes, [1300, 800])
    (single,) = pack(sessions, one_box, [1250])
    with sessions() as s, s.begin():
        for oid in (unlabelled, other):
            order = s.get_one(Order, oid)
            for step in (OrderStatus.PICKING, OrderStatus.PACKED):
                transition(s, order, step, actor="test")

    out = tmp_path / "out"
    out.mkdir()
    args = ["dispatch", "close", "--carrier", "house", "--out", str(out), "--db", url]
    assert main([*args, "--no-publish"]) == 0
    printed = capsys.readouterr().out
    assert "2 order(s), 3 parcel(s) shipped" in printed and "Left packed: ORD-" in printed
    (csv_file,) = out.glob("manifest-house-*.csv")
    (pdf_file,) = out.glob("manifest-house-*.pdf")
    assert pdf_file.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert sorted(r["tracking_number"] for r in rows) == sorted([*numbers, single])
    assert {r["weight_grams"] for r in rows} == {"1300", "800", "1250"}
    assert [_status(sessions, o) for o in (two_boxes, one_box, unlabelled, other)] == [
        "shipped",
        "shipped",
        "packed",  # no label, no tracking number: never ships
        "packed",  # another carrier's day
    ]
    with sessions() as s:
        event = s.scalars(
            select(OrderEvent).where(
                OrderEvent.order_id == two_boxes, OrderEvent.to_status == "shipped"
            )
        ).one()
        assert sorted(event.payload["tracking_numbers"]) == sorted(numbers)

    # A malformed CSV: every bad line named, nothing imported.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "tracking_number,status,at\n"
        f"{numbers[0]},delivered,2026-11-30T10:00:00Z\n"
        f"{numbers[1]},teleported,2026-11-30T10:00:00Z\n"
        f"{single},delivered,yesterday\n"
        "PBX99999999999,delivered,2026-11-30T10:00:00\n"
    )
    assert main(["tracking", "import", str(bad), "--db", url]) == 1
    err = capsys.readouterr().err
    assert "line 3: status 'teleported'" in err and "line 4: at 'yesterday'" in err
    assert "line 5: at '2026-11-30T10:00:00' has no time zone" in err
    with sessions() as s:
        assert not s.scalar(select(func.count()).where(OrderEvent.type == "tracking_event"))
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("tracking_number,status,at\nPBX99999999999,delivered,2026-11-30T10:00Z\n")
    assert main(["tracking", "import", str(unknown), "--db", url]) == 1
    assert "line 2: unknown tracking number PBX99999999999" in capsys.readouterr().err

    good = tmp_path / "good.csv"
    good.write_text(
        "tracking_number,status,at,message,location\n"
        f"{numbers[0]},in_transit,2026-11-30T08:00:00Z,Sorted,Hub\n"
        f"{numbers[0]},delivered,2026-11-30T12:00:00+01:00,Delivered,\n"
        f"{single},delivered,2026-11-30T12:30:00Z,Delivered,\n"
    )
    assert main(["tracking", "import", str(good), "--db", url]) == 0
    assert "Imported 3 event(s) (0 already known); 1 order(s) delivered" in capsys.readouterr().out
    # Only one of its two parcels arrived: still shipped.
    assert _status(sessions, two_boxes) == "shipped"
    assert _status(sessions, one_box) == "delivered"
    last = tmp_path / "last.csv"
    last.write_text(
        "tracking_number,status,at\n"
        f"{numbers[0]},delivered,2026-11-30T12:00:00+01:00\n"
        f"{numbers[1]},delivered,2026-11-30T13:00:00Z\n"
    )
    assert main(["tracking", "import", str(last), "--db", url]) == 0
    assert "(1 already known); 1 order(s) delivered" in capsys.readouterr().out
    assert _status(sessions, two_boxes) == "delivered"


def test_api_close_needs_an_admin_and_answers_the_manifest(
    service_engine: Engine, sessions: sessionmaker[Session], make_order: Callable[..., int]
) -> None:
    oid = make_order()
    (number,) = pack(sessions, oid, [1300])
    lei = make_order(payment_state="cod", total_amount=Decimal("249.90"), currency="RON")
    pack(sessions, lei, [900])
    with sessions() as s, s.begin():
        _row, token = create_token(s, role="admin", name="boss")
        _row, operator = create_token(s, role="operator", name="ops")
    with TestClient(create_app(service_engine)) as client:
        assert client.post("/v1/dispatch/house/close").status_code == 401
        r = client.post("/v1/dispatch/house/close", headers={"Authorization": f"Bearer {operator}"})
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")  # nothing shipped
        headers = {"Authorization": f"Bearer {token}"}
        r = client.post("/v1/dispatch/nosuch/close", headers=headers)
        assert r.status_code == 404
        r = client.post("/v1/dispatch/house/close", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["orders"], body["parcels"]) == (2, 2)
        assert body["cod_totals"] == {"RON": "249.90"}  # the prepaid order adds nothing
        assert number in body["csv"] and "COD total" in body["csv"]
        assert base64.b64decode(body["pdf_base64"]).startswith(b"%PDF")
        again = client.post("/v1/dispatch/house/close", headers=headers).json()
        assert again["orders"] == 0  # already shipped: never on two manifests
        r = client.post(
            "/v1/tracking/import",
            content="tracking_number,status,at\nX,delivered,soon\n",
            headers=headers,
        )
        assert r.status_code == 422 and "line 2" in r.json()["message"]
    assert _status(sessions, oid) == "shipped"
