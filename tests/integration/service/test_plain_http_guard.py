"""No plain HTTP across the network by accident: `packbench-service serve` refuses a
non-loopback address without TLS unless told a TLS proxy is in front, and `packbench enroll`
warns and asks before enrolling over http:// with another machine (real entry points)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from service.db import make_engine, make_sessionmaker
from service.sync_server.enrollment import issue_enroll_code
from tests.support.service_process import ROOT, ServiceProcess, child_env, free_port, run_cli


def _own_address() -> str:
    """This machine's address on its network (not loopback), or skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # UDP: no packet is sent
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


class ProxiedService(ServiceProcess):
    """`serve --host <network address> --behind-tls-proxy`."""

    def __init__(self, db_url: str, env: dict[str, str], log_path: Path, host: str) -> None:
        super().__init__(db_url, env, log_path, free_port())
        self.host = host
        self.base_url = f"http://{host}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "service.cli", "serve", "--db", self.db_url,
                "--host", self.host, "--port", str(self.port), "--behind-tls-proxy"]  # fmt: skip


def _enroll(
    env: dict[str, str], data: Path, server: str, code: str, *extra: str, stdin: str | None
):
    return subprocess.run(
        [str(Path(sys.executable).parent / "packbench"), "--data-dir", str(data), "enroll",
         "--server", server, "--code", code, *extra],
        cwd=ROOT, env=env, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_serve_refuses_plain_http_on_a_network_address(tmp_path: Path) -> None:
    env = child_env(tmp_path / "keyring.json")
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    host = _own_address()
    for args in (["--host", host], ["--host", "0.0.0.0"], ["--host", "oms.example.com"]):
        refused = run_cli("serve", "--db", url, "--port", "0", *args, env=env, timeout=30)
        assert refused.returncode == 1, refused.stderr
        assert "Refusing to serve plain HTTP" in refused.stderr
        assert "--behind-tls-proxy" in refused.stderr and "Traceback" not in refused.stderr
    half = run_cli("serve", "--db", url, "--host", host, "--ssl-certfile", "c.pem", env=env)
    assert half.returncode == 1 and "give both" in half.stderr


def test_enroll_over_plain_http_to_another_machine_needs_a_yes(tmp_path: Path) -> None:
    host = _own_address()
    env = child_env(tmp_path / "keyring.json")
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    assert run_cli("db", "upgrade", "--db", url, env=env).returncode == 0
    sessions = make_sessionmaker(make_engine(url))

    def code(name: str) -> str:
        with sessions() as s, s.begin():
            return issue_enroll_code(s, name)[1]

    with ProxiedService(url, env, tmp_path / "service.log", host) as service:
        assert service.base_url.startswith(f"http://{host}:")
        for answer in (None, "n\n", ""):
            data = tmp_path / f"station-{answer!r}"
            data.mkdir()
            refused = _enroll(env, data, service.base_url, code("bench-1"), stdin=answer)
            assert refused.returncode == 2, refused.stdout  # as every station failure
            assert "WARNING" in refused.stderr and "unencrypted" in refused.stderr
            assert "--insecure-http" in refused.stderr
            config = data / "config.toml"
            assert not config.exists() or service.base_url not in config.read_text()
        yes = tmp_path / "station-yes"
        yes.mkdir()
        done = _enroll(env, yes, service.base_url, code("bench-2"), stdin="y\n")
        assert done.returncode == 0, done.stderr
        assert "WARNING" in done.stderr and "Enrolled as station 'bench-2'" in done.stdout
        scripted = tmp_path / "station-scripted"
        scripted.mkdir()
        flag = _enroll(
            env, scripted, service.base_url, code("bench-3"), "--insecure-http", stdin=None
        )
        assert flag.returncode == 0, flag.stderr
        assert "WARNING" in flag.stderr and "[y/N]" not in flag.stderr


def test_enroll_over_loopback_or_https_asks_nothing(tmp_path: Path) -> None:
    env = child_env(tmp_path / "keyring.json")
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    assert run_cli("db", "upgrade", "--db", url, env=env).returncode == 0
    with make_sessionmaker(make_engine(url))() as s, s.begin():
        code = issue_enroll_code(s, "bench-1")[1]
    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        data = tmp_path / "station"
        data.mkdir()
        done = _enroll(env, data, service.base_url, code, stdin=None)
        assert done.returncode == 0, done.stderr
        assert "WARNING" not in done.stderr
