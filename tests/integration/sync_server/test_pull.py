"""Pull: visibility per station, pagination, snapshots, tombstones, expiry, checksum."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed, number_changes, number_pending
from service.models import ChangeCounter, ChangeRow, Label, Lease, Order, User
from service.sync_server.pull import prune_changes, prune_changes_before
from service.sync_server.visibility import visible_order_ids
from sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    BatchSnapshot,
    LabelSnapshot,
    OrderSnapshot,
    ProductSnapshot,
    PullResponse,
    UserSnapshot,
    holdings_checksum,
)
from tests.integration.sync_server.conftest import StationAuth, claim


def _pull(client: TestClient, st: StationAuth, cursor: int, limit: int = 500) -> Any:
    # As this release's station asks: with its protocol version (older ones: see
    # test_packing_slips.py and test_weight_learning.py).
    headers = {**st.headers, PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    r = client.get(f"/v1/sync/pull?cursor={cursor}&limit={limit}", headers=headers)
    assert r.status_code == 200, r.text
    PullResponse.model_validate(r.json())  # the wire shape is exactly the protocol's
    return r.json()


def _ids(page: dict[str, Any], entity: str) -> set[int]:
    return {c["entity_id"] for c in page["changes"] if c["entity"] == entity and c["data"]}


def _head(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        number_changes(s)
        return s.scalar(select(ChangeCounter.value)) or 0


def _touch(sessions: sessionmaker[Session], *items: tuple[str, int]) -> None:
    """Mark the items changed and number the rows (as the next pull would)."""
    with sessions() as s, s.begin():
        for entity, eid in items:
            mark_changed(s, entity, eid)
    with sessions() as s:
        number_changes(s)


def _floor(sessions, make_station, make_order, make_batch, make_product) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    a, b = make_station("Bench A"), make_station("Bench B")
    batch_a, batch_b = make_batch(a.id), make_batch(b.id)
    f: dict[str, Any] = {
        "a": a,
        "b": b,
        "batch_a": batch_a,
        "batch_b": batch_b,
        "o1": make_order(batch_id=batch_a),
        "o2": make_order(batch_id=batch_a),
        "o3": make_order(batch_id=batch_b),
        "o4": make_order(),
        "o5": make_order(),
        "p1": make_product("APPLE"),
        "p2": make_product("PEAR"),
    }
    with sessions() as s, s.begin():
        users = [
            User(name="All", role="packer", badge="U1", station_ids=None),
            User(name="OnlyA", role="packer", badge="U2", station_ids=[a.id]),
            User(name="OnlyB", role="supervisor", badge="U3", station_ids=[b.id]),
        ]
        s.add_all(users)
        s.flush()
        f["u_all"], f["u_a"], f["u_b"] = (u.id for u in users)
    # What the ingest and operator code does: every write marks its entity changed.
    kinds = {"o": "order", "p": "product", "u": "user"}
    _touch(sessions, *((kinds[k[0]], v) for k, v in f.items() if k[0] in kinds))
    return f


def test_snapshot_shows_exactly_what_the_station_may_see(
    client: TestClient, sessions, make_station, make_order, make_batch, make_product
) -> None:
    f = _floor(sessions, make_station, make_order, make_batch, make_product)
    a: StationAuth = f["a"]
    assert claim(client, a, order_id=f["o4"]).status_code == 200
    page = _pull(client, a, 0)
    assert page["snapshot"] is True and page["more"] is False
    assert page["cursor"] == _head(sessions)
    assert _ids(page, "order") == {f["o1"], f["o2"], f["o4"]}
    assert _ids(page, "batch") == {f["batch_a"]}
    assert _ids(page, "product") == {f["p1"], f["p2"]}
    assert _ids(page, "user") == {f["u_all"], f["u_a"]}
    o4 = next(c["data"] for c in page["changes"] if c["entity_id"] == f["o4"])
    assert o4["lease"]["station_name"] == "Bench A"
    assert [ln["sku"] for ln in o4["lines"]] == ["SKU0", "SKU1"]

    models = {
        "order": OrderSnapshot,
        "product": ProductSnapshot,
        "user": UserSnapshot,
        "batch": BatchSnapshot,
        "label": LabelSnapshot,
    }
    for change in page["changes"]:  # the hand-built dicts are exactly the protocol's models
        model = models[change["entity"]].model_validate(change["data"])
        assert model.model_dump(mode="json") == change["data"]

    checksum = client.get("/v1/sync/checksum", headers=a.headers).json()
    versions = [
        (c["entity_id"], c["data"]["version"]) for c in page["changes"] if c["entity"] == "order"
    ]
    assert checksum == {"order_count": 3, "checksum": holdings_checksum(versions)}


def test_incremental_pull_filters_by_station_and_sends_tombstones(
    client: TestClient, sessions, make_station, make_order, make_batch, make_product
) -> None:
    f = _floor(sessions, make_station, make_order, make_batch, make_product)
    a, b = f["a"], f["b"]
    cursor = _pull(client, a, 0)["cursor"]
    _touch(sessions, ("order", f["o3"]), ("order", f["o5"]), ("order", f["o1"]), ("user", f["u_b"]))
    page = _pull(client, a, cursor)
    # o3 (B's batch) and o5 (nobody's) never concerned A; u_b is not allowed on A.
    assert [(c["entity"], c["entity_id"], c["data"] is None) for c in page["changes"]] == [
        ("order", f["o1"], False),
        ("user", f["u_b"], True),
    ]
    cursor = page["cursor"]
    assert cursor == _head(sessions)

    # A claims o4, then B takes it over after A releases: A gets the order, then a tombstone.
    claim_id = claim(client, a, order_id=f["o4"]).json()["claim_id"]
    page = _pull(client, a, cursor)
    assert _ids(page, "order") == {f["o4"]}
    cursor = page["cursor"]
    assert client.delete(f"/v1/claims/{claim_id}", headers=a.headers).status_code == 204
    assert claim(client, b, order_id=f["o4"]).status_code == 200
    page = _pull(client, a, cursor)
    assert [(c["entity_id"], c["data"]) for c in page["changes"]] == [(f["o4"], None)]
    assert _ids(_pull(client, b, cursor), "order") == {f["o4"]}


def _label(sessions: sessionmaker[Session], order_id: int) -> int:
    with sessions() as s, s.begin():
        label = Label(
            order_id=order_id,
            carrier="DPD",
            tracking_number=f"TRK{order_id}",
            format="zpl",
            content=b"^XA^XZ",
            weight_min_grams=100,
            weight_max_grams=900,
        )
        s.add(label)
        s.flush()
        return label.id


def test_a_burst_of_orders_no_station_sees_is_passed_over_in_one_pull(
    client: TestClient, sessions, make_station, make_order, make_batch, make_product
) -> None:
    """New orders in no batch and under no lease (a flash sale's webhooks) concern no
    station: a pull with a small page reaches the head at once with nothing in it, while
    every row that does concern the station (its batch's orders and their labels, an order
    it last held, a deleted label's tombstone) still arrives, once, in feed order."""
    f = _floor(sessions, make_station, make_order, make_batch, make_product)
    a, b = f["a"], f["b"]
    claim_id = claim(client, a, order_id=f["o4"]).json()["claim_id"]
    assert client.delete(f"/v1/claims/{claim_id}", headers=a.headers).status_code == 204
    label_a, label_b, label_gone = (
        _label(sessions, f["o1"]),
        _label(sessions, f["o3"]),
        _label(sessions, f["o5"]),
    )
    cursor = _pull(client, a, 0)["cursor"]

    burst = [make_order() for _ in range(40)]
    _touch(sessions, *(("order", o) for o in burst))
    page = _pull(client, a, cursor, limit=5)
    assert (page["changes"], page["more"], page["cursor"]) == ([], False, _head(sessions))
    cursor = page["cursor"]

    with sessions() as s, s.begin():
        s.delete(s.get(Label, label_gone))
    _touch(
        sessions,
        *(("order", o) for o in burst[:10]),
        ("label", label_b),
        ("order", f["o4"]),  # A held its lease last: it may still cache it
        ("label", label_a),
        ("order", f["o3"]),
        ("label", label_gone),
        *(("order", o) for o in burst[10:]),
        ("order", f["o2"]),
    )
    page = _pull(client, a, cursor, limit=5)
    assert [(c["entity"], c["entity_id"], c["data"] is None) for c in page["changes"]] == [
        ("order", f["o4"], True),
        ("label", label_a, False),
        ("label", label_gone, True),
        ("order", f["o2"], False),
    ]
    assert (page["more"], page["cursor"]) == (False, _head(sessions))
    b_page = _pull(client, b, cursor, limit=5)
    assert [(c["entity"], c["entity_id"]) for c in b_page["changes"]] == [
        ("label", label_b),
        ("order", f["o3"]),
        ("label", label_gone),
    ]


def test_a_pull_does_not_queue_behind_another_numbering_run(
    client: TestClient, sessions, service_engine, make_station, make_product
) -> None:
    """While one run holds the change counter (another pull numbering), a pull answers at
    once with what is numbered; the rows that run numbers come with the next pull, once."""
    if service_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: no second run can hold the counter")
    st = make_station("A")
    first, second = make_product("FIRST"), make_product("SECOND")
    _touch(sessions, ("product", first))
    cursor = _pull(client, st, 0)["cursor"]
    with sessions() as s, s.begin():
        mark_changed(s, "product", second)
    answered: list[Any] = []
    with sessions() as holder, holder.begin():
        assert number_pending(holder) == 1  # the counter row is locked until this commits
        puller = threading.Thread(target=lambda: answered.append(_pull(client, st, cursor)))
        puller.start()
        puller.join(timeout=20)
        assert not puller.is_alive(), "the pull waited for the other numbering run"
    assert (answered[0]["changes"], answered[0]["cursor"]) == ([], cursor)
    page = _pull(client, st, cursor)
    assert [(c["entity"], c["entity_id"]) for c in page["changes"]] == [("product", second)]
    assert page["cursor"] == cursor + 1 == _head(sessions)
    assert _pull(client, st, page["cursor"])["changes"] == []


def test_pages_follow_the_cursor_without_loss_or_duplicates(
    client: TestClient, sessions, make_station, make_product
) -> None:
    st = make_station("A")
    products = [make_product(f"SKU{i:03d}") for i in range(23)]
    _touch(sessions, *(("product", p) for p in products))
    cursor = _pull(client, st, 0)["cursor"]
    assert cursor == 23
    for pid in products:
        _touch(sessions, ("product", pid))
    _touch(sessions, ("product", products[0]))  # changed again later: sent at its last place
    seen: list[int] = []
    pages = 0
    while True:
        page = _pull(client, st, cursor, limit=5)
        pages += 1
        seen.extend(c["entity_id"] for c in page["changes"])
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert pages >= 5
    assert sorted(seen) == sorted([*products, products[0]])  # page 1 and the last page
    assert seen[-1] == products[0]
    assert cursor == _head(sessions)


def test_cursor_expires_after_pruning(
    client: TestClient, sessions, make_station, make_product
) -> None:
    st = make_station("A")
    pids = [make_product(f"P{i}") for i in range(5)]
    _touch(sessions, *(("product", p) for p in pids))  # seq 1..5
    _touch(sessions, ("product", pids[0]))  # seq 6
    with sessions() as s, s.begin():
        assert prune_changes(s, 4) == 4
    r = client.get("/v1/sync/pull?cursor=2", headers=st.headers)
    assert r.status_code == 409
    assert r.json()["error"] == "cursor_expired"
    assert r.json()["oldest_cursor"] == 4
    assert [c["entity_id"] for c in _pull(client, st, 4)["changes"]] == [pids[4], pids[0]]
    ahead = client.get("/v1/sync/pull?cursor=99", headers=st.headers)
    assert ahead.status_code == 409
    assert "ahead" in ahead.json()["message"]


def _walk(client: TestClient, st: StationAuth, limit: int) -> list[dict[str, Any]]:
    """Every page of a paged snapshot, first to last."""
    pages: list[dict[str, Any]] = []
    token = "first"
    headers = {**st.headers, PROTOCOL_HEADER: str(PROTOCOL_VERSION)}  # as a paging station does
    while token is not None:
        r = client.get(f"/v1/sync/pull?cursor=0&limit={limit}&page={token}", headers=headers)
        assert r.status_code == 200, r.text
        pages.append(PullResponse.model_validate(r.json()).model_dump(mode="json"))
        token = pages[-1]["next_page"]
        assert len(pages) < 100
    return pages


def test_paged_snapshot_holds_what_the_whole_one_does_most_urgent_first(
    client: TestClient, sessions, make_station, make_order, make_batch, make_product
) -> None:
    f = _floor(sessions, make_station, make_order, make_batch, make_product)
    a: StationAuth = f["a"]
    more = [make_order(batch_id=f["batch_a"]) for _ in range(6)]
    _touch(sessions, *(("order", o) for o in more))
    assert claim(client, a, order_id=f["o4"]).status_code == 200
    whole = _pull(client, a, 0)
    assert "next_page" not in whole  # an older station refuses fields it does not know
    pages = _walk(client, a, limit=2)
    assert len(pages) >= 6
    assert all(p["snapshot"] and p["cursor"] == whole["cursor"] for p in pages)
    assert [p["more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    paged = [c for p in pages for c in p["changes"]]
    keys = [(c["entity"], c["entity_id"]) for c in paged]
    assert len(keys) == len(set(keys))  # no page repeats anything
    as_set = {(c["entity"], c["entity_id"], str(c["data"])) for c in paged}
    assert as_set == {(c["entity"], c["entity_id"], str(c["data"])) for c in whole["changes"]}
    # Users and the station's batch come first, then the order it holds a lease on, then
    # products, then the rest of its orders.
    order = [e if (e, i) != ("order", f["o4"]) else "leased" for e, i in keys]
    first = {name: order.index(name) for name in ("user", "batch", "leased", "product", "order")}
    assert first["user"] < first["batch"] < first["leased"] < first["product"] < first["order"]


def test_paged_snapshot_refuses_a_forged_page_and_expires_after_pruning(
    client: TestClient, sessions, make_station, make_product
) -> None:
    st = make_station("A")
    pids = [make_product(f"P{i}") for i in range(5)]
    _touch(sessions, *(("product", p) for p in pids))
    bad = client.get("/v1/sync/pull?cursor=0&page=s1.x.0.0", headers=st.headers)
    assert bad.status_code in (400, 422)
    assert "page=first" in bad.json()["message"]
    first = client.get("/v1/sync/pull?cursor=0&limit=1&page=first", headers=st.headers).json()
    assert first["next_page"] and first["cursor"] == 5
    _touch(sessions, ("product", pids[0]), ("product", pids[1]))
    with sessions() as s, s.begin():
        prune_changes(s, 6)  # the feed no longer reaches back to the walk's head
    r = client.get(f"/v1/sync/pull?cursor=0&page={first['next_page']}", headers=st.headers)
    assert r.status_code == 409 and r.json()["error"] == "cursor_expired"


def test_checksum_is_the_protocols_digest_from_nothing_to_many(
    client: TestClient, sessions, make_station, make_order, make_batch
) -> None:
    """The service computes the digest in one query (on PostgreSQL inside the database);
    it must be exactly `holdings_checksum` of what the station may see, ids ordered as
    numbers (id 10 after id 9), also for a station that sees nothing."""
    a, b = make_station("Bench A"), make_station("Bench B")
    empty = client.get("/v1/sync/checksum", headers=b.headers).json()
    assert empty == {"order_count": 0, "checksum": holdings_checksum([])}
    batch = make_batch(a.id)
    ids = [make_order(batch_id=batch, lines=1) for _ in range(12)]  # ids cross a digit
    make_order(batch_id=make_batch(b.id))  # another station's: not counted for A
    with sessions() as s, s.begin():
        versions = {o.id: o.version for o in s.scalars(select(Order).where(Order.id.in_(ids)))}
    got = client.get("/v1/sync/checksum", headers=a.headers).json()
    assert got == {"order_count": 12, "checksum": holdings_checksum(versions.items())}

    # Leases: one on an order in A's own batch counts once, one on an order in no batch or
    # in a batch nobody has counts, one on an order in B's batch does not (B's batch wins).
    loose, unassigned = make_order(), make_order(batch_id=make_batch(None))
    theirs = make_order(batch_id=make_batch(b.id))
    now = datetime.now(UTC)
    with sessions() as s, s.begin():
        for n, oid in enumerate((ids[0], loose, unassigned, theirs)):
            s.add(Lease(order_id=oid, station_id=a.id, claim_id=90 + n, epoch=1,
                        expires_at=now + timedelta(hours=1)))  # fmt: skip
    with sessions() as s:
        seen = [
            (o.id, o.version)
            for o in s.scalars(select(Order).where(Order.id.in_([*ids, loose, unassigned])))
        ]
        assert visible_order_ids(s, a.id) == sorted(oid for oid, _ in seen)
    got = client.get("/v1/sync/checksum", headers=a.headers).json()
    assert got == {"order_count": 14, "checksum": holdings_checksum(seen)}


def test_prune_by_age_cuts_before_the_first_newer_change(
    client: TestClient, sessions, make_station, make_product
) -> None:
    st = make_station("A")
    pids = [make_product(f"P{i}") for i in range(6)]
    _touch(sessions, *(("product", p) for p in pids))
    head = _head(sessions)
    now = datetime.now(UTC)
    # Ages by seq, oldest first; the row numbered after a newer one but recorded earlier
    # (a late commit) stays with the newer rows.
    ages = [50, 40, 30, 5, 35, 1]
    with sessions() as s, s.begin():
        rows = s.scalars(
            select(ChangeRow).where(ChangeRow.seq.is_not(None)).order_by(ChangeRow.seq)
        )
        numbered = list(rows)[-6:]
        for row, days in zip(numbered, ages, strict=True):
            row.at = now - timedelta(days=days)
        first = numbered[0].seq
    with sessions() as s, s.begin():
        assert prune_changes_before(s, now - timedelta(days=60)) == 0  # nothing that old
    with sessions() as s, s.begin():
        assert prune_changes_before(s, now - timedelta(days=20)) == first + 2  # up to 30 days
    with sessions() as s:
        left = list(s.scalars(select(ChangeRow.seq).order_by(ChangeRow.seq)))
    assert left == [first + 3, first + 4, first + 5] and left[-1] == head
    r = client.get(f"/v1/sync/pull?cursor={first + 1}", headers=st.headers)
    assert r.status_code == 409 and r.json()["oldest_cursor"] == first + 2
    with sessions() as s, s.begin():  # nothing as new as the cut: all of it goes
        assert prune_changes_before(s, now) == 3
    with sessions() as s, s.begin():
        assert prune_changes_before(s, now) == 0  # an empty feed
