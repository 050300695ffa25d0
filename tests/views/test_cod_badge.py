"""Cash on delivery on the pack screen: "Collect 249.90 RON" from the replica's order snapshot,
shown the whole time the order is open; a prepaid order shows nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.i18n import money, render
from app.scanning.classify import classify
from app.station.ports import LeaseRecord
from app.station.replica_store import ReplicaStore
from app.station.runtime import StationRuntime
from app.views.main_window import StationWindow
from sync.protocol import (
    AddressSnapshot,
    Change,
    LeaseInfo,
    OrderLineSnapshot,
    OrderSnapshot,
    ProductSnapshot,
    PullResponse,
    UserSnapshot,
)
from sync.replica import Replica
from tests.support.pseudo import plain
from tests.support.station_fakes import FakeLabels, run_now

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

STATION = 4


class _Claims:
    """The service grants every claim (the lease comes back as the replica holds it)."""

    def claim_order(self, order_id: int) -> LeaseRecord:
        return LeaseRecord(STATION, "bench-4", 3, datetime.now(UTC) + timedelta(minutes=30))

    def claim_batch(self, batch_id: int) -> int:
        return 0


def _order(order_id: int, number: str, cod: Decimal | None, currency: str) -> OrderSnapshot:
    return OrderSnapshot(
        id=order_id,
        number=number,
        channel="shop-ro",
        channel_order_id=str(order_id),
        status="allocated",
        country="RO",
        carrier="cargus",
        ship_to=AddressSnapshot(
            name="Ana Pop",
            street1="Str. Lunga 1",
            postcode="010011",
            city="Bucuresti",
            country="RO",
        ),
        lines=[
            OrderLineSnapshot(
                line_id=order_id * 10,
                line_no=1,
                sku="MUG-BLU-350",
                name="Blue mug",
                quantity=2,
                product_id=1,
            )
        ],
        lease=LeaseInfo(
            order_id=order_id,
            station_id=STATION,
            station_name="bench-4",
            epoch=3,
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
        ),
        cod_amount=cod,
        currency=currency,
    )


def _change(seq: int, entity: str, entity_id: int, data: object) -> Change:
    return Change(
        seq=seq,
        entity=entity,
        entity_id=entity_id,  # type: ignore[arg-type]
        data=data.model_dump(mode="json"),  # type: ignore[attr-defined]
    )


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[StationWindow]:
    replica = Replica.open(tmp_path / "station.sqlite3")
    mug = ProductSnapshot(
        id=1, sku="MUG-BLU-350", name="Blue mug", gtins=["04006381333931"], weight_grams=350
    )
    changes = [
        _change(1, "product", 1, mug),
        _change(2, "order", 10, _order(10, "ORD-100010", Decimal("249.90"), "RON")),
        _change(3, "order", 11, _order(11, "ORD-100011", None, "RON")),
        _change(4, "user", 1, UserSnapshot(id=1, name="Alex", role="packer", badge="BADGE-P001")),
    ]
    replica.apply_snapshot(
        [PullResponse(cursor=5, changes=changes, more=False, last_mutation_id=0, snapshot=True)]
    )
    store = ReplicaStore(replica, STATION)
    runtime = StationRuntime(store, _Claims(), FakeLabels(), run_now, lambda _m: None)
    win = StationWindow(runtime, "bench-4", store.batches)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.on_scan(classify(b"BADGE-P001"))
    yield win
    replica.close()


def test_a_cod_order_shows_what_to_collect_the_whole_time_it_is_open(
    window: StationWindow,
) -> None:
    window.on_scan(classify(b"ORD-100010"))
    badge = window.pack.cod
    assert window.pack.number.text() == "ORD-100010"
    assert badge.isVisible()
    # the snapshot's amount and currency, formatted for the reader (a no-break space)
    assert plain(badge.text()) == f"Collect {render(money(Decimal('249.90'), 'RON'))}"
    window.on_scan(classify(b"4006381333931"))  # still there after a scan
    assert (
        badge.isVisible()
        and plain(badge.text()) == f"Collect {render(money(Decimal('249.90'), 'RON'))}"
    )
    window.on_scan(classify(b"ZZZ-UNKNOWN-1"))  # and after a wrong scan turned the banner red
    assert (
        badge.isVisible()
        and plain(badge.text()) == f"Collect {render(money(Decimal('249.90'), 'RON'))}"
    )


def test_a_prepaid_order_shows_no_collect_badge(window: StationWindow) -> None:
    window.on_scan(classify(b"ORD-100011"))
    assert window.pack.number.text() == "ORD-100011"
    assert not window.pack.cod.isVisible()
    assert window.pack.cod.text() == ""
