"""The station's supervisor board without Qt: action routing and the offline fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.station.ports import BatchRow
from app.station.supervisor import ExceptionRow, LocalFigures, SupervisorBoard
from sync.errors import SyncRejected, SyncUnavailable

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _row(id_: str, status: str = "on_hold", open_: bool = True) -> ExceptionRow:
    return ExceptionRow(id_, 5, "ORD-5", status, 4, "hold", "x", "m", "bench-1", NOW, open_)


def _local() -> LocalFigures:
    rows = [BatchRow(1, "B-1", "one", 10, 4, 1, NOW - timedelta(minutes=1))]
    return LocalFigures("bench-1", lambda: rows, lambda: 7, lambda: NOW - timedelta(minutes=3))


def test_actions_fit_the_order_state() -> None:
    assert _row("exc:1").actions() == ("release", "reassign", "cancel", "resolve")
    assert _row("exc:1", "allocated").actions() == ("reassign", "cancel", "resolve")
    assert _row("mut:2:9", "packed").actions() == ("resolve",)
    assert _row("exc:1", open_=False).actions() == ()


def test_actions_go_to_the_right_endpoint_with_the_seen_version() -> None:
    calls: list[tuple[str, str, Any]] = []

    def api(method: str, path: str, body: Any) -> Any:
        calls.append((method, path, body))
        if path.startswith("orders/5/cancel"):
            raise SyncRejected(409, "conflict", "Order ORD-5 was not changed: it was packed.")
        return {"message": "ok"}

    board = SupervisorBoard(_local(), api, clock=lambda: NOW)
    assert board.act("resolve", _row("mut:2:9"), "seen").ok
    assert board.act("resolve", _row("exc:3"), "seen").ok
    assert board.act("reassign", _row("exc:3"), "load", batch_id=8).ok
    refused = board.act("cancel", _row("exc:3"), "dup")
    assert (refused.ok, refused.message) == (False, "Order ORD-5 was not changed: it was packed.")
    assert [c[1] for c in calls] == [
        "rejections/2/9/resolve",
        "exceptions/3/resolve",
        "orders/5/reassign",
        "orders/5/cancel",
    ]
    assert calls[2][2] == {"reason": "load", "expected_version": 4, "batch_id": 8}


def test_unreachable_service_gives_local_batches_as_of_the_last_sync() -> None:
    def api(method: str, path: str, body: Any) -> Any:
        raise SyncUnavailable("connect refused")

    snap = SupervisorBoard(_local(), api, clock=lambda: NOW).fetch()
    assert not snap.online and snap.as_of == NOW - timedelta(minutes=3)
    assert "offline" in snap.headline and "connect refused" in snap.problem
    [batch] = snap.batches
    assert (batch.remaining, batch.will_miss, batch.finish_text) == (6, True, "cut-off passed")
    assert snap.stations[0][0] == "bench-1" and snap.stations[0][5] == "7"
    assert not SupervisorBoard(_local(), None).act("release", _row("exc:1"), "why").ok


def test_a_batch_nobody_packed_for_an_hour_names_its_own_cut_off() -> None:
    """Issue 17: no pace is not "will miss"; the text says what is known, with the cut-off."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from app.station.supervisor import BatchProgress

    cutoff = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    batch = BatchProgress(1, "B-1", "Tomorrow", "bench-1", 10, 0, 0, 10, 0.0, cutoff, None, False)
    local = cutoff.astimezone().strftime("%a %H:%M")
    # No rate yet: no projected finish ("—"); the cell's hint says why, with the cut-off.
    assert batch.finish_text == "—"
    assert batch.finish_hint == f"no packing in the last hour · cut-off {local}"
    assert replace(batch, cutoff_at=None).finish_hint == "no packing in the last hour"
    offline = replace(batch, rate_per_hour=None)
    assert offline.finish_text == "—" and "offline" in offline.finish_hint


def test_the_projected_finish_comes_from_the_recent_rate() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from app.station.supervisor import BatchProgress, hhmm

    finish = datetime(2026, 3, 3, 11, 30, tzinfo=UTC)
    batch = BatchProgress(
        1, "B-1", "Today", "bench-1", 40, 10, 0, 30, 20.0,
        datetime(2026, 3, 3, 12, 0, tzinfo=UTC), finish, False,
    )  # fmt: skip
    assert batch.finish_text == hhmm(finish)
    assert "20 orders an hour" in batch.finish_hint and "30 orders to go" in batch.finish_hint
    late = replace(batch, will_miss=True)
    assert late.finish_text == f"{hhmm(finish)} — will miss cut-off"
    assert replace(batch, remaining=0).finish_text == "done"
