"""Scan and weight events stay out of the change feed; whatever reads progress still sees it.

A scan_recorded or weight_recorded mutation appends an order event and changes nothing a
station pulls (an order snapshot carries no events), so it writes no change row: the
scanning station does not pull its own order back, nor does any other station. A scan that
moves the order on (confirmed -> picking) and every other mutation still do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import number_changes
from service.db import utcnow
from service.models import ChangeCounter, Order, OrderEvent, Station
from service.supervisor.figures import overview
from tests.integration.sync_server.conftest import StationAuth, claim, mutation, push, scan


def _pull(client: TestClient, st: StationAuth, cursor: int) -> dict[str, Any]:
    r = client.get(f"/v1/sync/pull?cursor={cursor}", headers=st.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert not body["more"]
    return body


def _head(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        number_changes(s)
        return s.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0


def _weight(mid: int, order_id: int, epoch: int) -> dict[str, Any]:
    return mutation(mid, "weight_recorded", order_id, epoch, box_no=1, grams=512, within=True)


def _applied(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    assert [x["status"] for x in results] == ["applied"] * len(results), results
    return results


def test_scans_write_no_change_row_yet_progress_is_read_from_the_events(
    client: TestClient, sessions: sessionmaker[Session], make_station, make_order
) -> None:
    a, b = make_station("A"), make_station("B")
    oid, other = make_order(status="confirmed"), make_order(status="confirmed")
    r = claim(client, a, order_id=oid)
    assert r.status_code == 200, r.text
    epoch = r.json()["leases"][0]["epoch"]
    cursor_a, cursor_b = _pull(client, a, 0)["cursor"], _pull(client, b, 0)["cursor"]

    # The first accepted scan moves the order to picking: that is a change, and A pulls it.
    _applied(push(client, a, scan(1, oid, epoch)))
    page = _pull(client, a, cursor_a)
    assert [(c["entity"], c["entity_id"]) for c in page["changes"]] == [("order", oid)]
    assert page["changes"][0]["data"]["status"] == "picking"
    cursor_a = page["cursor"]
    cursor_b = _pull(client, b, cursor_b)["cursor"]
    with sessions() as s:
        before = s.get(Order, oid)
        assert before is not None
        version, updated_at = before.version, before.updated_at

    # Further scans (accepted or not) and a weight: no change row, nobody pulls anything.
    head = _head(sessions)
    results = _applied(
        push(
            client,
            a,
            scan(2, oid, epoch),
            scan(3, oid, epoch, outcome="not_in_order"),
            scan(4, oid, epoch),
            _weight(5, oid, epoch),
        )
    )
    assert {x["result"]["order_status"] for x in results} == {"picking"}
    assert {x["result"]["order_version"] for x in results} == {version}
    assert _head(sessions) == head
    page_a, page_b = _pull(client, a, cursor_a), _pull(client, b, cursor_b)
    assert (page_a["changes"], page_a["cursor"]) == ([], cursor_a)
    assert (page_b["changes"], page_b["cursor"]) == ([], cursor_b)
    assert page_a["last_mutation_id"] == 5
    with sessions() as s:
        after = s.get(Order, oid)
        assert after is not None
        assert (after.version, after.updated_at) == (version, updated_at)

    # Whoever reads progress reads the events: all of them are there, and the supervisor's
    # overview counts the station's scans (one of them rejected).
    with sessions() as s:
        kinds = s.execute(
            select(OrderEvent.type, func.count())
            .where(OrderEvent.order_id == oid, OrderEvent.station_id == a.id)
            .group_by(OrderEvent.type)
        ).all()
        assert dict(kinds)["scan_recorded"] == 4
        assert dict(kinds)["weight_recorded"] == 1
        now = utcnow()
        figures = overview(s, now, now - timedelta(hours=1))
        station = next(f for f in figures.stations if f.id == a.id)
        assert (station.scans, station.rejected_scans) == (4, 1)
        last_sync = s.scalar(select(Station.last_sync_at).where(Station.id == a.id))
        assert last_sync is not None

    # Anything that changes the order still reaches the feed: an exception puts it on hold.
    _applied(
        push(
            client,
            a,
            mutation(6, "exception_raised", oid, epoch, reason="damaged_item", text="dented"),
        )
    )
    page = _pull(client, a, cursor_a)
    assert [(c["entity"], c["entity_id"], c["data"]["status"]) for c in page["changes"]] == [
        ("order", oid, "on_hold")
    ]
    # B never held the order: the hold reaches it only as the order leaving or entering its
    # view, never as a scan; the other open order did not change at all.
    assert all(c["entity_id"] != other for c in page["changes"])
    assert all(c["entity_id"] != other for c in _pull(client, b, cursor_b)["changes"])
