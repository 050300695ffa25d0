"""The station .deb's install settings (packaging/linux/station-setup.sh) run by /bin/sh.

The preinst checks the preseeded answers with these functions before anything is unpacked;
the postinst writes /etc/packbench/station.toml, which app.config reads under the user's file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import load_settings
from app.scanning.source import _PARAMS
from app.weighing.url import SERIAL_DRIVERS
from tests.packaging import chroot

pytestmark = pytest.mark.xdist_group("packaging")  # the chroot cache is built once

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "packaging" / "linux" / "station-setup.sh"
GOOD = (
    "root",
    "https://oms.example.com",
    "bench-07",
    "serial:///dev/ttyACM0?suffix=CR",
    "mtsics+serial:///dev/ttyUSB0",
    "zpl+tcp://10.0.0.5:9100",
    "cups://Office",
)


def sh(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", f'. "{SETUP}"; {script}', "sh", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **(env or {})},
    )


def shell_list(name: str) -> set[str]:
    match = re.search(rf'^{name}="([^"]*)"', SETUP.read_text(), re.M)
    assert match, name
    return set(match.group(1).split())


def test_scheme_lists_match_the_station_code() -> None:
    assert shell_list("PB_SCANNER_SCHEMES") == set(_PARAMS)
    assert shell_list("PB_SCALE_SCHEMES") == {f"{p}+serial" for p in SERIAL_DRIVERS} | {
        "sim",
        "hidpos",
        "manual",
    }
    printer_source = (ROOT / "app" / "printing" / "printer.py").read_text()
    for scheme in shell_list("PB_PRINTER_SCHEMES"):
        assert f'"{scheme}"' in printer_source, scheme


def test_windows_setup_checks_the_same_schemes() -> None:
    # packaging/windows/packbench.iss checks /SCANNER= etc. with its own copies of the lists.
    iss = (ROOT / "packaging" / "windows" / "packbench.iss").read_text()
    for const, shell in (
        ("ScannerSchemes", "PB_SCANNER_SCHEMES"),
        ("ScaleSchemes", "PB_SCALE_SCHEMES"),
        ("PrinterSchemes", "PB_PRINTER_SCHEMES"),
    ):
        match = re.search(rf"^  {const} = '([^']*)';", iss, re.M)
        assert match, const
        linux_only = {"evdev"}  # Linux input devices: no such scanner on Windows
        assert set(match.group(1).split()) == shell_list(shell) - linux_only, const
    for param in ("SERVER", "STATIONNAME", "SCANNER", "SCALE", "LABELPRINTER", "DOCUMENTPRINTER"):
        assert f"{{param:{param}|}}" in iss, param


def test_good_settings_pass_silently() -> None:
    done = sh('pb_check_settings "$@"', *GOOD)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    empty = sh('pb_check_settings "" "" "" "" "" "" ""')
    assert empty.returncode == 0 and empty.stderr == ""


@pytest.mark.parametrize(
    ("position", "value", "line"),
    [
        (1, "htp://oms.example.com", "packbench: malformed server URL 'htp://oms.example.com'"),
        (1, "https://", "packbench: malformed server URL 'https://'"),
        (1, "https://oms example.com", "packbench: malformed server URL 'https://oms example.com'"),
        (1, 'https://oms"x', "packbench: malformed server URL 'https://oms\"x'"),
        (1, "oms.example.com", "packbench: malformed server URL 'oms.example.com'"),
        (3, "laser:///dev/ttyS0", "packbench: unknown scanner URL 'laser:///dev/ttyS0'"),
        (4, "weighbridge://x", "packbench: unknown scale URL 'weighbridge://x'"),
        (5, "ipp://10.0.0.5", "packbench: unknown label-printer URL 'ipp://10.0.0.5'"),
        (6, "smb://Office", "packbench: unknown document-printer URL 'smb://Office'"),
        (0, "no-such-packer-7", "packbench: station user 'no-such-packer-7' does not exist"),
        (2, 'bench "7"', "packbench: station name 'bench \"7\"' has a space, quote"),
    ],
)
def test_bad_settings_stop_with_one_line(position: int, value: str, line: str) -> None:
    args = list(GOOD)
    args[position] = value
    done = sh('pb_check_settings "$@"', *args)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), done.stderr


def test_machine_file_written_by_the_postinst_is_read_under_the_users_file(
    tmp_path: Path,
) -> None:
    machine = tmp_path / "etc" / "packbench" / "station.toml"
    done = sh(
        'pb_write_machine_config "$@"',
        *GOOD[1:5],
        "",
        "cups://Office",
        env={"PB_MACHINE_CONFIG": str(machine)},
    )
    assert done.returncode == 0, done.stderr
    assert machine.stat().st_mode & 0o777 == 0o644
    user = tmp_path / "home" / "config.toml"
    settings = load_settings(user, machine=machine)
    assert settings.server_url == "https://oms.example.com"
    assert settings.station_name == "bench-07"
    assert settings.scanner == "serial:///dev/ttyACM0?suffix=CR"
    assert settings.scale == "mtsics+serial:///dev/ttyUSB0"
    assert settings.label_printer == ""  # not preseeded: the default
    assert settings.document_printer == "cups://Office"
    user.parent.mkdir()
    user.write_text('version = 2\nscale = "manual"\n')
    assert load_settings(user, machine=machine).scale == "manual"


@pytest.mark.skipif(
    os.environ.get("PACKBENCH_TEST_PACKAGING") != "1" or chroot.why_not() is not None,
    reason=f"needs PACKBENCH_TEST_PACKAGING=1 and a chroot ({chroot.why_not() or 'ok'})",
)
def test_device_groups_go_to_the_configured_user_in_a_clean_debian(tmp_path: Path) -> None:
    root = chroot.fresh(tmp_path / "root", [])
    shutil.copy(SETUP, root / "tmp" / "station-setup.sh")
    chroot.run_in(root, "useradd", "--create-home", "packer")
    chroot.run_in(root, "useradd", "--create-home", "admin")
    add = ". /tmp/station-setup.sh; SUDO_USER=admin pb_add_device_groups packer"
    first = chroot.run_in(root, "sh", "-c", add)
    assert first.stdout.splitlines() == [
        f"packbench: added packer to group {g} (log out and in again to use it)"
        for g in ("dialout", "lp", "plugdev")
    ]
    assert chroot.run_in(root, "sh", "-c", add).stdout == ""  # once is enough
    groups = chroot.run_in(root, "id", "-nG", "packer").stdout.split()
    assert {"dialout", "lp", "plugdev"} <= set(groups)
    assert chroot.run_in(root, "id", "-nG", "admin").stdout.split() == ["admin"]


PRESEED = """\
packbench packbench/station-user string packer
packbench packbench/server-url string https://oms.example.com
packbench packbench/station-name string bench-07
packbench packbench/scale string mtsics+serial:///dev/ttyUSB0
packbench packbench/label-printer string zpl+tcp://10.0.0.5:9100
"""


@pytest.mark.skipif(
    os.environ.get("PACKBENCH_TEST_PACKAGING") != "1" or chroot.why_not() is not None,
    reason=f"needs PACKBENCH_TEST_PACKAGING=1 and a chroot ({chroot.why_not() or 'ok'})",
)
def test_preseeded_install_and_a_bad_preseed_in_a_clean_debian(tmp_path: Path) -> None:
    # The real maintainer scripts and debconf templates from packaging/build; the program in
    # the package is a stand-in (test_build.py installs the real bundle), and the Qt
    # libraries it depends on are not installed (--force-depends): this is about the scripts.
    out = tmp_path / "dist"
    (out / "bundle" / "packbench").mkdir(parents=True)
    program = out / "bundle" / "packbench" / "packbench"
    program.write_text("#!/bin/sh\necho stand-in\n")
    program.chmod(0o755)
    built = subprocess.run(
        [str(ROOT / "packaging" / "build"), "--out", str(out), "--reuse-bundle", "deb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (deb,) = out.glob("packbench_*.deb")
    root = chroot.fresh(tmp_path / "root", [])
    shutil.copy(deb, root / "tmp" / "pb.deb")
    install = ("dpkg", "--force-depends", "-i", "/tmp/pb.deb")
    chroot.run_in(root, "useradd", "--create-home", "packer")
    chroot.run_in(root, "debconf-set-selections", input=PRESEED)

    done = chroot.run_in(root, *install)
    # Under debconf a maintainer script's output goes to stderr.
    assert "packbench: wrote /etc/packbench/station.toml" in done.stdout + done.stderr
    assert {"dialout", "lp", "plugdev"} <= set(
        chroot.run_in(root, "id", "-nG", "packer").stdout.split()
    )
    machine = root / "etc" / "packbench" / "station.toml"
    written = machine.read_text()
    settings = load_settings(tmp_path / "packer" / "config.toml", machine=machine)
    assert settings.server_url == "https://oms.example.com"
    assert settings.station_name == "bench-07"
    assert settings.label_printer == "zpl+tcp://10.0.0.5:9100"

    for selection, line in (
        ("packbench/server-url string htp://oms", "packbench: malformed server URL 'htp://oms'"),
        ("packbench/scanner string laser://x", "packbench: unknown scanner URL 'laser://x'"),
        ("packbench/station-user string nobody-here", "packbench: station user 'nobody-here'"),
    ):
        chroot.run_in(root, "debconf-set-selections", input=PRESEED)
        chroot.run_in(root, "debconf-set-selections", input=f"packbench {selection}\n")
        bad = chroot.run_in(root, *install, check=False)
        assert bad.returncode == 1
        ours = [x for x in bad.stderr.splitlines() if x.startswith("packbench:")]
        assert len(ours) == 1 and ours[0].startswith(line), bad.stderr
        status = chroot.run_in(root, "dpkg-query", "-W", "-f", "${Status}", "packbench").stdout
        assert status == "install ok installed"  # the previous installation is untouched
        assert machine.read_text() == written

    chroot.run_in(root, "dpkg", "--purge", "packbench")
    assert not machine.exists()
