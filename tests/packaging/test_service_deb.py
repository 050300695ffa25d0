"""The `packbench-service` .deb in a clean Debian 12 chroot (debootstrap minbase).

Takes the service .deb from the session's one build, installs only it into a fresh chroot
(its declared dependencies come from a cached layer, see tests/packaging/chroot.py), checks
what the postinst made, reinstalls it (the upgrade path runs `db upgrade` again), starts the
service as its user, asks /healthz, checks that no Qt got in, then purges it and lists what
is left. Runs only with PACKBENCH_TEST_PACKAGING=1, as root, with debootstrap.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app import __version__
from tests.packaging import chroot

ROOT = Path(__file__).resolve().parents[2]
# The chroot part (unpack, install, reinstall, serve, purge) on two shared cores; the first
# run also runs debootstrap and installs the dependency layer (minutes, then cached).
CHROOT_BUDGET_S = 240
# Made by systemd-creds for every credential on the host, not by the package: stays on purge.
NOT_THE_PACKAGES = {"var/lib/systemd/credential.secret"}

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.timeout(1800),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb"),
    pytest.mark.skipif(
        os.environ.get("PACKBENCH_TEST_PACKAGING") != "1",
        reason="set PACKBENCH_TEST_PACKAGING=1 to build and test the installers",
    ),
    pytest.mark.skipif(chroot.why_not() is not None, reason=f"chroot: {chroot.why_not()}"),
]


@pytest.fixture(scope="module")
def service_deb(dist: Path) -> Path:
    """From the session's one build (tests/packaging/build_cache.py)."""
    (deb,) = dist.glob(f"packbench-service_{__version__}_*.deb")
    return deb


@pytest.fixture
def root(tmp_path: Path, service_deb: Path) -> Iterator[Path]:
    started = time.monotonic()
    base = chroot.fresh(tmp_path / "root", chroot.depends_of(service_deb))
    print(f"chroot ready in {time.monotonic() - started:.0f} s")
    shutil.copy(service_deb, base / "tmp" / service_deb.name)
    subprocess.run(["mount", "-t", "proc", "proc", str(base / "proc")], check=True)
    try:
        yield base
    finally:
        subprocess.run(["umount", str(base / "proc")], check=False)
        if os.path.ismount(base / "proc"):
            subprocess.run(["umount", "-l", str(base / "proc")], check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_service_deb_installs_serves_and_purges_in_a_clean_debian(
    root: Path, service_deb: Path
) -> None:
    started = time.monotonic()
    before = chroot.files(root)
    deb = f"/tmp/{service_deb.name}"

    installed = chroot.run_in(root, "apt-get", "install", "-y", "--no-install-recommends", deb)
    assert "0 newly installed" not in installed.stdout
    assert "1 newly installed" in installed.stdout, installed.stdout[-2000:]
    assert "created /etc/packbench/service.env" in installed.stdout

    env_file = root / "etc/packbench/service.env"
    mode = env_file.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o640 and mode.st_uid == 0
    group = chroot.run_in(root, "stat", "-c", "%G", "/etc/packbench/service.env").stdout.strip()
    assert group == "packbench"
    assert "PACKBENCH_DB_URL=sqlite:////var/lib/packbench/service.sqlite3" in env_file.read_text()
    user = chroot.run_in(root, "getent", "passwd", "packbench").stdout
    assert ":/var/lib/packbench:/usr/sbin/nologin" in user
    # The secrets key: an encrypted systemd credential, readable by root only, never plain.
    key = root / "etc/credstore.encrypted/packbench-secrets-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    decrypted = chroot.run_in(
        root,
        "systemd-creds",
        "decrypt",
        "--name=packbench-secrets-key",
        "/etc/credstore.encrypted/packbench-secrets-key",
        "-",
    ).stdout.strip()
    assert len(decrypted) == 44 and decrypted.encode() not in key.read_bytes()
    # db upgrade ran as the service user: the SQLite database is its own.
    database = "/var/lib/packbench/service.sqlite3"
    assert chroot.run_in(root, "stat", "-c", "%U", database).stdout.strip() == "packbench"
    links = chroot.run_in(root, "ls", "/etc/systemd/system/multi-user.target.wants").stdout
    assert "packbench-service.service" in links

    # An upgrade (same version again) runs the postinst with the old version: db upgrade again.
    again = chroot.run_in(root, "apt-get", "install", "-y", "--reinstall", deb)
    assert "db upgrade failed" not in again.stderr

    # No Qt anywhere: no Debian package, no library, no PySide6 in the venv.
    packages = chroot.run_in(root, "dpkg-query", "-W", "-f", "${Package}\n").stdout.split()
    assert not [p for p in packages if "qt" in p.lower()], packages
    assert not [p for p in chroot.files(root) if "libQt" in p or "PySide6" in p]

    # The station command in the service's venv says what is missing, in one line.
    station = chroot.run_in(
        root, "/opt/packbench-service/venv/bin/packbench", "--version", check=False
    )
    assert station.returncode == 3 and len(station.stderr.splitlines()) == 1
    assert "pip install 'packbench[station]'" in station.stderr

    # Start it as the unit would (no systemd inside a chroot): the service user, service.env.
    port = free_port()
    serve = subprocess.Popen(
        [
            "chroot",
            "--userspec=packbench:packbench",
            str(root),
            "/usr/lib/packbench-service/with-env",
            "packbench-service",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, f"exit {serve.poll()}: {serve.communicate(timeout=5)[0]}"
        assert health.status_code == 200, health.text
    finally:
        serve.terminate()
        output = serve.communicate(timeout=30)[0]
    # uvicorn finishes its shutdown, then dies of the signal it got (as systemd expects).
    assert serve.returncode in (0, -15), output[-3000:]
    assert "Finished server process" in output and "Traceback" not in output

    purged = chroot.run_in(root, "apt-get", "purge", "-y", "packbench-service")
    assert "Purging configuration files for packbench-service" in purged.stdout
    assert "packbench" not in chroot.run_in(root, "getent", "passwd", check=False).stdout
    left = sorted(chroot.files(root) - before)
    print("left after purge:", left)
    assert set(left) <= NOT_THE_PACKAGES, left
    took = time.monotonic() - started
    print(f"install, reinstall, serve and purge in the chroot: {took:.0f} s")
    assert took < CHROOT_BUDGET_S
