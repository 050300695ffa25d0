"""A process group held to a share of the CPUs: one service "machine" on a shared host.

What one more service machine adds cannot be measured by starting a second service on the
same two cores: both take whatever the host has, and so would one. A Linux cgroup's CPU
quota (`cpu.cfs_quota_us` over `cpu.cfs_period_us`, cgroup v1) makes each service process
a machine of `cpus` cores whatever else runs: one box at 0.4 CPUs against two boxes at 0.4
each is one such machine against two, beside the same database and load generator, which
take the rest of the host.

Needs the cgroup v1 `cpu` and `cpuacct` controllers mounted at /sys/fs/cgroup/cpu and
/sys/fs/cgroup/cpuacct and writable (root, or a delegated tree). Elsewhere (a cgroup v2-only
host, no permission) `CpuBox` raises `CpuBoxUnavailable` saying so: the bench refuses
rather than reporting processes that share every core as machines. cgroup v2 (`cpu.max`)
is not implemented: no host these benches ran on had its cpu controller on v2.

    box = CpuBox("svc-1", cpus=0.4, first_core=1)   # 0.4 of core 1
    proc = subprocess.Popen(cmd, preexec_fn=box.enter)   # the process and its children
    ...
    box.cpu_seconds()   # CPU time used by everything in the box
    box.throttled()     # periods in which the quota held it back
    box.remove()
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
CPUACCT_ROOT = Path("/sys/fs/cgroup/cpuacct")
PERIOD_US = 100_000


class CpuBoxUnavailable(RuntimeError):
    """This host gives the bench no CPU quota it can set."""


class CpuBox:
    """A cgroup (cpu + cpuacct, v1) named `packbench-<name>-<pid>` with a quota of `cpus`,
    its processes kept on ceil(cpus) cores from `first_core` on (wrapping round the host's).

    The cores matter as much as the quota: a machine of 0.3 CPUs has one core. Left free on
    an idle host, one Python process's threads ran on two cores at once, handing the GIL
    between them, and a lone service spent 3.5 ms of CPU a push against 2.3 ms on one core
    (bench/scale_out.py, 6 Dec 2026), which made two services look 2.5x one."""

    def __init__(self, name: str, cpus: float, first_core: int = 0) -> None:
        if cpus <= 0:
            raise ValueError("cpus must be positive")
        host = sorted(os.sched_getaffinity(0))
        self.cores = {host[(first_core + i) % len(host)] for i in range(math.ceil(cpus))}
        if (
            not (CPU_ROOT / "cpu.cfs_quota_us").exists()
            or not (CPUACCT_ROOT / "cpuacct.usage").exists()
        ):
            raise CpuBoxUnavailable(
                "no cgroup v1 cpu and cpuacct controllers at /sys/fs/cgroup/cpu and "
                "/sys/fs/cgroup/cpuacct: this host cannot hold a service to a share of its "
                "CPUs, so one more service process would only share the same cores"
            )
        self.cpus = cpus
        leaf = f"packbench-{name}-{os.getpid()}"
        self.dirs = [CPU_ROOT / leaf, CPUACCT_ROOT / leaf]
        try:
            for d in self.dirs:
                d.mkdir(exist_ok=True)
            (self.dirs[0] / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.dirs[0] / "cpu.cfs_quota_us").write_text(str(round(cpus * PERIOD_US)))
        except OSError as exc:
            self.remove()
            raise CpuBoxUnavailable(
                f"cannot set a CPU quota ({exc}): run the bench as root, or where the cgroup "
                "tree is delegated to its user"
            ) from exc
        self._usage0 = self._usage_ns()

    def enter(self) -> None:
        """Move the calling process into the box (use as Popen's preexec_fn: the child and
        every process it forks, uvicorn's workers included, run under the quota)."""
        pid = str(os.getpid())
        for d in self.dirs:
            (d / "cgroup.procs").write_text(pid)
        os.sched_setaffinity(0, self.cores)

    def _usage_ns(self) -> int:
        return int((self.dirs[1] / "cpuacct.usage").read_text())

    def cpu_seconds(self) -> float:
        """CPU seconds used in the box since it was made."""
        return (self._usage_ns() - self._usage0) / 1e9

    def throttled(self) -> int:
        """How many 100 ms periods the quota cut short (0: it never held the box back)."""
        for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "nr_throttled":
                return int(value)
        return 0

    def remove(self) -> None:
        """Remove the groups once their processes have exited (retries briefly: a killed
        process leaves its group a moment later)."""
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
