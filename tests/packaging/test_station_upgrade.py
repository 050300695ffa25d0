"""Upgrade from the previous release's .deb with a station running and scans queued.

In a clean Debian 12 chroot (tests/packaging/chroot.py), as the unprivileged user `packer`:

1. The previous release's station .deb (PREVIOUS_RELEASE, built from that commit of this
   repository with a lower package version, tests/packaging/build_cache.py) is installed
   with apt, unattended: server, station name, scanner, scale, label printer and station
   user preseeded (debconf). The station is enrolled with the real `packbench-service` (a
   process on the host, reached over loopback) and runs headless with no option but its
   data folder: the serial scanner (a pseudo-terminal, group dialout, 0660 as the udev
   rule leaves one) comes from /etc/packbench/station.toml, and the packer can open it
   through the group the postinst gave them. The packer's badge leases the batches ahead.
2. The service is stopped. The packer scans on: an order's items and a hold, and the first
   item of a second order. Each scan is green only once it is in the station's SQLite
   outbox; the test reads the outbox and checks that none reached the service.
3. The current .deb is published in a signed apt repository (packaging/apt-repo). With a
   key that does not verify it, apt refuses the repository and the previous installation
   stays as it was, running; with the right key but a malformed server URL preseeded, the
   new preinst stops the upgrade with one line and the previous release stays installed,
   configured and running; with the answers put right, `apt-get upgrade` installs the
   current .deb over the running station, and the running (old) station takes one more scan. The
   package does not restart a running station: the test stops it with SIGTERM, as systemd
   stopping the kiosk unit or the end of the packer's session would, and starts the
   program the package now ships.
4. The new station starts with the service still down, migrates its replica (the previous
   release speaks sync protocol 2, this one 3), keeps the queue, and the service is started
   again on the same address; the station fetches a snapshot (its cursor was reset). Every
   queued mutation arrives exactly once: the service stores exactly the queued ids, each
   applied, one scan event per queued scan, and the station's outbox empties.

Runs only with PACKBENCH_TEST_PACKAGING=1, as root, with debootstrap.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app import __version__
from service.batching import assign_batch
from service.db import make_engine, make_sessionmaker
from service.demo import seed_demo
from service.models import Batch, OrderEvent, Station, StationMutation
from service.schema import create_all
from service.sync_server.enrollment import issue_enroll_code
from service.users import create_token
from sync.protocol import PROTOCOL_VERSION
from tests.e2e.test_station_e2e import StationLog, _orders_for_station
from tests.packaging import build_cache, chroot
from tests.packaging.test_apt_repo import apt_repo, new_key
from tests.support.serial_scanner import PtyScanner
from tests.support.service_process import ServiceProcess, child_env, free_port

# The previous release (there are no release tags yet): the tip of the branch that brought
# today's packaging/build and the chroot tests (merged into main as 89f1935). It predates the
# merge of sync protocol 3 (packing slips, a198408), so the upgrade also takes a station with
# queued mutations from protocol 2 to 3 (its replica migration resets the pull cursor). Move
# it forward to the last release once releases are tagged.
PREVIOUS_RELEASE = "97a9445"
HOME = "/home/packer"
DATA = f"{HOME}/station"
STATION = "demo-station"
# Only our repository: the chroot's Debian lists stay as the cached layer made them.
APT_UPDATE = (
    "apt-get",
    "update",
    "-o",
    "Dir::Etc::sourcelist=sources.list.d/packbench.list",
    "-o",
    "Dir::Etc::sourceparts=-",
    "-o",
    "APT::Get::List-Cleanup=0",
)

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.timeout(2400),
    pytest.mark.skipif(chroot.why_not() is not None, reason=f"chroot: {chroot.why_not()}"),
    pytest.mark.skipif(
        shutil.which("reprepro") is None or shutil.which("gpg") is None,
        reason="needs reprepro and gpg for the signed repository (./dev setup installs them)",
    ),
]


@pytest.fixture(scope="module")
def previous_deb(dist: Path) -> Path:
    """The previous release's station .deb (built once, kept in the build cache)."""
    try:
        out = build_cache.built_previous(PREVIOUS_RELEASE)
    except LookupError as exc:
        pytest.skip(str(exc))
    (deb,) = (out / "dist").glob("packbench_*.deb")
    return deb


def _station_env() -> list[str]:
    """`env` arguments for the station as `packer`: no display, no desktop keyring."""
    return [
        "env",
        f"HOME={HOME}",
        "QT_QPA_PLATFORM=offscreen",
        f"TMPDIR={HOME}/tmp",
        # The kiosk keyring (app/kiosk_keyring.py) with its machine secret where systemd's
        # LoadCredentialEncrypted= would put it.
        "PYTHON_KEYRING_BACKEND=app.kiosk_keyring.CredentialFileKeyring",
        f"CREDENTIALS_DIRECTORY={HOME}/credentials",
    ]


def _as_packer(*cmd: str) -> list[str]:
    return ["setpriv", "--reuid=packer", "--regid=packer", "--init-groups", *_station_env(), *cmd]


def _start_station(root: Path, out: Path) -> subprocess.Popen[bytes]:
    """The installed program with no device or server option: /etc/packbench/station.toml."""
    with out.open("ab") as fh:
        return subprocess.Popen(
            ["chroot", str(root), *_as_packer("packbench", "--data-dir", DATA)],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"},
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def _stop(station: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as systemd or a logout sends it; the station's exit status."""
    station.terminate()
    try:
        return station.wait(60)
    except subprocess.TimeoutExpired:
        station.kill()
        station.wait(10)
        raise


def _preseed(port: int, scanner: str) -> str:
    """The debconf answers an IT person preseeds for this station."""
    return (
        "packbench packbench/station-user string packer\n"
        f"packbench packbench/server-url string http://127.0.0.1:{port}\n"
        f"packbench packbench/station-name string {STATION}\n"
        f"packbench packbench/scanner string serial://{HOME}/{scanner}?suffix=CR\n"
        "packbench packbench/scale string manual\n"
        f"packbench packbench/label-printer string file://{HOME}/labels\n"
    )


def _kill_all(stations: list[subprocess.Popen[bytes]]) -> None:
    for station in stations:
        if station.poll() is None:
            station.kill()
            station.wait(10)


def _outbox(database: Path) -> list[tuple[int, str, int | None]]:
    """The station's queued mutations (id, type, order), read beside the running station."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT id, type, order_id FROM outbox ORDER BY id").fetchall()
    return [(int(i), str(t), o) for i, t, o in rows]


@contextlib.contextmanager
def _devpts(root: Path) -> Iterator[None]:
    """The host's /dev/pts inside the chroot: the emulated scanner's pseudo-terminal."""
    target = root / "dev" / "pts"
    target.mkdir(exist_ok=True)
    subprocess.run(["mount", "--bind", "/dev/pts", str(target)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_upgrade_under_a_running_station_with_queued_scans_loses_nothing(
    dist: Path, previous_deb: Path, tmp_path: Path
) -> None:
    (new_deb,) = dist.glob(f"packbench_{__version__}_*.deb")
    old_version = subprocess.run(
        ["dpkg-deb", "-f", str(previous_deb), "Version"], capture_output=True, text=True
    ).stdout.strip()
    assert old_version.startswith(f"{__version__}~git"), old_version
    old_depends = chroot.depends_of(previous_deb)
    # What the new release needs beyond the old one (fonts-dejavu-core since the printed
    # documents speak ten languages) comes from a Debian mirror during a real upgrade; this
    # chroot is offline, so it holds those packages beforehand.
    depends = old_depends + [d for d in chroot.depends_of(new_deb) if d not in old_depends]
    old_protocol = re.search(
        r"^PROTOCOL_VERSION = (\d+)$",
        subprocess.run(
            ["git", "show", f"{PREVIOUS_RELEASE}:sync/protocol.py"],
            cwd=build_cache.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout,
        re.M,
    )
    assert old_protocol is not None
    older_protocol = int(old_protocol.group(1)) < PROTOCOL_VERSION

    # The service's database: the demo catalogue, the station's batches, an enrolment code.
    db_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    engine = make_engine(db_url)
    create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        seed_demo(session)
        station_row, code = issue_enroll_code(session, STATION)
        station_id = station_row.id
        for batch in session.scalars(select(Batch).where(Batch.station_id.is_(None))):
            assign_batch(session, batch.id, station_id, actor="upgrade-test")
        _token, operator = create_token(session, role="operator", name="upgrade-test")
    with sessions() as session:
        orders = _orders_for_station(session, STATION)
        batches = len(session.scalars(select(Batch.id).where(Batch.station_id == station_id)).all())
    first = next(o for o in orders if len(o.items) >= 2)
    second = next(o for o in orders if o is not first and len(o.items) >= 2)
    env = child_env(tmp_path / "keyring.json")
    port = free_port()

    started = time.monotonic()
    root = chroot.fresh(tmp_path / "root", depends)
    print(f"chroot with the station's dependencies ready in {time.monotonic() - started:.0f} s")
    shutil.copy(previous_deb, root / "tmp" / "previous.deb")
    chroot.run_in(root, "useradd", "--create-home", "packer")
    uid = int(chroot.run_in(root, "id", "-u", "packer").stdout)
    for name in ("tmp", "labels", "credentials"):
        chroot.run_in(root, "install", "-d", "-m", "0700", "-o", "packer", f"{HOME}/{name}")
    secret = root / HOME.lstrip("/") / "credentials" / "packbench-keyring-key"
    secret.write_bytes(os.urandom(48))
    os.chown(secret, uid, uid)
    secret.chmod(0o400)
    database = root / DATA.lstrip("/") / "station.sqlite3"
    log = StationLog(root / DATA.lstrip("/") / "logs" / "packbench.log")
    scanner = PtyScanner(root / HOME.lstrip("/"))
    # The serial device as 60-packbench.rules leaves a scanner: group dialout, 0660. The packer
    # opens it only through the group the postinst adds them to (packbench/station-user).
    dialout = int(chroot.run_in(root, "getent", "group", "dialout").stdout.split(":")[2])
    os.chown(os.readlink(scanner.path), 0, dialout)
    os.chmod(os.readlink(scanner.path), 0o660)
    station_out = tmp_path / "station.out"
    last_code = ""

    def scan(code: str, expect: str) -> None:
        nonlocal last_code
        time.sleep(1.0 if code == last_code else 0.3)  # no double-scan blanking
        last_code = code
        scanner.send(code.encode() + b"\r")
        log.wait_for(expect, timeout=30)

    stations: list[subprocess.Popen[bytes]] = []
    with chroot.mounted_proc(root), _devpts(root), contextlib.ExitStack() as stack:
        stack.callback(scanner.close)
        stack.callback(_kill_all, stations)
        # Installed unattended: the answers preseeded, the devices and server in the
        # machine-wide file, the packer in the device groups.
        chroot.run_in(root, "debconf-set-selections", input=_preseed(port, scanner.path.name))
        installed = chroot.run_in(
            root, "apt-get", "install", "-y", "--no-install-recommends", "/tmp/previous.deb"
        )
        assert "1 newly installed" in installed.stdout, installed.stdout[-2000:]
        machine = root / "etc" / "packbench" / "station.toml"
        configured = machine.read_text()
        assert f'scanner = "serial://{HOME}/{scanner.path.name}?suffix=CR"' in configured
        assert "dialout" in chroot.run_in(root, "id", "-nG", "packer").stdout.split()
        old_build = chroot.run_in(root, *_as_packer("packbench", "--version")).stdout.strip()
        assert f"(build {PREVIOUS_RELEASE}" in old_build, old_build

        # 1. Enrolled and running against the real service; the badge leases its batches.
        service = ServiceProcess(db_url, env, tmp_path / "service-1.log", port=port).start()
        stack.callback(service.stop)
        enrolled = chroot.run_in(
            root,
            *_as_packer("packbench", "--data-dir", DATA, "enroll"),
            "--server",
            service.base_url,
            "--code",
            code,
            check=False,
        )
        assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
        stations.append(_start_station(root, station_out))
        log.wait_for("snapshot applied", timeout=120)
        scan("BADGE-P001", "screen batches green")
        for _batch in range(batches):  # every batch of the station, before the network goes
            log.wait_for("leased ahead", timeout=60)

        # 2. The service goes down; the packer scans on, every scan saved in the outbox.
        service.stop()
        with sessions() as session:
            pushed_before = session.scalar(
                select(Station.last_mutation_id).where(Station.id == station_id)
            )
        scan(first.number, f"Order {first.number} is open")
        for item in first.items:
            scan(item.code, "screen pack green")
        scan("PB:HOLD:SHORT_PICK", "on hold")
        scan(second.number, f"Order {second.number} is open")
        scan(second.items[0].code, "screen pack green")
        queued = _outbox(database)
        types = Counter(t for _i, t, _o in queued)
        assert types["scan_recorded"] == len(first.items) + 1, queued
        assert types["exception_raised"] == 1, queued
        assert {o for _i, _t, o in queued} == {first.id, second.id}, queued
        assert all(i > (pushed_before or 0) for i, _t, _o in queued)  # none reached it
        print("queued with the service down:", queued)

        # 3. The current package from a signed apt repository (packaging/apt-repo), over the
        # running station. First with a key that does not verify the repository: apt refuses
        # it and the previous installation stays, running.
        secret, public = new_key(tmp_path / "signer", "signer")
        _other, wrong_public = new_key(tmp_path / "other", "other")
        published = apt_repo(root / "srv" / "packbench", new_deb, key=secret)
        assert published.returncode == 0, published.stderr
        keyring = root / "usr" / "share" / "keyrings" / "packbench.gpg"
        (root / "etc" / "apt" / "sources.list.d" / "packbench.list").write_text(
            "deb [signed-by=/usr/share/keyrings/packbench.gpg] file:/srv/packbench stable main\n"
        )
        shutil.copy(wrong_public, keyring)
        refused = chroot.run_in(root, *APT_UPDATE, check=False)
        assert refused.returncode != 0, refused.stdout + refused.stderr
        print("apt with a key that does not verify:", refused.stderr.strip())
        assert "is not signed" in refused.stderr, refused.stderr
        assert "NO_PUBKEY" in refused.stderr or "signatures couldn't be verified" in (
            refused.stderr
        ), refused.stderr
        nothing = chroot.run_in(root, "apt-get", "upgrade", "-y")
        assert "0 upgraded" in nothing.stdout, nothing.stdout[-2000:]
        assert chroot.run_in(root, "dpkg-query", "-W", "-f", "${Version}", "packbench").stdout == (
            old_version
        )
        assert stations[0].poll() is None, station_out.read_text()[-3000:]

        shutil.copy(public, keyring)
        chroot.run_in(root, *APT_UPDATE)
        # A bad answer preseeded for the upgrade: the new preinst stops it with one line
        # before anything is unpacked; the previous release stays installed and running.
        bad_url = "packbench packbench/server-url string htp://oms\n"
        chroot.run_in(root, "debconf-set-selections", input=bad_url)
        stopped = chroot.run_in(root, "apt-get", "upgrade", "-y", check=False, timeout=600)
        assert stopped.returncode != 0, stopped.stdout[-2000:]
        ours = [
            line
            for line in (stopped.stdout + stopped.stderr).splitlines()
            if line.startswith("packbench:")
        ]
        assert len(ours) == 1 and ours[0].startswith(
            "packbench: malformed server URL 'htp://oms'"
        ), stopped.stdout[-2000:] + stopped.stderr
        status = chroot.run_in(root, "dpkg-query", "-W", "-f", "${Status} ${Version}", "packbench")
        assert status.stdout == f"install ok installed {old_version}"
        assert machine.read_text() == configured
        assert stations[0].poll() is None, station_out.read_text()[-3000:]
        chroot.run_in(root, "debconf-set-selections", input=_preseed(port, scanner.path.name))

        upgraded = chroot.run_in(root, "apt-get", "upgrade", "-y", timeout=600)
        assert f"Unpacking packbench ({__version__}) over ({old_version})" in upgraded.stdout, (
            upgraded.stdout[-2000:]
        )
        assert stations[0].poll() is None, station_out.read_text()[-3000:]
        scan(second.items[1].code, "screen pack green")  # the old program, still packing
        assert _stop(stations[0]) == 0, station_out.read_text()[-3000:]
        log.wait_for("stay queued for the next start", timeout=10)  # said at its shutdown
        before_upgrade, queued = queued, _outbox(database)
        assert queued[:-1] == before_upgrade and queued[-1][1:] == ("scan_recorded", second.id)
        assert machine.read_text() == configured  # the upgrade keeps the station's settings
        new_build = chroot.run_in(root, *_as_packer("packbench", "--version")).stdout.strip()
        assert new_build.startswith(f"packbench {__version__} (build ")
        assert new_build != old_build

        # 4. The new station, the service still down: the queue is as it was.
        stations.append(_start_station(root, station_out))
        if older_protocol:  # the replica is migrated (backed up first) before anything else
            log.wait_for("replica migrated", timeout=120)
        log.wait_for("service unreachable", timeout=120)
        assert _outbox(database) == queued
        assert stations[1].poll() is None, station_out.read_text()[-3000:]

        service = ServiceProcess(db_url, env, tmp_path / "service-2.log", port=port).start()
        stack.callback(service.stop)
        if older_protocol:  # the cursor was reset: a snapshot brings the new protocol's fields
            log.wait_for("snapshot applied", timeout=120)
        deadline = time.monotonic() + 120
        while _outbox(database) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _outbox(database) == [], f"still queued after 120 s: {_outbox(database)}"
        assert _stop(stations[1]) == 0, station_out.read_text()[-3000:]

    # Every queued mutation exactly once at the service, applied.
    ids = [i for i, _t, _o in queued]
    with sessions() as session:
        stored = session.execute(
            select(StationMutation.mutation_id, StationMutation.status).where(
                StationMutation.station_id == station_id,
                StationMutation.mutation_id > (pushed_before or 0),
            )
        ).all()
        print("stored at the service:", sorted(stored))
        assert sorted(m for m, _s in stored) == ids
        assert {s for _m, s in stored} == {"applied"}, stored
        events = session.scalars(
            select(OrderEvent).where(
                OrderEvent.station_id == station_id,
                OrderEvent.order_id.in_([first.id, second.id]),
            )
        ).all()
    scans = Counter(int(e.payload["mutation_id"]) for e in events if e.type == "scan_recorded")
    queued_scans = [i for i, t, _o in queued if t == "scan_recorded"]
    assert sorted(scans) == queued_scans and set(scans.values()) == {1}, scans
    # And the service's API says what the packer did.
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {operator}"}
    ) as api:
        service = ServiceProcess(db_url, env, tmp_path / "service-3.log", port=port).start()
        try:
            body = api.get(f"/v1/orders/{first.id}").json()
        finally:
            service.stop()
    assert body["status"] == "on_hold", body
    engine.dispose()
