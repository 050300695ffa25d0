"""Applying pulls and snapshots; the pending-work rule; lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from sync.protocol import Change, LeaseInfo, MutationResult, PullResponse
from sync.replica import Replica, holdings_checksum
from tests.unit.sync.conftest import scan
from tests.unit.sync.fake_service import order_data


def page(
    cursor: int, *changes: tuple[str, int, dict[str, Any] | None], snapshot: bool = False
) -> PullResponse:
    return PullResponse(
        cursor=cursor,
        changes=[
            Change(seq=cursor - len(changes) + i + 1, entity=e, entity_id=i_, data=d)
            for i, (e, i_, d) in enumerate(changes)
        ],
        more=False,
        last_mutation_id=0,
        snapshot=snapshot,
    )


PRODUCT = {
    "id": 9,
    "sku": "mug-1",
    "name": "Mug",
    "gtins": ["04006381333931"],
    "aliases": ["sup-77"],
}


def test_pull_applies_changes_and_cursor(replica: Replica) -> None:
    replica.apply_pull(
        page(
            4,
            ("order", 1, order_data(1, tote="T-7")),
            ("product", 9, PRODUCT),
            (
                "user",
                3,
                {"id": 3, "name": "Ann", "role": "packer", "badge": "B-3", "pin_hash": "h"},
            ),
            ("batch", 2, {"id": 2, "code": "B2", "name": "DHL", "status": "open", "station_id": 1}),
        )
    )
    assert replica.pull_cursor() == 4
    assert replica.order_by_code("ord-100001").id == 1
    assert replica.order_by_code(" t-7 ").id == 1
    assert replica.order_by_code("nothing") is None
    assert replica.product_by_sku("MUG-1").id == 9
    assert replica.product_by_gtin14("04006381333931").id == 9
    assert replica.product_by_alias("SUP-77").id == 9
    assert [u.pin_hash for u in replica.users_by_badge("B-3")] == ["h"]
    assert [b.code for b in replica.batches_for_station(1)] == ["B2"]


def test_order_statuses_of_many_orders_in_one_lookup(replica: Replica) -> None:
    packed = {**order_data(2), "status": "packed"}
    replica.apply_pull(page(2, ("order", 1, order_data(1)), ("order", 2, packed)))
    assert replica.order_statuses([1, 2, 2, 99]) == {1: "picking", 2: "packed"}
    assert replica.order_statuses([]) == {}


def test_order_number_wins_over_a_tote_with_the_same_code(replica: Replica) -> None:
    clash = order_data(2, tote="ORD-100001")
    replica.apply_pull(page(2, ("order", 2, clash), ("order", 1, order_data(1))))
    assert replica.order_by_code("ORD-100001").id == 1


def test_removal_and_newest_version_in_a_page(replica: Replica) -> None:
    replica.apply_pull(page(2, ("order", 1, order_data(1)), ("order", 1, order_data(1, version=2))))
    assert replica.order_by_id(1).version == 2
    replica.apply_pull(page(3, ("order", 1, None)))
    assert replica.order_by_id(1) is None


def test_product_changes_replace_gtins_and_aliases(replica: Replica) -> None:
    replica.apply_pull(page(1, ("product", 9, PRODUCT)))
    replica.apply_pull(page(2, ("product", 9, {**PRODUCT, "gtins": [], "aliases": ["NEW"]})))
    assert replica.product_by_gtin14("04006381333931") is None
    assert replica.product_by_alias("sup-77") is None
    assert replica.product_by_alias("new").id == 9


def test_labels_for_order(replica: Replica) -> None:
    label = {
        "id": 5,
        "order_id": 1,
        "parcel_no": 1,
        "carrier": "dhl",
        "tracking_number": "JJD1",
        "format": "zpl",
        "content_b64": "Xlg=",
        "weight_min_grams": 100,
        "weight_max_grams": 900,
        "status": "ready",
    }
    replica.apply_pull(page(1, ("label", 5, label)))
    assert [x.tracking_number for x in replica.labels_for_order(1)] == ["JJD1"]


def test_order_with_pending_work_keeps_its_row_until_acknowledged(replica: Replica) -> None:
    replica.apply_pull(page(1, ("order", 1, order_data(1, version=1))))
    replica.record([scan(1)])
    held = replica.apply_pull(
        page(2, ("order", 1, {**order_data(1, version=2), "status": "cancelled"}))
    )
    assert held == 1
    assert replica.order_by_id(1).status == "picking"  # the station keeps working from its row
    assert replica.pull_cursor() == 2  # the cursor still moves: the change is parked, not lost
    replica.ack(1, [MutationResult(id=1, status="applied")])
    order = replica.order_by_id(1)
    assert (order.status, order.version) == ("cancelled", 2)
    assert replica.held_count() == 0


def test_held_removal_applies_after_ack(replica: Replica) -> None:
    replica.apply_pull(page(1, ("order", 1, order_data(1))))
    replica.record([scan(1)])
    replica.apply_pull(page(2, ("order", 1, None)))
    assert replica.order_by_id(1) is not None
    replica.ack(1)
    assert replica.order_by_id(1) is None


def test_snapshot_replaces_everything_but_pending_orders(replica: Replica) -> None:
    replica.apply_pull(
        page(3, ("order", 1, order_data(1)), ("order", 2, order_data(2)), ("product", 9, PRODUCT))
    )
    replica.record([scan(2)])
    replica.apply_snapshot([page(10, ("order", 3, order_data(3)), snapshot=True)])
    assert replica.order_by_id(1) is None  # gone from the service's view
    assert replica.order_by_id(2) is not None  # pending work: kept, removal held
    assert replica.order_by_id(3) is not None
    assert replica.product_by_sku("mug-1") is None
    assert replica.pull_cursor() == 10
    replica.ack(1)
    assert replica.order_by_id(2) is None


def test_paged_snapshot_keeps_what_the_station_holds_until_it_ends(replica: Replica) -> None:
    replica.apply_pull(
        page(3, ("order", 1, order_data(1)), ("order", 2, order_data(2)), ("product", 9, PRODUCT))
    )
    replica.record([scan(2)])
    replica.apply_snapshot_page(page(10, ("order", 3, order_data(3)), snapshot=True))
    # Mid-snapshot: the new page is in, nothing was dropped, the cursor has not moved.
    assert replica.order_by_id(1) is not None and replica.order_by_id(3) is not None
    assert replica.product_by_sku("mug-1") is not None
    assert replica.pull_cursor() == 3
    replica.apply_snapshot_page(page(10, ("order", 4, order_data(4)), snapshot=True))
    held = replica.finish_snapshot({"order": {3, 4}}, 10)
    assert held == 1  # order 2 has pending work: its removal waits for the acknowledgement
    assert replica.order_by_id(1) is None  # no page listed it: it left the station's view
    assert replica.order_by_id(2) is not None
    assert {replica.order_by_id(3).id, replica.order_by_id(4).id} == {3, 4}
    assert replica.product_by_sku("mug-1") is None
    assert replica.pull_cursor() == 10
    replica.ack(1)
    assert replica.order_by_id(2) is None


def test_leases_are_written_even_with_pending_work(replica: Replica) -> None:
    replica.apply_pull(page(1, ("order", 1, order_data(1))))
    replica.record([scan(1)])
    expires = datetime.now(UTC) + timedelta(minutes=5)
    lease = LeaseInfo(order_id=1, station_id=1, station_name="b1", epoch=4, expires_at=expires)
    assert replica.apply_leases([lease, lease.model_copy(update={"order_id": 99})]) == 1
    assert replica.order_by_id(1).lease.epoch == 4


def test_holdings_checksum_is_count_and_sorted_pairs(replica: Replica) -> None:
    replica.apply_pull(page(2, ("order", 2, order_data(2, version=3)), ("order", 1, order_data(1))))
    assert replica.holdings() == (2, holdings_checksum([(1, 1), (2, 3)]))
    import hashlib

    assert holdings_checksum([(2, 3), (1, 1)]) == hashlib.sha256(b"1:1\n2:3").hexdigest()


def test_lookup_by_any_code_is_one_indexed_search_with_100k_orders(tmp_path: Path) -> None:
    """The scan path's lookup stays fast at 100k cached orders because it is one SELECT that
    SQLite answers from the number and tote indexes, never a scan of the table. (Its time is
    measured by bench/scan_latency.py, not here.)"""
    with Replica.open(tmp_path / "big.sqlite3") as r:
        # Filled directly (100k pulls would test the pull path, not lookups): one valid
        # document shape, numbered per row.
        template = order_json(order_data(0, tote="T000000")).replace("ORD-100000", "{n}")
        template = template.replace('"tote":"T000000"', '"tote":"{t}"').replace(
            '"id":0', '"id":{i}'
        )
        rows = []
        for i in range(1, 100_001):
            n, tote = f"ORD-{100000 + i}", f"T{i:06d}"
            rows.append(
                (i, n, tote, template.replace("{n}", n).replace("{t}", tote).replace("{i}", str(i)))
            )
        with r._engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO orders (id, number_key, tote_key, status, version, data)"
                " VALUES (?, ?, ?, 'picking', 1, ?)",
                rows,
            )
        codes = [f"ORD-{100000 + i}" for i in range(1, 100_001, 997)] + [
            f"T{i:06d}" for i in range(5, 100_001, 991)
        ]
        selects: list[tuple[str, Any]] = []

        def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                selects.append((statement, params))

        found = {}
        event.listen(r._engine, "before_cursor_execute", seen)
        try:
            for code in codes:
                before = len(selects)
                order = r.order_by_code(code)
                assert order is not None, code
                found[code] = order
                assert len(selects) - before == 1, selects[before:]
        finally:
            event.remove(r._engine, "before_cursor_execute", seen)
        assert found["ORD-101995"].number == "ORD-101995"
        assert found["T000996"].tote == "T000996"
        with r._engine.connect() as conn:
            for statement, params in {(st, tuple(p)) for st, p in selects}:
                plan = [
                    row[-1]
                    for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
                ]
                on_orders = [step for step in plan if " orders " in f" {step} "]
                assert on_orders, plan
                assert all(step.startswith("SEARCH orders USING") for step in on_orders), plan


def order_json(d: dict[str, Any]) -> str:
    from sync.protocol import OrderSnapshot

    return OrderSnapshot.model_validate(d).model_dump_json()
