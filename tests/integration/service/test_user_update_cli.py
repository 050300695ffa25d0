"""`packbench-service user update`: role, language and a new PIN, by the console's rules.

Each command a process of its own running `service.cli`, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.models import User
from service.security import verify_pin
from tests.support.service_process import child_env, run_cli


def test_role_language_and_pin_change_and_bad_values_change_nothing(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = service_db
    env = child_env(tmp_path / "keyring.json")

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env, input=stdin)

    added = cli(
        "user",
        "add",
        "--db",
        url,
        "--role",
        "packer",
        "--name",
        "Kim",
        "--badge",
        "K-1",
        "--language",
        "pl",
    )
    assert added.returncode == 0, added.stderr
    with Session(engine) as s:
        kim = s.scalars(select(User).where(User.badge == "K-1")).one()
        assert kim.language == "pl"
        kim.pin_failures, kim.pin_locked_until = 5, utcnow()
        s.commit()
    nothing = cli("user", "update", "--db", url, "K-1")
    assert nothing.returncode == 1 and "Say what to change" in nothing.stderr
    bad = cli("user", "update", "--db", url, "K-1", "--language", "klingon")
    assert bad.returncode == 1 and "Unknown language 'klingon'" in bad.stderr
    assert "Traceback" not in bad.stderr
    short = cli("user", "update", "--db", url, "K-1", "--pin", "-", stdin="12\n")
    assert short.returncode == 1 and "A PIN is 6-12 digits." in short.stderr
    done = cli(
        "user",
        "update",
        "--db",
        url,
        "K-1",
        "--role",
        "supervisor",
        "--language",
        "ro",
        "--pin",
        "-",
        stdin="918273\n",
    )
    assert done.returncode == 0, done.stderr
    assert "role, language, pin changed" in done.stdout and "918273" not in done.stdout
    with Session(engine) as s:
        kim = s.scalars(select(User).where(User.badge == "K-1")).one()
        assert (kim.role, kim.language, kim.pin_failures, kim.pin_locked_until) == (
            "supervisor",
            "ro",
            0,
            None,
        )
        assert kim.pin_hash is not None and verify_pin(kim.pin_hash, "918273")
    site = cli("user", "update", "--db", url, "K-1", "--language", "")
    assert site.returncode == 0 and "language changed" in site.stdout
