"""A mutation the service can never accept is set aside (kept, shown), not retried forever:
the station's queue drains past it, against the real service process."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from service.models import Station, StationMutation
from sync.replica import tables as t
from sync.status import Rejection
from tests.integration.sync.service_runner import station_mutations
from tests.integration.sync.test_station_sync import claimed, scan_events


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"d": value}
    return value


def _log_row(replica: Any, mutation_id: int) -> Any:
    with replica._engine.connect() as conn:
        return conn.execute(select(t.mutation_log).where(t.mutation_log.c.id == mutation_id)).one()


def test_refused_mutations_are_set_aside_and_the_queue_moves_on(
    make_station, sessions, service_engine: Engine
) -> None:
    st = make_station("A")
    seen: list[Rejection] = []
    st.engine._on_rejection = seen.extend
    [(oid, epoch)] = claimed(st, sessions)
    assert st.engine.run_once()
    good = ("scan_recorded", oid, epoch, {"code": "SKU0", "outcome": "accepted"})
    ids = st.replica.record(
        [
            good,
            # An order id beyond the service's columns: the push's 422 names it.
            ("scan_recorded", 2**40, epoch, {"code": "SKU0", "outcome": "accepted"}),
            good,
            # A NUL character from a scanner: the 422 names its payload.code.
            ("scan_recorded", oid, epoch, {"code": "SKU\x000", "outcome": "accepted"}),
            # Nested too deep for the service: a 400 naming no mutation, found by pushing
            # one at a time.
            (
                "override_granted",
                oid,
                epoch,
                {"kind": "weight", "supervisor_id": 1, "reason": "checked", "details": _deep(40)},
            ),
            good,
        ]
    )
    assert st.engine.run_once()
    assert st.replica.queue_depth() == 0
    assert scan_events(service_engine, oid) == 3
    bad = [ids[1], ids[3], ids[4]]
    assert sorted(r.mutation_id for r in seen) == bad
    assert {r.reason for r in seen} == {"set_aside"}
    on_service = station_mutations(service_engine, st.id)
    assert [on_service[i] for i in bad] == [("rejected", "set_aside")] * 3
    assert [on_service[i][0] for i in (ids[0], ids[2], ids[5])] == ["applied"] * 3
    # Kept at the station as recorded, with what the service said.
    row = _log_row(st.replica, ids[1])
    assert (row.status, row.reason, row.order_id) == ("rejected", "set_aside", 2**40)
    # (Its position in the push that named it: the deep one made the engine go one by one.)
    assert json.loads(row.result)["set_aside"]["field"].endswith(".order_id")
    assert json.loads(_log_row(st.replica, ids[3]).payload)["code"] == "SKU\x000"
    assert json.loads(_log_row(st.replica, ids[4]).result)["set_aside"]["status"] == 400
    # And the station keeps going.
    st.replica.record([good])
    assert st.engine.run_once()
    assert scan_events(service_engine, oid) == 4

    # The service is restored from a backup taken before all this: the station sends its
    # log again, the set-aside ones as stand-ins (never the refused originals).
    with Session(service_engine) as s, s.begin():
        s.execute(delete(StationMutation).where(StationMutation.station_id == st.id))
        s.execute(update(Station).where(Station.id == st.id).values(last_mutation_id=ids[0] - 1))
    st.replica.record([good])
    assert st.engine.run_once()
    assert st.replica.queue_depth() == 0
    on_service = station_mutations(service_engine, st.id)
    assert [on_service[i] for i in bad] == [("rejected", "set_aside")] * 3
    assert _log_row(st.replica, ids[1]).order_id == 2**40  # the log entry kept as it was
    assert sorted(r.mutation_id for r in seen) == bad  # not reported a second time
