"""The real `packbench-service` as a subprocess: CLI runs and a served API on a free port.

Uses `python -m service.cli`, so no console script needs to be on PATH. Keyring access in the
child goes to a JSON file (tests.support.keyrings.FileKeyring), never a desktop keyring.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tests.support import cli_fork

ROOT = Path(__file__).resolve().parents[2]


def child_env(keyring_file: Path, db_url: str | None = None) -> dict[str, str]:
    """Environment for a service child process: test keyring, repo importable, optional DB."""
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "tests.support.keyrings.FileKeyring"
    env["PACKBENCH_TEST_KEYRING_FILE"] = str(keyring_file)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if db_url is not None:
        env["PACKBENCH_DB_URL"] = db_url
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one `packbench-service` command to completion and capture its output.

    The command runs in its own process, forked from a warm one (tests.support.cli_fork):
    a fresh interpreter would spend a second importing before the command's few milliseconds.
    """
    return cli_fork.run(list(args), env=env, cwd=ROOT, input=input, timeout=timeout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """`packbench-service serve` on 127.0.0.1:<port> (a free one by default); a context manager.

    A subclass changes what runs by overriding `command()` (and `log_mode`); starting,
    waiting for /healthz and stopping stay here.
    """

    log_mode = "wb"  # each start begins a fresh log

    def __init__(
        self, db_url: str, env: dict[str, str], log_path: Path, port: int | None = None
    ) -> None:
        self.db_url = db_url
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The child's argv."""
        return [sys.executable, "-m", "service.cli", "serve", "--db", self.db_url,
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip

    def start(self, timeout: float = 30) -> Self:
        """Start the server and wait until /healthz answers (or stop it and fail with its log)."""
        with self.log_path.open(self.log_mode) as log:
            # No background work unless a test asks for it (PACKBENCH_SCHEDULER=on): a
            # test's orders must not be reconciled or published behind its back.
            env = {"PACKBENCH_SCHEDULER": "off", **self.env}
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service did not answer /healthz within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM (graceful), then kill if it hangs; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout)

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
