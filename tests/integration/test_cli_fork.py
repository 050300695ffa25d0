"""The forked `packbench-service` runs (tests.support.cli_fork) against fresh `python -m`.

Most CLI tests run their commands in children forked from a warm process. These tests hold
that helper to what a fresh process does: the same exit status, output and refusals, the
test's environment and stdin, a timeout that kills, and a fresh process whenever the
zygote could not be faithful.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support import cli_fork
from tests.support.service_process import ROOT, child_env, free_port


@pytest.fixture(autouse=True)
def _forking_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are of the forked runs, also in a run that turned them off for the rest."""
    monkeypatch.delenv("PACKBENCH_TEST_CLI_FORK", raising=False)


def _fresh(
    argv: list[str], env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return cli_fork.fresh(argv, env=env, cwd=ROOT, input=input, timeout=120)


def _forked(
    argv: list[str], env: dict[str, str], input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return cli_fork.run(argv, env=env, cwd=ROOT, input=input, timeout=timeout)


def test_a_forked_run_prints_and_exits_as_a_fresh_process_does(tmp_path: Path) -> None:
    fresh_env = child_env(tmp_path / "fresh.json", f"sqlite:///{tmp_path / 'fresh.db'}")
    fork_env = child_env(tmp_path / "fork.json", f"sqlite:///{tmp_path / 'fork.db'}")
    password = "s3cret enough password"
    add = ["office-user", "add", "--email", "ann@example.com", "--name", "Ann", "--role", "viewer"]
    runs: list[tuple[list[str], str | None]] = [
        (["--help"], None),
        (["no-such-command"], None),  # argparse: usage on stderr, status 2
        (["db", "upgrade"], None),  # the database comes from PACKBENCH_DB_URL: the environment
        (["channel", "list"], None),
        (add, password + "\n"),  # the password from stdin
        (add, password + "\n"),  # refused: one line, status 1
        (["office-user", "list"], None),
        (["office-user", "add", "--email", "b@example.com", "--name", "B", "--role", "x"], None),
    ]
    listed = ""
    for argv, stdin in runs:
        fresh = _fresh(argv, fresh_env, stdin)
        forked = _forked(argv, fork_env, stdin)
        assert forked.returncode == fresh.returncode, (argv, fresh.stderr, forked.stderr)
        assert forked.stdout == fresh.stdout, argv
        if argv != ["db", "upgrade"]:  # its log lines carry the time
            assert forked.stderr == fresh.stderr, argv
        assert "Traceback" not in forked.stderr, argv
        if argv == ["office-user", "list"]:
            listed = forked.stdout
    assert "ann@example.com" in listed  # added once, into the forked run's own database
    codes = [_forked(argv, fork_env, stdin).returncode for argv, stdin in runs[:2]]
    assert codes == [0, 2]


def test_a_run_past_its_timeout_is_killed(tmp_path: Path) -> None:
    env = child_env(tmp_path / "keyring.json", f"sqlite:///{tmp_path / 'service.db'}")
    assert _forked(["db", "upgrade"], env).returncode == 0
    port = free_port()
    argv = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with ThreadPoolExecutor(1) as pool:
        served = pool.submit(_forked, argv, {**env, "PACKBENCH_SCHEDULER": "off"}, timeout=12)
        answered = False
        while not answered and not served.done():
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
            except httpx.TransportError:
                time.sleep(0.1)
        assert answered, "the forked `serve` never answered"
        with pytest.raises(subprocess.TimeoutExpired):
            served.result()
    with pytest.raises(httpx.TransportError):  # killed: nothing serves on the port any more
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_an_environment_the_zygote_cannot_reproduce_runs_a_fresh_process(tmp_path: Path) -> None:
    env = child_env(tmp_path / "keyring.json")
    _forked(["--help"], env)  # the worker's zygote exists from here on
    zygote = cli_fork._zygote
    assert zygote is not None and zygote.serves(env)
    other = {**env, "PYTHONPATH": f"{tmp_path}:{env['PYTHONPATH']}"}
    assert not zygote.serves(other)
    # A module on that path shadows nothing the CLI imports, yet proves the path was used.
    (tmp_path / "sitecustomize.py").write_text("print('fresh interpreter')\n")
    ran = _forked(["--help"], other)
    assert ran.returncode == 0 and ran.stdout.startswith("fresh interpreter\n")
