"""The station as a process: SIGTERM/SIGINT stop it cleanly; no display gives one plain line.

Each test starts `python -m app.main --demo` (offscreen Qt, the embedded demo service), waits
for the window (the demo writes its command sheet right after showing it) and signals it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.launch import display_problem

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="POSIX")]


def station_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "TMPDIR": str(tmp),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.update(extra)
    return env


def start_demo(tmp: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.main", "--demo", *args],
        cwd=ROOT,
        env=station_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path_glob: str, where: Path, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(where.glob(path_glob))
        if found:
            return found[0]
        time.sleep(0.1)
    proc.kill()
    _out, err = proc.communicate(timeout=10)
    raise AssertionError(f"no {path_glob} (exit {proc.returncode}): {err[-3000:]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_demo_and_removes_its_temporary_folder(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc = start_demo(tmp_path)
    sheet = wait_for("packbench-demo-*/documents/command-sheet.pdf", tmp_path, proc)
    demo_dir = sheet.parents[1]
    assert (demo_dir / "station.sqlite3").exists()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert not demo_dir.exists(), sorted(p.name for p in demo_dir.iterdir())


def test_sigterm_flushes_the_outbox_and_closes_the_replica(tmp_path: Path) -> None:
    data = tmp_path / "station"
    proc = start_demo(tmp_path, "--data-dir", str(data))
    wait_for("station/documents/command-sheet.pdf", tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    log = "\n".join(p.read_text() for p in sorted((data / "logs").glob("*.log*")))
    assert "SIGTERM: shutting down" in log
    assert "shutdown: outbox flushed" in log
    # The last connection closed checkpoints the write-ahead log and removes it.
    assert (data / "station.sqlite3").exists()
    assert not (data / "station.sqlite3-wal").exists()


def test_no_display_is_one_plain_line(tmp_path: Path) -> None:
    env = station_env(tmp_path, QT_QPA_PLATFORM="xcb")
    done = subprocess.run(
        [sys.executable, "-m", "app.main", "--demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines == [
        "packbench: no display to open the station window on (DISPLAY is not set): start it "
        "in the station's desktop session (or over ssh -X); `packbench --self-test` needs "
        "no display"
    ]
    assert not list(tmp_path.glob("packbench-demo-*"))


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "no display"),
        ({"QT_QPA_PLATFORM": "xcb"}, "no display"),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "no display"),
        ({"QT_QPA_PLATFORM": "wayland"}, "no Wayland display"),
        ({"DISPLAY": ":0"}, None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, None),
        ({"QT_QPA_PLATFORM": "offscreen"}, None),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, None),
    ],
)
def test_display_problem(env: dict[str, str], problem: str | None) -> None:
    found = display_problem(env, platform="linux")
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
    assert display_problem(env, platform="win32") is None
