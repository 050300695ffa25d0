"""The station's ports over a real replica file: what the pack session gets from the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.packing.events import PackEvent
from app.station.replica_store import ReplicaStore
from sync.protocol import (
    AddressSnapshot,
    BatchSnapshot,
    Change,
    LeaseInfo,
    MutationType,
    OrderLineSnapshot,
    OrderSnapshot,
    ProductSnapshot,
    PullResponse,
    ScanOutcome,
    ScanRecorded,
    UserSnapshot,
)
from sync.replica import Replica

STATION = 4


def _change(seq: int, entity: str, entity_id: int, data: object) -> Change:
    return Change(
        seq=seq,
        entity=entity,
        entity_id=entity_id,  # type: ignore[arg-type]
        data=data.model_dump(mode="json"),
    )  # type: ignore[attr-defined]


@pytest.fixture
def store(tmp_path: Path) -> ReplicaStore:
    replica = Replica.open(tmp_path / "station.sqlite3")
    mug = ProductSnapshot(
        id=1,
        sku="MUG-BLU-350",
        name="Blue mug",
        gtins=["04006381333931"],
        aliases=["OLD-MUG"],
        weight_grams=350,
    )
    phones = ProductSnapshot(
        id=2,
        sku="HDP-BT-01",
        name="Headphones",
        weight_grams=250,
        serial_required=True,
        serial_pattern=r"HP-\d{4}-\d{4}",
    )
    lease = LeaseInfo(
        order_id=10,
        station_id=STATION,
        station_name="bench-4",
        epoch=3,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    order = OrderSnapshot(
        id=10,
        number="ORD-100010",
        channel="shop",
        channel_order_id="1010",
        status="allocated",
        priority=2,
        country="NL",
        batch_id=7,
        tote="T-0007",
        carrier="house",
        service="express",
        ship_to=AddressSnapshot(
            name="Ann de Vries",
            street1="Damrak 1",
            postcode="1012 LG",
            city="Amsterdam",
            country="NL",
        ),
        lines=[
            OrderLineSnapshot(
                line_id=100, line_no=1, sku="MUG-BLU-350", name="Blue mug", quantity=2, product_id=1
            ),
            OrderLineSnapshot(
                line_id=101, line_no=2, sku="HDP-BT-01", name="Headphones", quantity=1, product_id=2
            ),
        ],
        lease=lease,
    )
    packed = order.model_copy(
        update={"id": 11, "number": "ORD-100011", "tote": None, "status": "packed", "lease": None}
    )
    batch = BatchSnapshot(
        id=7,
        code="B-1",
        name="Morning express",
        status="assigned",
        station_id=STATION,
        order_ids=[10, 11],
    )
    users = [
        UserSnapshot(id=1, name="Alex", role="packer", badge="BADGE-P001"),
        UserSnapshot(id=2, name="Gone", role="packer", badge="BADGE-P009", active=False),
    ]
    changes = [
        _change(1, "product", 1, mug),
        _change(2, "product", 2, phones),
        _change(3, "order", 10, order),
        _change(4, "order", 11, packed),
        _change(5, "batch", 7, batch),
    ]
    changes += [_change(6 + i, "user", u.id, u) for i, u in enumerate(users)]
    replica.apply_snapshot(
        [PullResponse(cursor=9, changes=changes, more=False, last_mutation_id=0, snapshot=True)]
    )
    yield ReplicaStore(replica, STATION)  # type: ignore[misc]
    replica.close()


def test_order_by_number_or_tote_carries_what_packing_needs(store: ReplicaStore) -> None:
    by_tote = store.order_by_code("t-0007")
    record = store.order_by_code("ORD-100010")
    assert record is not None and by_tote is not None and by_tote.view.id == 10
    assert record.lease is not None and record.lease.epoch == 3
    assert (record.country, record.priority, record.batch_id) == ("NL", 2, 7)
    assert record.ship_to[:2] == ("Ann de Vries", "Damrak 1")
    mug, phones = record.view.lines
    assert (mug.weight_grams, mug.gtins, phones.serial_required) == (350, ("04006381333931",), True)
    assert store.order_by_code("ORD-999999") is None


def test_catalogue_finds_products_by_sku_alias_and_gtin(store: ReplicaStore) -> None:
    assert store.catalog.by_code(" mug-blu-350 ") is not None
    assert store.catalog.by_code("old-mug") is not None
    found = store.catalog.by_gtin14("04006381333931")
    assert found is not None and found.sku == "MUG-BLU-350"
    assert store.catalog.by_code("NOPE") is None


def test_only_active_badges_log_in(store: ReplicaStore) -> None:
    assert store.user_by_badge("BADGE-P001") is not None
    assert store.user_by_badge("BADGE-P009") is None


def test_batches_count_packed_orders(store: ReplicaStore) -> None:
    (batch,) = store.batches()
    assert (batch.code, batch.total, batch.packed, batch.held) == ("B-1", 2, 1, 0)


def test_batch_orders_list_numbers_totes_states_and_units(store: ReplicaStore) -> None:
    rows = store.batch_orders(7)
    assert [(r.number, r.tote, r.status, r.units) for r in rows] == [
        ("ORD-100010", "T-0007", "allocated", 3),
        ("ORD-100011", None, "packed", 3),
    ]
    assert store.batch_orders(99) == []  # not a batch of this station: nothing, no error


def test_recorded_events_are_queued_and_restore_the_order(store: ReplicaStore) -> None:
    event = PackEvent(
        MutationType.SCAN_RECORDED,
        10,
        ScanRecorded(
            code="4006381333931", outcome=ScanOutcome.ACCEPTED, line_id=100, sku="MUG-BLU-350"
        ),
        lease_epoch=3,
    )
    store.record([event])
    assert store.queue_depth() == 1
    assert list(store.order_events(10)) == [event]


def test_serial_pattern_and_code_fragments_come_from_the_cache(store: ReplicaStore) -> None:
    record = store.order_by_code("ORD-100010")
    assert record is not None
    mug, phones = record.view.lines
    assert (mug.serial_pattern, phones.serial_pattern) == (None, r"HP-\d{4}-\d{4}")
    assert store.catalog.code_containing("BT-01") == "HDP-BT-01"
    assert store.catalog.code_containing("d-mu") == "OLD-MUG"  # an alias
    assert store.catalog.code_containing("HDP-BT-01") is None  # the whole code is no piece
    assert store.catalog.code_containing("ZZZ") is None
