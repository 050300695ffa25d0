"""`packbench-service` commands in-process: what they print and how they fail."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.cli import main
from service.models import ApiToken, Batch, Order, OrderEvent, ProductGtin, Station, User
from service.security import token_hash, verify_pin
from tests.support import factories


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_hashes_the_pin_and_refuses_a_taken_badge(
    service_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = service_db
    base = ["user", "add", "--db", url, "--role", "supervisor"]
    code, out, _ = _run(capsys, *base, "--name", "Sam", "--badge", "BADGE-S9", "--pin", "864213")
    assert code == 0 and "Added supervisor Sam" in out
    code, _, err = _run(capsys, *base, "--name", "Kim", "--badge", "BADGE-S9")
    assert code == 1 and "Badge BADGE-S9 already belongs to Sam" in err
    for pin in ("12a", "4321"):  # not digits; too short (4 digits fall to a quick search)
        code, _, err = _run(capsys, *base, "--name", "Kim", "--badge", "B2", "--pin", pin)
        assert code == 1 and err.strip() == "packbench-service: error: A PIN is 6-12 digits."
    with Session(engine) as s:
        user = s.scalars(select(User)).one()
        assert user.pin_hash and "864213" not in user.pin_hash
        assert verify_pin(user.pin_hash, "864213")


def test_bad_arguments_exit_non_zero_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["user", "add", "--name", "X", "--role", "boss", "--badge", "B"])
    assert exc.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err
    code, _, err = _run(capsys, "reconcile", "--paid-hours", "0", "--db", "sqlite:///:memory:")
    assert code == 1 and "paid_hours must be more than 0 hours" in err
    code, _, err = _run(capsys, "reconcile", "--db", "nosuchdb://x")
    assert code == 1 and "Cannot use database URL" in err and "Traceback" not in err


def test_token_create_prints_the_token_once_and_stores_its_hash(
    service_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = service_db
    code, out, err = _run(capsys, "token", "create", "--role", "admin", "--name", "ci", "--db", url)
    assert code == 0 and "shown only this once" in err
    token = out.strip()
    with Session(engine) as s:
        row = s.scalars(select(ApiToken)).one()
        assert (row.role, row.name, row.token_hash) == ("admin", "ci", token_hash(token))


def test_db_url_falls_back_to_the_environment(
    service_db: tuple[str, Engine],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, engine = service_db
    monkeypatch.setenv("PACKBENCH_DB_URL", url)
    with Session(engine) as s, s.begin():
        factories.order(s, status="packed", age_hours=90, status_age_hours=50)
    code, out, _ = _run(capsys, "reconcile", "--packed-hours", "12")
    assert code == 0 and out.startswith("Opened 1 stuck-order exception(s)")
    code, out, _ = _run(capsys, "reconcile", "--packed-hours", "12")
    assert code == 0 and "Opened 0" in out and "1 still open" in out


def test_seed_demo_fills_once_and_then_does_nothing(
    service_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = service_db
    code, out, _ = _run(capsys, "seed-demo", "--db", url)
    assert code == 0 and "Seeded 50 products, 200 orders" in out
    assert "packbench-demo-webhook-secret" in out
    code, out, _ = _run(capsys, "seed-demo", "--db", url)
    assert code == 0 and "already in this database" in out
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 200
        # Every order that left `pending` has the events to show how.
        moved = s.scalar(select(func.count()).select_from(Order).where(Order.status != "pending"))
        first_moves = s.scalar(
            select(func.count(func.distinct(OrderEvent.order_id))).where(
                OrderEvent.from_status == "pending"
            )
        )
        assert moved == first_moves
        for gtin in s.scalars(select(ProductGtin.gtin14)):
            digits = [int(d) for d in gtin]
            assert (
                sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:-1])) % 10
                == (10 - digits[-1]) % 10
            )
        station = s.scalars(select(Station).where(Station.name == "demo-station")).one()
        assigned = s.scalars(select(Batch).where(Batch.station_id == station.id)).all()
        assert len(assigned) == 1 and assigned[0].code.startswith("B-")
        supervisor = s.scalars(select(User).where(User.badge == "BADGE-S001")).one()
        assert supervisor.pin_hash is not None and verify_pin(supervisor.pin_hash, "123456")


def test_seed_demo_refuses_a_database_with_other_orders(
    service_db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = service_db
    with Session(engine) as s, s.begin():
        factories.order(s)
    code, _, err = _run(capsys, "seed-demo", "--db", url)
    assert code == 1 and "already has 1 orders" in err


def test_serve_with_workers_hands_uvicorn_a_factory_and_the_database(
    service_db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from service.api.http_protocol import HTTP_PROTOCOL

    url, _engine = service_db
    calls: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("PACKBENCH_DB_URL", "replaced-by-serve")  # restored after the test
    assert main(["serve", "--db", url, "--port", "8123", "--workers", "2"]) == 0
    ((app, kw),) = calls
    assert app == "service.api.app:serving_app" and kw["factory"] is True
    assert kw["workers"] == 2 and kw["port"] == 8123
    assert kw["http"] == HTTP_PROTOCOL  # Nagle off: ~44 ms per request otherwise
    import os

    from sqlalchemy import inspect

    from service.db import make_engine

    workers_db = make_engine(os.environ["PACKBENCH_DB_URL"])  # what each worker will open
    assert inspect(workers_db).has_table("orders")
    workers_db.dispose()
    assert main(["serve", "--db", url, "--workers", "0"]) == 1
