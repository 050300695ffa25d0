"""Console operations: batches by station name, channel mapping, the day close, dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.lifecycle import OrderStatus, transition
from service.models import Batch, Channel, Label, OfficeAudit, Order, Parcel
from sync import clock
from tests.integration.console.conftest import Floor, sign_in
from tests.support import factories

T0 = datetime(2031, 5, 6, 14, 0, tzinfo=UTC)


def test_batches_are_made_and_assigned_to_a_station_by_name(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        factories.station(s, "bench-07")
    csrf = sign_in(app_client, "operator")
    r = app_client.post("/console/batches", data={"csrf": csrf, "items": "any", "max_orders": "10"})
    assert r.status_code == 200 and "1 batch made." in r.text
    with sessions() as s:
        batch = s.scalar(select(Batch))
        assert batch is not None and batch.created_by == "office:operator@example.com"
    r = app_client.post(
        f"/console/batches/{batch.id}/assign", data={"csrf": csrf, "station": "bench-99"}
    )
    assert r.status_code == 404 and "No station named &#39;bench-99&#39;" in r.text
    r = app_client.post(
        f"/console/batches/{batch.id}/assign", data={"csrf": csrf, "station": "bench-07"}
    )
    assert r.status_code == 200 and "bench-07" in r.text
    with sessions() as s:
        assigned = s.get(Batch, batch.id)
        assert assigned is not None and assigned.status == "assigned"
        actions = [a.action for a in s.scalars(select(OfficeAudit).order_by(OfficeAudit.id))]
        assert actions[-2:] == ["batch_create", "batch_assign"]
    bad = app_client.post("/console/batches", data={"csrf": csrf, "items": "lots"})
    assert bad.status_code == 422 and "Unknown item mix" in bad.text


def test_an_admin_maps_a_shipping_method(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(app_client, "admin")
    r = app_client.post(
        "/console/channels/test-shop/shipping",
        data={"csrf": csrf, "method": "DHL Express", "carrier": "nope"},
    )
    assert r.status_code == 422 and "No carrier adapter" in r.text
    r = app_client.post(
        "/console/channels/test-shop/shipping",
        data={"csrf": csrf, "method": "DHL Express", "carrier": "house", "priority": "2"},
    )
    assert r.status_code == 200 and "Mapping saved" in r.text and "DHL Express" in r.text
    with sessions() as s:
        channel = s.scalar(select(Channel).where(Channel.name == "test-shop"))
        assert channel is not None
        assert channel.settings["shipping_methods"]["DHL Express"]["carrier"] == "house"


def test_closing_a_carriers_day_ships_and_the_manifest_downloads(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        packed = factories.order(s, status="packed", carrier="house")
        s.add(
            Parcel(
                order_id=packed.id,
                box_no=1,
                status="closed",
                weight_grams=800,
                tracking_number="HOUSE42",
            )
        )
        s.add(
            Label(
                order_id=packed.id,
                carrier="house",
                tracking_number="HOUSE42",
                format="zpl",
                content=b"^XA^XZ",
                weight_min_grams=0,
                weight_max_grams=1000,
            )
        )
        unlabelled = factories.order(s, status="packed", carrier="house")
        packed_id, unlabelled_number = packed.id, unlabelled.number
    csrf = sign_in(app_client, "admin")
    r = app_client.post("/console/dispatch/house/close", data={"csrf": csrf, "reason": "17:00 van"})
    assert r.status_code == 200
    assert f"{unlabelled_number}: no tracking number" in r.text
    link = r.text.split('href="/console/manifests/')[1].split('"')[0]
    csv = app_client.get(f"/console/manifests/{link}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().splitlines()
    assert len(rows) == 2 and rows[1].startswith("ORD-") and "HOUSE42" in rows[1]
    with sessions() as s:
        shipped = s.get(Order, packed_id)
        assert shipped is not None and shipped.status == "shipped"
        audit = s.scalar(select(OfficeAudit).where(OfficeAudit.action == "close_day"))
        assert audit is not None and audit.reason == "17:00 van"
        assert audit.actor == "office:admin@example.com"
    assert app_client.get("/console/manifests/nope.csv").status_code == 404
    audit_page = app_client.get("/console/audit")
    assert "close day" in audit_page.text and "17:00 van" in audit_page.text
    assert "office:admin@example.com" in audit_page.text


def test_the_dashboard_counts_today_and_lists_cutoff_risk(
    app_client: TestClient, office: None, sessions: sessionmaker[Session]
) -> None:
    with clock.frozen(T0):
        with sessions() as s, s.begin():
            factories.order(s, status="confirmed", age_hours=20)  # yesterday
            today = factories.order(
                s, status="picking", age_hours=2, cutoff_at=T0 + timedelta(minutes=30)
            )
            late = factories.order(
                s, status="confirmed", age_hours=1, cutoff_at=T0 - timedelta(minutes=5)
            )
            transition(s, today, OrderStatus.PACKED, actor="station:1")
            safe = factories.order(
                s, status="confirmed", age_hours=1, cutoff_at=T0 + timedelta(hours=5)
            )
            numbers = today.number, late.number, safe.number
        sign_in(app_client, "viewer")
        r = app_client.get("/console/")
    assert r.status_code == 200
    assert "2031-05-06 14:00 UTC" in r.text
    row = r.text.split("<td>test-shop</td>")[1].split("</tr>")[0]
    assert "<td>3</td><td>1</td>" in row  # three came in today, one was packed
    risk = r.text.split("At risk")[1]
    assert numbers[1] in risk and numbers[2] not in risk
    assert numbers[0] not in risk  # packed: no longer at risk
    assert 'class="late"' in risk


def test_stations_show_their_last_heartbeat(
    app_client: TestClient, office: None, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        bench = factories.station(s, "bench-03")
        bench.heartbeat = {
            "app_version": "0.9.1",
            "queue_depth": 4,
            "print_queue_depth": 1,
            "devices": {"scale": "ok", "printer": "paper out"},
        }
        factories.station(s, "bench-04")
    sign_in(app_client, "viewer")
    r = app_client.get("/console/stations")
    row = r.text.split("<td>bench-03</td>")[1].split("</tr>")[0]
    assert "0.9.1" in row and "<td>4</td>" in row and "<td>1</td>" in row
    assert "printer: paper out" in row
    assert "not yet" in r.text.split("<td>bench-04</td>")[1].split("</tr>")[0]


def _labelled(s: Session, order: Order, boxes: int = 1) -> None:
    for box in range(1, boxes + 1):
        tracking = f"HOUSE{order.id}X{box}"
        s.add(
            Parcel(
                order_id=order.id,
                box_no=box,
                status="closed",
                weight_grams=800,
                tracking_number=tracking,
            )
        )
        s.add(
            Label(
                order_id=order.id,
                parcel_no=box,
                carrier="house",
                tracking_number=tracking,
                format="zpl",
                content=b"^XA^XZ",
                weight_min_grams=0,
                weight_max_grams=1000,
            )
        )


def test_the_dispatch_page_shows_the_days_cod_per_carrier_and_currency(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    closing = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    with sessions() as s, s.begin():
        for amount, currency, boxes in (
            ("249.90", "RON", 1),
            ("100.10", "RON", 2),
            ("80", "EUR", 1),
        ):
            cod = factories.order(s, status="packed", carrier="house", payment_state="cod")
            cod.total_amount, cod.currency = Decimal(amount), currency
            _labelled(s, cod, boxes)
        _labelled(s, factories.order(s, status="packed", carrier="house"))  # prepaid
    csrf = sign_in(app_client, "admin")
    with clock.frozen(closing):
        r = app_client.post("/console/dispatch/house/close", data={"csrf": csrf})
        assert r.status_code == 200
        today = app_client.get("/console/dispatch")
    assert today.status_code == 200
    assert "Cash on delivery shipped on 2026-12-04 (UTC)" in today.text
    assert "<td>350.00 RON</td><td>2</td>" in today.text  # two RON orders, one total
    assert "<td>80.00 EUR</td><td>1</td>" in today.text  # never added to the lei
    chosen = app_client.get("/console/dispatch", params={"day": "2026-12-04"})
    assert "<td>350.00 RON</td><td>2</td>" in chosen.text
    before = app_client.get("/console/dispatch", params={"day": "2026-12-03"})
    assert "No cash on delivery shipped that day." in before.text
    assert "350.00 RON" not in before.text
    bad = app_client.get("/console/dispatch", params={"day": "4 Dec"})
    assert bad.status_code == 422 and "is not a date; give it as YYYY-MM-DD" in bad.text
    # The manifest the console made lists each COD once (first parcel) and ends with totals.
    link = r.text.split('href="/console/manifests/')[1].split('"')[0]
    rows = list(csv.reader(io.StringIO(app_client.get(f"/console/manifests/{link}").text)))
    assert sorted(row[-2] for row in rows[1:] if row[0].startswith("ORD-")) == [
        "",
        "",
        "100.10",
        "249.90",
        "80.00",
    ]
    assert [(row[-2], row[-1]) for row in rows if row[0] == "COD total"] == [
        ("80.00", "EUR"),
        ("350.00", "RON"),
    ]


def test_an_order_that_missed_its_batch_is_added_to_an_open_one(
    app_client: TestClient, floor: Floor, sessions: sessionmaker[Session]
) -> None:
    from service.changes import number_pending
    from service.models import ChangeRow, OrderEvent

    with sessions() as s, s.begin():
        factories.order(s, status="confirmed", carrier="house", service="standard")
    csrf = sign_in(app_client, "operator")
    r = app_client.post("/console/batches", data={"csrf": csrf, "items": "any", "max_orders": "50"})
    assert r.status_code == 200
    with sessions() as s, s.begin():
        batch = s.scalar(select(Batch).where(Batch.carrier == "house"))
        assert batch is not None
        code = batch.code
        # Orders that arrive (or are released) after the batch was made.
        late = factories.order(s, status="confirmed", carrier="house", service="standard")
        other_carrier = factories.order(s, status="confirmed", carrier="gls", service="standard")
        on_hold = factories.order(s, status="on_hold", carrier="house", service="standard")
        late_id, ids = late.id, (0, other_carrier.id, on_hold.id)
    page = app_client.get(f"/console/orders/{late_id}")
    assert page.status_code == 200 and "Add to batch" in page.text and code in page.text

    def add(order_id: int, batch_code: str, version: int) -> object:
        return app_client.post(
            f"/console/orders/{order_id}/batch",
            data={
                "csrf": csrf,
                "reason": "missed the 10:00 batch",
                "version": str(version),
                "seen_event": "0",
                "batch": batch_code,
            },
            follow_redirects=True,
        )

    with sessions() as s:
        version = s.get_one(Order, late_id).version
    stale = add(late_id, code, version - 1)  # someone changed the order since the page loaded
    assert stale.status_code == 409  # type: ignore[attr-defined]
    unknown = add(late_id, "B-19990101-001", version)
    assert unknown.status_code == 404 and "No batch" in unknown.text  # type: ignore[attr-defined]
    with sessions() as s:
        assert s.get_one(Order, late_id).batch_id is None  # refusals changed nothing
        v_other = s.get_one(Order, ids[1]).version
        v_held = s.get_one(Order, ids[2]).version
    wrong = add(ids[1], code, v_other)
    assert wrong.status_code == 409 and "Pick a batch of its carrier" in wrong.text  # type: ignore[attr-defined]
    held = add(ids[2], code, v_held)
    assert held.status_code == 409 and "release its hold first" in held.text  # type: ignore[attr-defined]

    with sessions() as s, s.begin():
        number_pending(s)
        head = s.scalar(select(ChangeRow.seq).order_by(ChangeRow.seq.desc()).limit(1)) or 0
    done = add(late_id, code, version)
    assert done.status_code == 200 and "The order is in the batch" in done.text  # type: ignore[attr-defined]
    with sessions() as s, s.begin():
        order = s.get_one(Order, late_id)
        assert order.status == OrderStatus.ALLOCATED.value and order.batch_id == batch.id
        facts = [
            e.payload
            for e in s.scalars(select(OrderEvent).where(OrderEvent.order_id == late_id))
            if e.type == "supervisor_action"
        ]
        assert facts and facts[-1]["action"] == "batch" and facts[-1]["batch"] == code
        assert facts[-1]["reason"] == "missed the 10:00 batch"
        number_pending(s)
        fed = {
            (c.entity, c.entity_id)
            for c in s.scalars(select(ChangeRow).where(ChangeRow.seq > head))
        }
        assert ("order", late_id) in fed  # the batch's station pulls it
    again = add(late_id, code, order.version)
    assert again.status_code == 409 and "already in batch" in again.text  # type: ignore[attr-defined]
