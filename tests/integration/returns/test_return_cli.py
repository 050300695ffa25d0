"""`packbench-service return ...`: each command a process of its own, on SQLite and PG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.ingest.rows import IngestResult
from service.stock.ledger import check
from tests.integration.stock.test_stock_cli import _cli
from tests.support.service_process import child_env


def test_an_operator_creates_receives_and_closes_a_return(
    service_db: tuple[str, Engine],
    stocked: sessionmaker[Session],
    shipped: Callable[..., IngestResult],
    tmp_path: Path,
) -> None:
    url = service_db[0]
    env = child_env(tmp_path / "keyring.json")
    order = shipped({"MUG": 2, "PLATE": 1})
    number = str(order.number)
    r = _cli(env, "return", "create", "--db", url, "--order", number, "--line", "MUG:2",
             "--reason", "wrong colour")  # fmt: skip
    assert r.returncode == 0, r.stderr
    code = r.stdout.split()[0]
    assert r.stdout.splitlines()[0] == f"{code}  order {number}  expected  (operator)  wrong colour"

    r = _cli(env, "return", "create", "--db", url, "--order", number, "--line", "MUG:1",
             "--reason", "again")  # fmt: skip
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"packbench-service: error: Order {number} shipped 2 of MUG; 2 already returned or "
        "expected, so 1 more cannot come back."
    )
    r = _cli(env, "return", "create", "--db", url, "--order", number, "--line", "MUG",
             "--reason", "x")  # fmt: skip
    assert r.returncode == 1 and "write SKU:QTY" in r.stderr

    r = _cli(env, "return", "receive", "--db", url, code, "--sku", "MUG",
             "--disposition", "b_grade", "--reason", "damaged")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "unit MUG: b_grade (damaged)  by cli:return" in r.stdout
    r = _cli(env, "return", "list", "--db", url, "--status", "received")
    assert r.stdout.split()[:3] == [code, number, "received"]
    r = _cli(env, "return", "close", "--db", url, code)
    assert r.returncode == 0, r.stderr
    assert f"{code}  order {number}  closed" in r.stdout
    assert "unit MUG: missing" in r.stdout
    r = _cli(env, "return", "show", "--db", url, "RMA-999999")
    assert r.returncode == 1 and "There is no return RMA-999999." in r.stderr
    with stocked() as s:
        assert check(s) == []
