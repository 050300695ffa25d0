"""One `packaging/build` of every installer per test session, kept while its inputs are unchanged.

PyInstaller is the long pole of the packaging tests (minutes of both shared cores). Every
packaging test takes its artefacts from one build: the station bundle, its .deb and tarball,
the service wheel and the service .deb. The build is kept in PACKBENCH_BUILD_CACHE (default
/var/cache/packbench-build) under a key made of everything that goes into it, so a second
run with the same sources and the same build environment unpacks nothing and builds nothing.

The key: the content and mode of every file of the checkout that git tracks or would track
(tests/ excepted: nothing of it is shipped), the packages in the build's virtual environment
(name and version), the build Python and the target Python of the service venv, and the
settings packaging/build reads from the environment. A build that fails is not kept.

`built_previous(commit)` is the station .deb of an earlier commit of this repository (the
"previous release" an upgrade test starts from), kept beside them as previous-<commit>-<key>.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PACKBENCH_BUILD_CACHE", "/var/cache/packbench-build"))
TARGETS = ("bundle", "deb", "tarball", "service", "service-deb")
# Builds kept besides the one in use (each is ~1 GB: the bundle, two packages, a tarball).
KEEP = 2
# Not shipped in any artefact: a change there reuses the build.
NOT_INPUTS = ("tests/", ".ci/")
BUILD_ENV = ("PACKBENCH_DEB_COMPRESSION", "PACKBENCH_SERVICE_PYTHON", "SOURCE_DATE_EPOCH")


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def input_key(python: Path) -> str:
    """A hash of everything the build reads (see the module docstring)."""
    digest = hashlib.sha256()
    names = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split(b"\0")
    for name in sorted(set(names)):
        rel = name.decode()
        path = ROOT / rel
        if not rel or rel.startswith(NOT_INPUTS) or not path.is_file():
            continue
        digest.update(rel.encode() + b"\0" + str(os.access(path, os.X_OK)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
    ).stdout
    digest.update(frozen)
    digest.update(sys.version.encode())
    service_python = os.environ.get("PACKBENCH_SERVICE_PYTHON", "/usr/bin/python3.11")
    if os.access(service_python, os.X_OK):
        digest.update(
            subprocess.run([service_python, "-VV"], capture_output=True, check=False).stdout
        )
    for name in BUILD_ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One build at a time (two test workers, two checkouts on one machine)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _prune(keep: Path, prefix: str = "", keep_count: int = KEEP) -> None:
    """Remove all but the newest `keep_count` builds named with `prefix` besides `keep`."""
    builds = sorted(
        (
            p
            for p in CACHE.iterdir()
            if p.is_dir()
            and p != keep
            and p.name.startswith(prefix)
            and (prefix or not p.name.startswith(PREVIOUS))
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[keep_count:]:
        shutil.rmtree(old, ignore_errors=True)


def built(python: Path | None = None) -> Path:
    """The folder with every artefact of `packaging/build` for this checkout (built if new)."""
    python = python or ROOT / ".venv" / "bin" / "python"
    key = input_key(python)
    out = CACHE / key
    with _locked():
        if (out / ".complete").exists():
            print(f"packaging/build: reusing {out}")
            os.utime(out)
            return out
        part = CACHE / f"{key}.part"
        shutil.rmtree(part, ignore_errors=True)
        started = time.monotonic()
        done = subprocess.run(
            [str(ROOT / "packaging" / "build"), "--out", str(part), *TARGETS],
            cwd=ROOT,
            env={**os.environ, "PYTHON": str(python)},
            capture_output=True,
            text=True,
            timeout=2400,
        )
        took = time.monotonic() - started
        print(f"packaging/build {' '.join(TARGETS)} took {took:.0f} s")
        if done.returncode != 0:
            shutil.rmtree(part, ignore_errors=True)
            raise AssertionError(
                f"packaging/build failed ({done.returncode}):\n"
                + done.stdout[-3000:]
                + done.stderr[-5000:]
            )
        # The staging trees (PyInstaller's work, the .deb and tarball stages): ~1.5 GB, unused.
        shutil.rmtree(part / "work", ignore_errors=True)
        (part / ".complete").write_text(f"{took:.0f} s\n")
        shutil.rmtree(out, ignore_errors=True)
        part.rename(out)
        _prune(out)
        return out


PREVIOUS = "previous-"


def built_previous(commit: str, python: Path | None = None) -> Path:
    """The station .deb built from `commit` of this repository, kept by commit and build env.

    The sources are that commit exactly (a shared clone, so its packaging/build runs as it
    was); only the package version gets a suffix, `VERSION~gitDATE.SHA`, so that the current
    build of the same pyproject version is an upgrade for dpkg and apt (`~` sorts first).
    `--version` of the installed program still prints the version and the commit's build id.
    """
    python = python or ROOT / ".venv" / "bin" / "python"
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise LookupError(f"commit {commit} is not in this checkout (a shallow clone?)")
    full = found.stdout.strip()
    date = _git("log", "-1", "--format=%cd", "--date=format:%Y%m%d%H%M", full).decode().strip()
    suffix = f"~git{date}.{full[:7]}"
    digest = hashlib.sha256(f"{full}{suffix}".encode())
    digest.update(
        subprocess.run(
            [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
            check=True,
            capture_output=True,
        ).stdout
    )
    digest.update(sys.version.encode())
    for name in BUILD_ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    out = CACHE / f"{PREVIOUS}{full[:12]}-{digest.hexdigest()[:12]}"
    with _locked():
        if (out / ".complete").exists():
            print(f"packaging/build of {full[:12]}: reusing {out}")
            os.utime(out)
            return out
        part = CACHE / f"{out.name}.part"
        shutil.rmtree(part, ignore_errors=True)
        src = part / "src"
        started = time.monotonic()
        subprocess.run(
            ["git", "clone", "-q", "--shared", "--no-checkout", str(ROOT), str(src)],
            check=True,
            capture_output=True,
        )
        subprocess.run(["git", "checkout", "-q", full], cwd=src, check=True, capture_output=True)
        control = src / "packaging" / "linux" / "control.in"
        text = control.read_text()
        assert "Version: @VERSION@\n" in text, f"{commit}: no Version line in control.in"
        control.write_text(text.replace("Version: @VERSION@\n", f"Version: @VERSION@{suffix}\n"))
        # The build id stays the commit's own (not "-dirty") for this one planned change.
        subprocess.run(
            ["git", "update-index", "--assume-unchanged", "packaging/linux/control.in"],
            cwd=src,
            check=True,
        )
        done = subprocess.run(
            [str(src / "packaging" / "build"), "--out", str(part / "dist"), "bundle", "deb"],
            cwd=src,
            env={**os.environ, "PYTHON": str(python)},
            capture_output=True,
            text=True,
            timeout=2400,
        )
        took = time.monotonic() - started
        print(f"packaging/build bundle deb of {full[:12]} took {took:.0f} s")
        if done.returncode != 0:
            shutil.rmtree(part, ignore_errors=True)
            raise AssertionError(
                f"packaging/build of {full[:12]} failed ({done.returncode}):\n"
                + done.stdout[-3000:]
                + done.stderr[-5000:]
            )
        # Only the .deb is used: the sources, the bundle tree and the stage go.
        for name in ("src", "dist/work", "dist/bundle"):
            shutil.rmtree(part / name, ignore_errors=True)
        (part / ".complete").write_text(f"{took:.0f} s\n")
        shutil.rmtree(out, ignore_errors=True)
        part.rename(out)
        _prune(out, PREVIOUS, keep_count=1)
        return out


__all__ = ["CACHE", "PREVIOUS", "built", "built_previous", "input_key"]
