"""bench/_cpubox.py: the CPU quota that makes a service process one "machine" in
bench/scale_out.py. Its figures mean something only if the quota really holds and the box
counts what ran in it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import _cpubox
from bench._cpubox import CpuBox, CpuBoxUnavailable

SPIN = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < {s}: pass\n"


def _box_or_skip(name: str, cpus: float, first_core: int = 0) -> CpuBox:
    try:
        return CpuBox(name, cpus, first_core)
    except CpuBoxUnavailable as exc:
        pytest.skip(f"no CPU quota on this host: {exc}")


def test_a_box_holds_a_busy_process_and_its_children_to_the_quota() -> None:
    box = _box_or_skip("test-quota", 0.2)
    try:
        # A parent that forks a second spinner: both are in the box, as uvicorn's workers are.
        code = (
            "import subprocess, sys\n"
            f"child = subprocess.Popen([sys.executable, '-c', {SPIN.format(s=1.5)!r}])\n"
            + SPIN.format(s=1.5)
            + "child.wait()\n"
        )
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", code], check=True, preexec_fn=box.enter)
        wall = time.monotonic() - t0
        used = box.cpu_seconds()
        # Two spinners would take up to 2 CPUs for 1.5 s: the box gave them 0.2 CPUs in all
        # (a little over for start-up and the quota's 100 ms granularity).
        assert used <= 0.2 * wall + 0.15, (used, wall)
        assert used >= 0.1, used  # and it counted what they ran
        assert box.throttled() > 0  # the quota, not a lack of work, held them back
    finally:
        box.remove()
    assert not any(d.exists() for d in box.dirs)


def test_a_box_keeps_its_processes_on_its_own_cores() -> None:
    """A box of under one CPU is a one-core machine: its threads must not spread over an
    idle host's cores (handing the GIL between cores cost a lone service a third more CPU
    a push)."""
    host = sorted(os.sched_getaffinity(0))
    box = _box_or_skip("test-cores", 0.3, first_core=len(host) + 1)
    try:
        assert box.cores == {host[1 % len(host)]}
        out = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=box.enter,
        ).stdout
        assert out.strip() == str(sorted(box.cores))
    finally:
        box.remove()


def test_no_quota_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cpubox, "CPU_ROOT", tmp_path / "cpu")
    monkeypatch.setattr(_cpubox, "CPUACCT_ROOT", tmp_path / "cpuacct")
    with pytest.raises(CpuBoxUnavailable, match="cannot hold a service to a share of its CPUs"):
        CpuBox("test-none", 0.5)
