"""The installers as a station sees them: build, unpack the .deb, run the bundled program.

`packaging/build` runs once per test session for every packaging test and is kept between
runs while its inputs are unchanged (tests/packaging/build_cache.py). The .deb is unpacked
with `dpkg-deb -x` into an empty folder, and the frozen `packbench` in it must print its
version with the baked-in commit and run its self-test. Runs only with
PACKBENCH_TEST_PACKAGING=1: `PACKBENCH_TEST_PACKAGING=1 ./dev test tests/packaging`.
"""

from __future__ import annotations

import gettext
import io
import os
import shutil
import socket
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from app import __version__
from sync.languages import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.timeout(1800),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb"),
    # Opt-in: PyInstaller takes ~10 minutes of both shared cores; not part of every ./dev test.
    pytest.mark.skipif(
        os.environ.get("PACKBENCH_TEST_PACKAGING") != "1",
        reason="set PACKBENCH_TEST_PACKAGING=1 to build and test the installers",
    ),
]


@pytest.fixture(scope="module")
def out(dist: Path) -> Path:
    """The session's one build (tests/packaging/build_cache.py)."""
    return dist


@pytest.fixture(scope="module")
def deb(out: Path) -> Path:
    (path,) = out.glob("packbench_*.deb")
    return path


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", str(deb), str(root / "DEBIAN")], check=True)
    return root


def run_packbench(
    root: Path, *args: str, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir or root),
        "QT_QPA_PLATFORM": "offscreen",
        # No desktop keyring in a test: the station must say so, not crash.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    cmd = [str(root / "opt" / "packbench" / "packbench"), *args]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=root)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_deb_holds_launcher_desktop_entry_icon_udev_rule_and_maintainer_scripts(
    unpacked: Path,
) -> None:
    control = (unpacked / "DEBIAN" / "control").read_text()
    assert f"Version: {__version__}" in control
    assert "Package: packbench" in control
    launcher = unpacked / "usr" / "bin" / "packbench"
    assert os.access(launcher, os.X_OK)
    assert "exec /opt/packbench/packbench" in launcher.read_text()
    desktop = (unpacked / "usr/share/applications/packbench.desktop").read_text()
    assert "Exec=/usr/bin/packbench" in desktop and "Icon=packbench" in desktop
    assert (unpacked / "usr/share/icons/hicolor/256x256/apps/packbench.png").exists()
    rules = (unpacked / "lib/udev/rules.d/60-packbench.rules").read_text()
    assert 'KERNEL=="ttyACM[0-9]*", GROUP="dialout"' in rules
    assert 'KERNEL=="ttyUSB[0-9]*", GROUP="dialout"' in rules
    postinst = (unpacked / "DEBIAN" / "postinst").read_text()
    assert "usermod -a -G" in postinst and "dialout lp" in postinst
    internal = unpacked / "opt" / "packbench" / "_internal"
    for sound in ("accept", "reject", "done"):
        assert (internal / "resources" / "sounds" / f"{sound}.wav").exists()
    assert list((internal / "PySide6" / "Qt" / "plugins" / "platforms").glob("*offscreen*"))


def test_bundle_carries_a_compiled_catalogue_for_every_language(unpacked: Path) -> None:
    """packaging/packbench.spec compiles app/locale/*.po: one .mo per language, no .po."""
    locale = unpacked / "opt" / "packbench" / "_internal" / "app" / "locale"
    for code in LANGUAGES:
        if code == DEFAULT:
            continue
        mo = locale / f"{code}.mo"
        assert mo.is_file(), f"{mo} missing from the bundle"
        catalog = gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
        assert catalog.info().get("language", "").startswith(code), catalog.info()
        assert len(catalog._catalog) > 1, f"{code}.mo holds no translation"  # type: ignore[attr-defined]
    assert not list(locale.glob("*.po"))


def test_version_names_the_baked_in_commit(unpacked: Path, out: Path) -> None:
    baked = (unpacked / "opt/packbench/_internal/app/_build.txt").read_text().strip()
    commit = baked.removesuffix("-dirty")
    assert subprocess.run(["git", "cat-file", "-e", commit], cwd=ROOT).returncode == 0
    done = run_packbench(unpacked, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"packbench {__version__} (build {baked}; Python 3.")


def test_self_test_reports_every_check_and_fails_without_server(
    unpacked: Path, tmp_path: Path
) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    server = f"http://127.0.0.1:{closed_port()}"
    (tmp_path / "config.toml").write_text(
        "version = 2\n"
        f'server_url = "{server}"\n'
        'scanner = "wedge"\n'
        'scale = "sim://"\n'
        f'label_printer = "file://{labels}?lang=zpl"\n'
    )
    done = run_packbench(unpacked, "--self-test", data_dir=tmp_path)
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"[ok] database: {tmp_path / 'station.sqlite3'} opens")
    assert lines[1].startswith("[FAIL] keyring: ")
    assert lines[2].startswith("[FAIL] server: ")
    assert lines[3] == (
        "[ok] scanner: wedge: keyboard scanner (no port to open); "
        "try a scan in the scanner test (F10)"
    )
    assert lines[4].startswith("[ok] scale: sim:// answers")
    assert lines[5] == (
        f"[ok] label printer: file://{labels}?lang=zpl is ready "
        "(label files; there is no status to ask)"
    )
    assert lines[6] == "self-test FAILED: keyring, server"
    assert done.returncode == 1


def test_self_test_passes_in_demo_mode(unpacked: Path, tmp_path: Path) -> None:
    # Demo: the bundled embedded service, enrolled, simulated scale, preview printer.
    done = run_packbench(unpacked, "--demo", "--self-test", data_dir=tmp_path)
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:6]] == [
        "[ok] database",
        "[ok] keyring",
        "[ok] server",
        "[ok] scanner",
        "[ok] scale",
        "[ok] label printer",
    ], done.stdout + done.stderr[-3000:]
    assert lines[6] == "self-test passed"
    assert done.returncode == 0


def test_station_window_opens_in_demo_mode(unpacked: Path, tmp_path: Path) -> None:
    # The demo writes its command sheet right after the window is shown: every view imports.
    exe = unpacked / "opt" / "packbench" / "packbench"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    sheet = tmp_path / "documents" / "command-sheet.pdf"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe), "--demo", "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not sheet.exists() and proc.poll() is None and time.monotonic() - started < 90:
            time.sleep(0.05)
        print(f"frozen station window after {time.monotonic() - started:.1f} s")
        assert sheet.exists(), f"exit {proc.poll()}: " + (
            proc.communicate(timeout=10)[1][-3000:] if proc.poll() is not None else "timeout"
        )
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=20)


def test_tarball_and_service_artefacts(out: Path, tmp_path: Path) -> None:
    (tar_path,) = out.glob(f"packbench-{__version__}-linux-*.tar.gz")
    with tarfile.open(tar_path) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        assert f"{top}/packbench" in names
        assert f"{top}/share/60-packbench.rules" in names
        tar.extractall(tmp_path, filter="data")
    done = subprocess.run(
        [str(tmp_path / top / "packbench"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith(f"packbench {__version__}")
    service = out / "service"
    (wheel,) = service.glob(f"packbench-{__version__}-py3-none-any.whl")
    # packaging/build compiles the station's catalogues into the sdist, the wheel carries them,
    # and the console's pages, style sheet and catalogues come along as package data.
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    for code in LANGUAGES:
        if code != DEFAULT:
            assert f"app/locale/{code}.mo" in names and f"app/locale/{code}.po" in names, code
            assert f"service/web/locale/{code}.po" in names, code
    assert {"service/web/templates/base.html", "service/web/static/console.css"} <= names
    assert list(service.glob(f"packbench-{__version__}.tar.gz"))
    unit = (service / "packbench-service.service").read_text()
    assert "serve --host 127.0.0.1 --port 8000" in unit
    assert "EnvironmentFile=/etc/packbench/service.env" in unit


def test_bundle_holds_runtime_dependencies_only_and_records_its_inputs(
    unpacked: Path, out: Path
) -> None:
    internal = unpacked / "opt" / "packbench" / "_internal"
    # Test and lint tools of the dev extra stay out (the clean build venv has none of them).
    for tool in ("hypothesis", "mypy", "pytest", "_pytest", "ruff", "schemathesis", "selenium"):
        assert not (internal / tool).exists(), tool
        assert not list(internal.glob(f"{tool}-*.dist-info")), tool
    inputs = (internal / "BUILD-INPUTS.txt").read_text()
    baked = (internal / "app" / "_build.txt").read_text().strip()
    lines = inputs.splitlines()
    assert lines[0].startswith(f"packbench {__version__}, build {baked}, SOURCE_DATE_EPOCH=")
    assert lines[1].startswith("source tree: ")
    tree = lines[1].split()[2]
    assert subprocess.run(["git", "cat-file", "-e", tree], cwd=ROOT).returncode == 0
    assert lines[2].startswith("python: 3.11.") and "(/usr/bin/python3.11" in lines[2]
    listed = {line.split()[0].split("==")[0].lower() for line in lines[5:]}
    assert {"pyside6", "sqlalchemy", "pyinstaller", "keyring"} <= listed
    assert not listed & {"hypothesis", "mypy", "pytest", "ruff"}
    for line in lines[5:]:
        assert len(line.split()[1]) == 64, line  # sha256 of the distribution's file list
    # No path of the build machine: not this checkout, not the build folder, not a pyenv.
    for needle in (str(ROOT), str(out), "/root/.pyenv", "/.cache/packbench/build-venv"):
        leaked = subprocess.run(
            ["grep", "-rl", "-a", "-F", needle, str(unpacked / "opt")],
            capture_output=True,
            text=True,
        ).stdout
        assert leaked == "", f"{needle} in {leaked[:500]}"


def test_library_list_names_packages_and_the_deb_depends_on_them(unpacked: Path) -> None:
    listed = (unpacked / "opt/packbench/_internal/system-libraries.txt").read_text()
    rows = [line.split("\t") for line in listed.splitlines() if not line.startswith("#")]
    by_name = {row[0]: row[1] for row in rows}
    assert by_name["libGL.so.1"] == "libgl1"
    assert by_name["libEGL.so.1"] == "libegl1"
    assert by_name["/etc/fonts/fonts.conf"] == "fontconfig-config"
    depends = (unpacked / "DEBIAN" / "control").read_text().split("Depends: ", 1)[1]
    declared = {p.split("(")[0].strip() for p in depends.splitlines()[0].split(",")}
    assert set(by_name.values()) <= declared
    # Here (the build machine has them all) the check passes and says so.
    done = run_packbench(unpacked, "--check-libraries")
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == f"all {len(rows)} system libraries and files are there"
