"""`packbench-service office-user ...` through the real entry point (a process of its own)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.models import OfficeUser
from tests.support.service_process import child_env, run_cli


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli("office-user", *args, env=env, input=stdin, timeout=60)


def test_add_list_disable_enable(service_db: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = service_db
    env = child_env(tmp_path / "keyring.json", url)
    password = "s3cret enough password"
    r = _cli(
        env,
        "add",
        "--email",
        " Ann@Example.com",
        "--name",
        "Ann Ops",
        "--role",
        "operator",
        stdin=password + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert "Added console operator Ann Ops <ann@example.com>" in r.stdout
    assert password not in r.stdout + r.stderr
    with Session(engine) as s:
        user = s.scalar(select(OfficeUser))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert password not in user.password_hash

    again = _cli(
        env,
        "add",
        "--email",
        "ann@example.com",
        "--name",
        "Ann",
        "--role",
        "viewer",
        stdin=password + "\n",
    )
    assert again.returncode == 1 and "already an office user" in again.stderr
    short = _cli(
        env, "add", "--email", "bo@example.com", "--name", "Bo", "--role", "viewer", stdin="short\n"
    )
    assert short.returncode == 1 and "10-200 characters" in short.stderr
    assert "Traceback" not in again.stderr + short.stderr
    role = _cli(env, "add", "--email", "x@example.com", "--name", "X", "--role", "boss")
    assert role.returncode == 2 and "invalid choice" in role.stderr

    listed = _cli(env, "list")
    assert listed.returncode == 0 and "operator\tann@example.com\tAnn Ops\tactive" in listed.stdout
    assert _cli(env, "disable", "ANN@example.com").returncode == 0
    assert "\tdisabled" in _cli(env, "list").stdout
    assert _cli(env, "enable", "ann@example.com").stdout.strip() == "ann@example.com enabled"
    missing = _cli(env, "disable", "nobody@example.com")
    assert missing.returncode == 1 and "No office user nobody@example.com" in missing.stderr
