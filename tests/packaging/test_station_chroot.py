"""The station's real bundle in a clean Debian 12 (debootstrap minbase), as an IT person meets it.

- The .deb: installed with apt into a minbase chroot whose declared dependencies come from a
  cached layer (tests/packaging/chroot.py); as a plain user, `--version`, `--check-libraries`,
  `--self-test --demo` and the demo window for 20 s (offscreen), stopped with SIGTERM; then
  purged, and what is left is listed.
- The tarball on a bare minbase: `--check-libraries` and the demo self-test name every missing
  system library with its Debian package, at once; in a chroot with exactly the packages it
  named installed, the demo self-test passes.

Both take their artefacts from the session's one build (tests/packaging/build_cache.py). Runs
only with PACKBENCH_TEST_PACKAGING=1, as root, with debootstrap.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from app import __version__
from tests.packaging import chroot

DEMO_SECONDS = 20
# Left after `apt purge packbench` and not the package's: the packer's home (their own data
# stays, as the README says) and what apt's triggers rebuild for every package.
NOT_THE_PACKAGES = re.compile(r"^(home/packer(/|$)|etc/ld\.so\.cache$)")

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.timeout(1800),
    pytest.mark.skipif(chroot.why_not() is not None, reason=f"chroot: {chroot.why_not()}"),
]


def as_packer(root: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in the chroot as the unprivileged user `packer`, without a display."""
    return chroot.run_in(
        root,
        "setpriv",
        "--reuid=packer",
        "--regid=packer",
        "--init-groups",
        "env",
        "HOME=/home/packer",
        "QT_QPA_PLATFORM=offscreen",
        *cmd,
        check=check,
        timeout=180,
    )


def test_station_deb_installs_runs_the_demo_and_purges_in_a_clean_debian(
    dist: Path, tmp_path: Path
) -> None:
    (deb,) = dist.glob(f"packbench_{__version__}_*.deb")
    started = time.monotonic()
    root = chroot.fresh(tmp_path / "root", chroot.depends_of(deb))
    print(f"chroot with the station's dependencies ready in {time.monotonic() - started:.0f} s")
    shutil.copy(deb, root / "tmp" / "packbench.deb")
    chroot.run_in(root, "useradd", "--create-home", "packer")
    with chroot.mounted_proc(root):
        before = chroot.files(root)
        installed = chroot.run_in(
            root, "apt-get", "install", "-y", "--no-install-recommends", "/tmp/packbench.deb"
        )
        assert "1 newly installed" in installed.stdout, installed.stdout[-2000:]

        version = as_packer(root, "packbench", "--version")
        assert version.stdout.startswith(f"packbench {__version__} (build "), version.stdout
        libraries = as_packer(root, "packbench", "--check-libraries")
        assert libraries.stdout.splitlines()[-1].startswith("all "), libraries.stdout
        selftest = as_packer(root, "packbench", "--self-test", "--demo", check=False)
        assert selftest.returncode == 0, selftest.stdout + selftest.stderr[-3000:]
        assert selftest.stdout.splitlines()[-1] == "self-test passed"

        # The demo window for DEMO_SECONDS, then SIGTERM: a clean stop, its temp folder gone.
        tmp = root / "home" / "packer" / "tmp"
        chroot.run_in(root, "install", "-d", "-o", "packer", "-g", "packer", "/home/packer/tmp")
        demo = subprocess.Popen(
            [
                "chroot",
                str(root),
                "setpriv",
                "--reuid=packer",
                "--regid=packer",
                "--init-groups",
                "env",
                "HOME=/home/packer",
                "QT_QPA_PLATFORM=offscreen",
                "TMPDIR=/home/packer/tmp",
                "packbench",
                "--demo",
            ],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + DEMO_SECONDS
            sheets: list[Path] = []
            while time.monotonic() < deadline and demo.poll() is None:
                time.sleep(0.5)
                sheets = list(tmp.glob("packbench-demo-*/documents/command-sheet.pdf"))
            assert demo.poll() is None, f"exit {demo.returncode}: {demo.communicate()[0][-3000:]}"
            logs = [
                p.read_text(errors="replace")[-3000:]
                for p in tmp.glob("packbench-demo-*/logs/*.log")
            ]
            if not sheets:  # what the station is doing: every thread's stack (app/main.py)
                subprocess.run(["pkill", "-USR1", "-f", "packbench --demo"], check=False)
                time.sleep(2)
        finally:
            demo.terminate()
            output = demo.communicate(timeout=60)[0]
        assert sheets, f"no command sheet under {tmp}: {logs} {output[-6000:]}"
        assert demo.returncode == 0, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        # The demo's temporary folder is removed (PulseAudio's client leaves its own pulse-*).
        assert [p.name for p in tmp.iterdir() if p.name.startswith("packbench-demo-")] == []

        purged = chroot.run_in(root, "apt-get", "purge", "-y", "packbench")
        assert "Removing packbench" in purged.stdout
        left = sorted(p for p in chroot.files(root) - before if not NOT_THE_PACKAGES.match(p))
    print("left after purge:", left)
    assert left == [], left


def _unpack_tarball(tar_path: Path, root: Path) -> str:
    with tarfile.open(tar_path) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(root / "opt", filter="tar")
    return f"/opt/{top}/packbench"


def test_tarball_on_a_bare_debian_names_every_missing_library_then_runs(
    dist: Path, tmp_path: Path
) -> None:
    (tar_path,) = dist.glob(f"packbench-{__version__}-linux-*.tar.gz")
    bare = chroot.fresh(tmp_path / "bare", [])
    program = _unpack_tarball(tar_path, bare)
    with chroot.mounted_proc(bare):
        version = chroot.run_in(bare, program, "--version")
        assert version.stdout.startswith(f"packbench {__version__}")
        check = chroot.run_in(bare, program, "--check-libraries", check=False)
        assert check.returncode == 1, check.stdout + check.stderr
        missing = {
            line.split()[1]: line.split("(package ")[1].split(";")[0]
            for line in check.stdout.splitlines()
            if line.startswith("[missing] ")
        }
        selftest = chroot.run_in(
            bare,
            "env",
            "QT_QPA_PLATFORM=offscreen",
            "HOME=/root",
            program,
            "--self-test",
            "--demo",
            check=False,
        )
    print("missing on a bare system:", missing)
    # Each one exactly, with the package that provides it: Qt's GL, EGL and fontconfig's files.
    assert missing["libGL.so.1"] == "libgl1"
    assert missing["libEGL.so.1"] == "libegl1"
    assert missing["/etc/fonts/fonts.conf"] == "fontconfig-config"
    packages = sorted(set(missing.values()))
    assert check.stdout.splitlines()[-1] == (
        f"{len(missing)} of {len(check.stdout.splitlines()) - 1} missing; install them with: "
        f"sudo apt install {' '.join(dict.fromkeys(missing.values()))}"
    )
    # The self-test says the same in one line (not a scanner failure, not a Qt abort).
    assert selftest.returncode == 2, selftest.stdout + selftest.stderr
    assert selftest.stdout == ""
    (line,) = selftest.stderr.splitlines()
    for name, package in missing.items():
        assert f"{name} (package {package})" in line
    # INSTALL.txt lists every one of them with its package, and the command.
    top = Path(program).parent.relative_to("/")
    install_txt = (bare / top / "share" / "INSTALL.txt").read_text()
    for name, package in missing.items():
        assert re.search(rf"^ +{re.escape(name)} +\({re.escape(package)}\)$", install_txt, re.M)
    assert "sudo apt install --no-install-recommends " in install_txt

    # With exactly the packages it named (and what apt brings with them), it runs.
    fixed = chroot.fresh(tmp_path / "fixed", packages)
    program = _unpack_tarball(tar_path, fixed)
    with chroot.mounted_proc(fixed):
        check = chroot.run_in(fixed, program, "--check-libraries")
        assert check.stdout.splitlines()[-1].startswith("all ")
        selftest = chroot.run_in(
            fixed,
            "env",
            "QT_QPA_PLATFORM=offscreen",
            "HOME=/root",
            program,
            "--self-test",
            "--demo",
            check=False,
        )
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr[-3000:]
    assert selftest.stdout.splitlines()[-1] == "self-test passed"
