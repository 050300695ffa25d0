"""`packbench --self-test` opens every device for real (the real console entry, a subprocess).

A scanner port that does not exist, a scale on a pty that never answers and a printer on a
loopback socket that never answers its status query are each a [FAIL] with advice; the
same devices answering are [ok].
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.printer_emulator import PrinterEmulator
from tests.support.scale_emulators import MtSicsEmulator
from tests.support.serial_scanner import PtyScanner
from tests.support.service_process import ROOT, child_env


def self_test(tmp_path: Path, *devices: str, config: str = "") -> dict[str, str]:
    data = tmp_path / "station"
    data.mkdir(exist_ok=True)
    (data / "config.toml").write_text("version = 2\n" + config)
    done = subprocess.run(
        [sys.executable, "-m", "app.main", "--data-dir", str(data), *devices, "--self-test"],
        cwd=ROOT,
        env=child_env(tmp_path / "keyring.json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if line.startswith("["):
            verdict, _, rest = line.partition("] ")
            name, _, detail = rest.partition(": ")
            lines[name] = f"{verdict}] {detail}"
    assert done.returncode == (0 if all(v.startswith("[ok") for v in lines.values()) else 1)
    return lines


@pytest.fixture
def mute_printer() -> Iterator[str]:
    """A TCP listener that accepts and reads but never answers: a printer gone deaf."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"zpl+tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_missing_port_silent_scale_and_silent_printer_each_fail_with_advice(
    tmp_path: Path, mute_printer: str
) -> None:
    scale = MtSicsEmulator(weight=0)
    scale.silent = True
    try:
        lines = self_test(
            tmp_path,
            "--scanner", f"serial://{tmp_path / 'no-such-tty'}?suffix=CR",
            "--scale", f"mtsics+serial://{scale.port}",
            "--label-printer", mute_printer,
        )  # fmt: skip
    finally:
        scale.close()
    assert lines["scanner"].startswith("[FAIL] ")
    assert "cannot be opened" in lines["scanner"] and "cable" in lines["scanner"]
    assert lines["scale"].startswith("[FAIL] ")
    assert "does not answer; check that it is switched on" in lines["scale"]
    assert lines["label printer"].startswith("[FAIL] ")
    assert "Check that the printer is switched on" in lines["label printer"]


def test_devices_that_answer_pass(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path)
    scale = MtSicsEmulator(weight=812)
    try:
        with PrinterEmulator() as printer:
            lines = self_test(
                tmp_path,
                "--scanner", f"serial://{scanner.path}?suffix=CR",
                "--scale", f"mtsics+serial://{scale.port}",
                "--label-printer", printer.url,
            )  # fmt: skip
            assert printer.status_queries >= 1
    finally:
        scanner.close()
        scale.close()
    assert lines["scanner"] == f"[ok] serial://{scanner.path}?suffix=CR: {scanner.path} opens"
    assert lines["scale"].startswith("[ok] ") and "812" in lines["scale"]
    assert (
        lines["label printer"].startswith("[ok] ")
        and "answers its status query" in (lines["label printer"])
    )


def test_a_manual_scale_without_manual_weights_cannot_weigh(tmp_path: Path) -> None:
    lines = self_test(tmp_path, "--scale", "manual")
    assert lines["scale"].startswith("[FAIL] manual weight entry, but typed-in weights")
    allowed = self_test(tmp_path, "--scale", "manual", config="allow_manual_weight = true\n")
    assert allowed["scale"].startswith("[ok] manual weight entry")
