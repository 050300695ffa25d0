"""List the system libraries a PyInstaller bundle needs but does not bring, with their packages.

    python packaging/system_libraries.py BUNDLE_DIR

Reads every ELF file in the bundle (readelf -d, from binutils, which PyInstaller needs too),
keeps the NEEDED names no bundled file provides, finds each on this build machine
(ldconfig -p) and asks dpkg which package owns it. The C library's own (package libc6, on
every Debian system) are left out. Writes BUNDLE_DIR/_internal/system-libraries.txt, one line
per library: soname, Debian package, one bundled file that needs it (tab-separated), which
`packbench --check-libraries` (app/libcheck.py) reads on the target. A library this machine
cannot name a package for stops the build: the check could not tell a user what to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
OUT_NAME = "system-libraries.txt"
# What the bundle needs besides libraries (read by app/libcheck.py the same way).
FILES = (
    # Qt draws text through fontconfig: without its configuration no font is found.
    ("/etc/fonts/fonts.conf", "fontconfig-config", "fontconfig (bundled)"),
)


def elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def needed(path: Path) -> list[str]:
    out = subprocess.run(
        ["readelf", "-d", "-W", str(path)], capture_output=True, text=True, check=False
    ).stdout
    return [
        line.split("[", 1)[1].split("]", 1)[0]
        for line in out.splitlines()
        if "(NEEDED)" in line and "[" in line
    ]


def host_paths() -> dict[str, str]:
    """soname -> path on this machine, for the machine's own architecture."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    arch = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(os.uname().machine, "")
    paths: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, rest = line.strip().partition(" ")
        if arch and arch not in rest:
            continue
        paths.setdefault(name, rest.rsplit("=> ", 1)[-1].strip())
    return paths


def owner(path: str) -> str | None:
    for candidate in dict.fromkeys((path, os.path.realpath(path))):
        for variant in (candidate, candidate.removeprefix("/usr"), "/usr" + candidate):
            done = subprocess.run(["dpkg", "-S", variant], capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout.split(":", 1)[0].strip()
    return None


def main(bundle: Path) -> int:
    files = elf_files(bundle)
    provided = {p.name for p in bundle.rglob("*.so*")}
    wanted: dict[str, Path] = {}
    for path in files:
        for name in needed(path):
            if name not in provided:
                wanted.setdefault(name, path)
    host = host_paths()
    lines, unknown = [], []
    for name in sorted(wanted):
        package = owner(host[name]) if name in host else None
        if package == "libc6":
            continue
        if package is None:
            unknown.append(f"{name} (needed by {wanted[name].relative_to(bundle)})")
            continue
        lines.append(f"{name}\t{package}\t{wanted[name].relative_to(bundle / '_internal')}")
    if unknown:
        print(
            "system_libraries: no Debian package on this machine provides "
            + ", ".join(unknown)
            + "; install it here so the bundle's library check can name it",
            file=sys.stderr,
        )
        return 1
    for path, package, needed_by in FILES:
        lines.append(f"{path}\t{package}\t{needed_by}")
    (bundle / "_internal" / OUT_NAME).write_text(
        "# soname or file, Debian package, a bundled file that needs it\n" + "\n".join(lines) + "\n"
    )
    print(f"system_libraries: {len(lines)} system libraries and files needed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
