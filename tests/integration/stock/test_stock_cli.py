"""`packbench-service stock ...` through the installed console script, on SQLite and PG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from service.models import StockBalance
from tests.support.service_process import ROOT, child_env

SCRIPT = Path(sys.executable).with_name("packbench-service")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_adjust_show_and_check_as_an_operator_runs_them(
    service_db: tuple[str, Engine], stocked: sessionmaker[Session], tmp_path: Path
) -> None:
    url = service_db[0]
    env = child_env(tmp_path / "keyring.json")
    r = _cli(
        env,
        "stock",
        "adjust",
        "--db",
        url,
        "--sku",
        "mug",
        "--qty",
        "5",
        "--reason",
        "delivery 4711",
    )
    assert r.returncode == 0, r.stderr
    assert "on hand     15" in r.stdout and "available     15" in r.stdout

    r = _cli(
        env,
        "stock",
        "adjust",
        "--db",
        url,
        "--sku",
        "MUG",
        "--qty",
        "-20",
        "--reason",
        "shelf collapsed",
    )
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "packbench-service: error: Only 15 of MUG available at MAIN; 20 needed. "
        "Nothing was recorded."
    )
    r = _cli(env, "stock", "adjust", "--db", url, "--sku", "MUG", "--qty", "1", "--reason", " ")
    assert r.returncode == 1 and "Say why the stock changes" in r.stderr
    r = _cli(env, "stock", "adjust", "--db", url, "--sku", "NOPE", "--qty", "1", "--reason", "x")
    assert r.returncode == 1 and "No product with SKU 'NOPE'" in r.stderr

    r = _cli(
        env,
        "stock",
        "count",
        "--db",
        url,
        "--sku",
        "MUG",
        "--count",
        "12",
        "--reason",
        "cycle count aisle 4",
    )
    assert r.returncode == 0, r.stderr
    r = _cli(env, "stock", "show", "--db", url, "MUG")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "MUG  Mug"
    assert "on hand     12" in lines[1]
    assert "counted" in lines[2] and "on hand -3" in lines[2] and "cycle count aisle 4" in lines[2]
    assert "adjusted" in lines[3] and "on hand +5" in lines[3]

    assert _cli(env, "stock", "check", "--db", url).returncode == 0
    with stocked() as s, s.begin():
        s.execute(update(StockBalance).values(allocated=StockBalance.allocated + 2))
    r = _cli(env, "stock", "check", "--db", url)
    assert r.returncode == 1
    assert "MUG at MAIN: balance on hand 12 allocated 2, ledger on hand 12 allocated 0" in r.stdout
