"""A clean Debian 12 (debootstrap minbase) to install packages into, cached between runs.

The cache lives outside the repository (PACKBENCH_CHROOT_CACHE, default
/var/cache/packbench-chroot): `minbase.tar` is the bare system, `deps-<hash>.tar` the same
with a package's declared dependencies installed (so a run installs only our package, with
no download). Each test unpacks a fresh copy; `/proc` is mounted while it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(os.environ.get("PACKBENCH_CHROOT_CACHE", "/var/cache/packbench-chroot"))
MIRROR = os.environ.get("PACKBENCH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
# Never part of what a package leaves behind: the package manager's and the kernel's own.
NOT_OURS = (
    "proc/",
    "dev/",
    "sys/",
    "run/",
    "tmp/",
    "var/cache/",
    "var/lib/apt/",
    "var/lib/dpkg/",
    "var/log/",
)


def why_not() -> str | None:
    """The reason a chroot cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root (chroot, mount, debootstrap)"
    if shutil.which("debootstrap") is None:
        return "needs debootstrap (apt-get install debootstrap)"
    return None


def run_in(
    root: Path, *cmd: str, timeout: float = 300, check: bool = True, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run a command inside the chroot with a plain environment."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
    }
    done = subprocess.run(
        ["chroot", str(root), *cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,  # type: ignore[call-overload]
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def _minbase() -> Path:
    tar = CACHE / "minbase.tar"
    if tar.exists():
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    root = CACHE / "minbase.tmp"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    _pack(root, tar)
    return tar


def _pack(root: Path, tar: Path) -> None:
    part = tar.with_suffix(".part")
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(part), "."], check=True)
    part.replace(tar)
    shutil.rmtree(root, ignore_errors=True)


def _with_deps(depends: list[str]) -> Path:
    key = hashlib.sha256(" ".join(sorted(depends)).encode()).hexdigest()[:12]
    tar = CACHE / f"deps-{key}.tar"
    if tar.exists():
        return tar
    base = _minbase()
    root = CACHE / f"deps-{key}.tmp"
    shutil.rmtree(root, ignore_errors=True)
    _unpack(base, root)
    with mounted_proc(root):
        run_in(root, "apt-get", "update", "-qq", timeout=600)
        run_in(
            root,
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            *depends,
            timeout=900,
        )
        run_in(root, "apt-get", "clean")
    _pack(root, tar)
    return tar


def _unpack(tar: Path, root: Path) -> None:
    root.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(tar)], check=True)


@contextlib.contextmanager
def mounted_proc(root: Path) -> Iterator[None]:
    """/proc inside the chroot while the block runs."""
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(root / "proc")], check=False)


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """One process at a time builds the cache (two test workers, two checkouts)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fresh(root: Path, depends: list[str]) -> Path:
    """A new minbase chroot at `root` with `depends` already installed (from the cache)."""
    with _cache_lock():
        tar = _with_deps(depends) if depends else _minbase()
    _unpack(tar, root)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    return root


def files(root: Path) -> set[str]:
    """Every path in the chroot, relative, except the package manager's and kernel's own."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel + "/"
        if rel.startswith(NOT_OURS):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            found.add(rel + name)
    return found


def depends_of(deb: Path) -> list[str]:
    """The package names in a .deb's Depends field (versions dropped)."""
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], check=True, capture_output=True, text=True
    ).stdout
    return [part.split("(")[0].split("|")[0].strip() for part in field.split(",") if part.strip()]


__all__ = ["CACHE", "depends_of", "files", "fresh", "mounted_proc", "run_in", "why_not"]
