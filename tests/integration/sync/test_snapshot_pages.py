"""A station that joins while another process writes orders: paged snapshot, then the feed.

Every order ends up in the station's cache at the service's version; no page repeats an
order; the feed after the snapshot brings an order again only if it changed after the head
the first page read.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.changes import mark_changed
from service.models import ChangeRow, Order
from sync.protocol import PullResponse
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import ServiceProcess, make_batch, make_orders
from tests.support.service_process import ROOT


def _batch_orders(sessions: sessionmaker[Session], batch: int) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).where(Order.batch_id == batch)) or 0


def _record_pulls(
    st: Station, after_first_page: Callable[[], None]
) -> list[tuple[dict[str, Any], PullResponse]]:
    """Wrap the station's client so every pull answer is kept (with its arguments)."""
    seen: list[tuple[dict[str, Any], PullResponse]] = []
    real = st.client.pull

    def pull(cursor: int, limit: int = 500, timeout: Any = None, *, page: str | None = None):  # type: ignore[no-untyped-def]
        answer = real(cursor, limit, timeout, page=page)
        seen.append(({"cursor": cursor, "page": page}, answer))
        if page == "first":
            after_first_page()
        time.sleep(0.01)  # leave the writer room between pages
        return answer

    st.client.pull = pull  # type: ignore[method-assign]
    return seen


def test_station_joining_mid_stream_gets_every_order_once(
    make_station: Callable[[str], Station],
    sessions: sessionmaker[Session],
    service: ServiceProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    st = make_station("Joiner")
    batch = make_batch(sessions, st.id, "WAVE-1")
    with sessions() as s, s.begin():  # as ingest does: each order marked changed
        for oid in make_orders(sessions, 120, lines=1, batch_id=batch):
            mark_changed(s, "order", oid)
    before = _batch_orders(sessions, batch)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.order_writer",
            service.db_url,
            str(batch),
            "150",
            "7",
        ],
        cwd=ROOT,
        env={**service.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def writer_has_started() -> None:
        # The first page is in: wait until the other process has committed some orders, so
        # the rest of the walk and the writes really interleave.
        deadline = time.monotonic() + 30
        while _batch_orders(sessions, batch) < before + 15 and time.monotonic() < deadline:
            time.sleep(0.02)

    pulls = _record_pulls(st, writer_has_started)
    st.engine.snapshot_page_limit = 25
    # The engine's holdings check compares with a service that is still being written to,
    # and would re-snapshot on the difference; it is made below, once the writer is done.
    monkeypatch.setattr(st.engine, "_verify_holdings", lambda: None)
    try:
        assert st.engine.run_once()  # a new replica: paged snapshot while the writer writes
    finally:
        out, err = writer.communicate(timeout=120)
    monkeypatch.undo()
    assert writer.returncode == 0, err
    created = {int(x) for x in out.split()}
    assert len(created) == 150
    assert st.engine.run_once()  # the feed after the snapshot's head
    assert st.engine.run_once()

    pages = [r for args, r in pulls if args["page"] is not None]
    feed = [r for args, r in pulls if args["page"] is None]
    assert len(pages) > 5 and pages[-1].next_page is None
    assert all(p.next_page is not None for p in pages[:-1])
    head = pages[0].cursor
    assert head > 0
    assert all(p.cursor == head for p in pages)  # one head for the whole walk

    # No page repeats an order.
    paged = [c.entity_id for p in pages for c in p.changes if c.entity == "order" and c.data]
    assert len(paged) == len(set(paged))
    # The writer really wrote during the walk: some of its orders came only through the feed.
    fed = [c.entity_id for p in feed for c in p.changes if c.entity == "order" and c.data]
    assert created & set(fed), "no order arrived through the feed: the test did not interleave"
    # The feed brings an order again only for a change numbered after the head, and never
    # more often than it changed after it.
    with sessions() as s:
        later = Counter(
            s.scalars(
                select(ChangeRow.entity_id).where(ChangeRow.entity == "order", ChangeRow.seq > head)
            )
        )
    assert all(n <= later[oid] for oid, n in Counter(fed).items()), (Counter(fed), later)
    # Nothing is missing: the cache holds exactly the batch at the service's versions.
    assert set(paged) | set(fed) >= created
    remote = st.client.checksum()
    assert remote.order_count == before + 150
    assert st.replica.holdings() == (remote.order_count, remote.checksum)
