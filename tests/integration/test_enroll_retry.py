"""`packbench enroll` whose keyring refuses after the service accepted the code: enrolling
again with the same code works. The real station command and the real service, as processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.db import make_engine, make_sessionmaker
from service.schema import create_all
from service.sync_server.enrollment import issue_enroll_code
from tests.support.service_process import ROOT, ServiceProcess, child_env


def enroll(data: Path, server: str, code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.main", "--data-dir", str(data), "enroll",
         "--server", server, "--code", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_keyring_that_refuses_does_not_burn_the_code(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(db_url)
    create_all(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        _station, code = issue_enroll_code(session, "bench-12")
    engine.dispose()
    keyring_file = tmp_path / "keyring.json"
    env = child_env(keyring_file)
    data = tmp_path / "station"
    with ServiceProcess(db_url, env, tmp_path / "service.log") as service:
        refused = enroll(
            data, service.base_url, code, {**env, "PACKBENCH_TEST_KEYRING_REFUSE": "1"}
        )
        assert refused.returncode == 2
        assert "keyring refused" in refused.stderr
        assert "The enrolment code is not used up" in refused.stderr
        assert not keyring_file.exists()
        assert not (data / "config.toml").exists()  # nothing half-written

        again = enroll(data, service.base_url, code, env)
        assert again.returncode == 0, again.stderr
        assert "Enrolled as station 'bench-12'" in again.stdout
        token = next(iter(json.loads(keyring_file.read_text()).values()))
        assert token not in (data / "config.toml").read_text()

        third = enroll(data, service.base_url, code, env)  # confirmed: now it is spent
        assert third.returncode == 2 and "already used" in third.stderr


def test_a_kiosk_station_enrols_and_starts_without_desktop_or_terminal(tmp_path: Path) -> None:
    """The kiosk keyring: a systemd credential as the key, no D-Bus session, no TTY."""
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(db_url)
    create_all(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        _station, code = issue_enroll_code(session, "kiosk-3")
    engine.dispose()
    creds = tmp_path / "credentials"  # what systemd's LoadCredentialEncrypted= provides
    creds.mkdir()
    (creds / "packbench-keyring-key").write_bytes(os.urandom(32))
    sealed = tmp_path / "kiosk" / "keyring.enc"
    env = child_env(tmp_path / "service-keyring.json")
    kiosk = {
        **{k: v for k, v in env.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")},
        "PYTHON_KEYRING_BACKEND": "app.kiosk_keyring.CredentialFileKeyring",
        "CREDENTIALS_DIRECTORY": str(creds),
        "PACKBENCH_KEYRING_FILE": str(sealed),
    }
    data = tmp_path / "station"
    with ServiceProcess(db_url, env, tmp_path / "service.log") as service:
        done = enroll(data, service.base_url, code, kiosk)
        assert done.returncode == 0, done.stderr
        token_free = sealed.read_bytes()
        assert b"Bearer" not in token_free and len(token_free) > 50
        check = subprocess.run(
            [sys.executable, "-m", "app.main", "--data-dir", str(data), "--self-test",
             "--scale", "sim://"],
            cwd=ROOT, env=kiosk, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    lines = check.stdout.splitlines()
    assert "[ok] keyring: the station token is in the keyring" in lines, check.stdout
    assert any(line.startswith("[ok] server: ") and "kiosk-3" in line for line in lines)


def test_a_station_with_its_server_preseeded_enrols_with_the_code_alone(tmp_path: Path) -> None:
    """Roll-out: the server URL comes from the machine-wide file the .deb's preseed wrote."""
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(db_url)
    create_all(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        _station, code = issue_enroll_code(session, "bench-31")
    engine.dispose()
    env = child_env(tmp_path / "keyring.json")
    machine = tmp_path / "etc" / "station.toml"
    env["PACKBENCH_MACHINE_CONFIG"] = str(machine)
    data = tmp_path / "station"

    def enroll_code_only() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.main", "--data-dir", str(data), "enroll", "--code", code],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    with ServiceProcess(db_url, env, tmp_path / "service.log") as service:
        nowhere = enroll_code_only()  # no machine file, no --server: one line, nothing kept
        assert nowhere.returncode == 2
        # (the log's own copy of the line follows it on stderr)
        assert nowhere.stderr.splitlines()[0] == (
            "packbench: enroll needs the service's address: give --server https://HOST, or "
            f"set server_url in {machine} (packbench/server-url on Debian)"
        )
        assert not (data / "config.toml").exists()

        machine.parent.mkdir()
        machine.write_text(f'version = 2\nserver_url = "{service.base_url}"\n')
        done = enroll_code_only()
        assert done.returncode == 0, done.stderr
        assert "Enrolled as station 'bench-31'" in done.stdout
    # The user's file keeps only what differs from the machine's: the name, not the server.
    user = (data / "config.toml").read_text()
    assert "bench-31" in user and "server_url" not in user
