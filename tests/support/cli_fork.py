"""`packbench-service` commands in forked children of one warm process (a zygote) per worker.

A command's own work takes milliseconds; a fresh `python -m service.cli` spends about a second
of CPU importing SQLAlchemy, the mapped models and pydantic first. The suite runs several
hundred commands, so each pytest worker keeps one zygote that has imported them once and
forks a child per command. The child is a separate process with the test's argv,
environment, working directory, stdin, stdout, stderr and exit status, and runs
`service.cli` as `__main__`, exactly what `python -m service.cli` runs after its imports.

What this does not test, other tests do with real fresh processes: the interpreter's start,
the command's imports (tests/integration/service/test_cli_entry.py and the other console-script
tests), and the installed packages (tests/packaging).

`run` falls back to a fresh process when the zygote cannot serve the request faithfully: an
environment whose Python start-up variables differ from the zygote's, or
PACKBENCH_TEST_CLI_FORK=0 (every command a fresh process, as before).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import IO

# Variables that act while Python starts (or when keyring is first imported, which a command
# does lazily and the zygote never does): a child forked from a zygote started with other
# values would not be what a fresh process is, so such a request runs as a fresh process.
STARTUP_VARIABLES = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSAFEPATH",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONWARNINGS",
    "PYTHONDEVMODE",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONOPTIMIZE",
    "PYTHONUNBUFFERED",
    "PYTHONFAULTHANDLER",
    "PYTHONTRACEMALLOC",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LD_PRELOAD",
    "FAKETIME",
    "TZ",
)

# What the zygote imports before it forks: what every command imports anyway (SQLAlchemy, the
# models) and, after these, the command table and every command module. Not service.cli: each
# child runs it as `__main__`, as `python -m` does. Never keyring: it picks its backend from
# the environment when first imported.
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "service.models",
)

_HEADER = struct.Struct("!I")  # the request's length, before the request
_REPLY = struct.Struct("!i")  # the child sends its pid, then its exit status


def _startup(env: dict[str, str]) -> tuple[str | None, ...]:
    return tuple(env.get(name) for name in STARTUP_VARIABLES)


class Zygote:
    """One warm `service.cli` process that forks a child per command; started on first use."""

    def __init__(self, root: Path) -> None:
        # This worker's environment with the checkout importable: what
        # tests.support.service_process.child_env gives a command, less the per-test values
        # (database, keyring file) that a command reads only once it runs.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self.env = env
        self._dir = tempfile.TemporaryDirectory(prefix="packbench-zygote-")
        self.path = os.path.join(self._dir.name, "socket")
        self.log = Path(self._dir.name, "zygote.log")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.cli_fork", self.path],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.proc.stdout is not None
        with self.proc.stdout as ready:  # one line once it listens; nothing after that
            if ready.readline().strip() != b"ready":
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"the CLI zygote did not start:\n{self.log.read_text()}")

    def serves(self, env: dict[str, str]) -> bool:
        return self.proc.poll() is None and _startup(env) == _startup(self.env)

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, input: str | None, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run `service.cli` with `argv` in a forked child; as subprocess.run(..., text=True)."""
        with (
            tempfile.TemporaryFile() as stdin,
            tempfile.TemporaryFile() as stdout,
            tempfile.TemporaryFile() as stderr,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
        ):
            if input is not None:
                stdin.write(input.encode())
                stdin.seek(0)
            request = json.dumps({"argv": argv, "env": env, "cwd": str(cwd)}).encode()
            conn.connect(self.path)
            socket.send_fds(
                conn,
                [_HEADER.pack(len(request)) + request],
                [stdin.fileno(), stdout.fileno(), stderr.fileno()],
            )
            conn.settimeout(timeout)
            started = b""
            try:
                started = _recv_exactly(conn, _REPLY.size)
                status = _recv_exactly(conn, _REPLY.size) if started else b""
            except TimeoutError:
                if started:
                    _kill(_REPLY.unpack(started)[0])
                raise subprocess.TimeoutExpired(
                    argv, timeout, _read(stdout), _read(stderr)
                ) from None
            if not started:
                raise RuntimeError(f"the CLI zygote closed the connection:\n{self.log.read_text()}")
            # A child that died before it could report was killed by a signal.
            code = _REPLY.unpack(status)[0] if status else -signal.SIGKILL
            return subprocess.CompletedProcess(argv, code, _read(stdout), _read(stderr))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._dir.cleanup()


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    """`size` bytes, or b"" when the peer closed first (a child that died without a status)."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


def _read(file: IO[bytes]) -> str:
    """What the child wrote to `file` through its own descriptor, as text mode reads it."""
    file.seek(0)
    text = file.read().decode(errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


_zygote: Zygote | None = None
_lock = threading.Lock()


def run(
    argv: list[str], env: dict[str, str], cwd: Path, input: str | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m service.cli *argv`: a forked child of this worker's zygote when it can be."""
    global _zygote
    if os.environ.get("PACKBENCH_TEST_CLI_FORK", "1") != "0":
        with _lock:
            if _zygote is None:
                _zygote = Zygote(cwd)
                atexit.register(_zygote.close)
            zygote = _zygote
        if zygote.serves(env):
            return zygote.run(argv, env, cwd, input, timeout)
    return fresh(argv, env, cwd, input, timeout)


def fresh(
    argv: list[str], env: dict[str, str], cwd: Path, input: str | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m service.cli *argv` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *argv],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- the zygote itself ----------------------------------------------------------------------


def _serve(path: str) -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    import service.commands as commands

    for module in sorted(set(commands.MODULE_OF.values())):
        importlib.import_module(f"service.commands.{module}")
    if "service.cli" in sys.modules:  # runpy would warn that it runs a second copy
        raise RuntimeError("the zygote imported service.cli; a child runs it as __main__")
    if "keyring" in sys.modules:
        raise RuntimeError("the zygote imported keyring; it must stay unimported until a command")
    if threading.active_count() != 1:
        raise RuntimeError("the zygote started a thread: forking it would not be safe")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(2)
    parent = os.getppid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    while os.getppid() == parent:  # a worker killed without closing us: stop too
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        message, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
        (size,) = _HEADER.unpack(message[: _HEADER.size])
        body = message[_HEADER.size :]
        while len(body) < size:
            body += conn.recv(size - len(body))
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            _child(conn, json.loads(body), fds)  # never returns
        conn.close()
        for fd in fds:
            os.close(fd)


def _child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait for its children
        conn.sendall(_REPLY.pack(os.getpid()))
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(str(request["cwd"]))
        argv = request["argv"]
        assert isinstance(argv, list)
        sys.argv = ["-m", *argv]  # runpy puts the module's path first, as `python -m` does
        code = _run_main()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            conn.sendall(_REPLY.pack(code))
        finally:
            os._exit(code)


def _run_main() -> int:
    import runpy

    code: int = 0
    try:
        runpy.run_module("service.cli", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # what interpreter shutdown would run (logging's flush)
    except BaseException:
        traceback.print_exc()
    return code


if __name__ == "__main__":
    _serve(sys.argv[1])
