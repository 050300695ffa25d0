"""`packbench`: the packing-station entry point (command line options, then the Qt app)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The station's command line; device URLs as in ARCHITECTURE.md."""
    p = argparse.ArgumentParser(
        prog="packbench", description="Packbench packing station: scan, verify, weigh, label."
    )
    p.add_argument("--version", action="store_true", help="print version and build, then exit")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check database, keyring, devices and server; print a report; "
        "exit non-zero on failure",
    )
    p.add_argument(
        "--check-libraries",
        action="store_true",
        help="bundled station: list the system libraries it needs, say which are missing "
        "and which Debian packages provide them; exit non-zero when any is missing",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="run against an embedded demo service with simulated devices",
    )
    p.add_argument("--server", help="central service URL, e.g. https://oms.example.com")
    p.add_argument(
        "--data-dir",
        type=Path,
        help="keep all local state (database, config, logs) in this directory",
    )
    p.add_argument("--scanner", help="scanner URL: wedge | serial:///dev/ttyACM0?baudrate=9600")
    p.add_argument("--scale", help="scale URL: sim:// | manual | mtsics+serial:///dev/ttyUSB0")
    p.add_argument("--label-printer", help="label printer URL: zpl+tcp://host:9100 | file:///dir")
    p.add_argument("--document-printer", help="document printer URL: pdf:///dir | cups://Queue")
    sub = p.add_subparsers(dest="command")
    enroll = sub.add_parser("enroll", help="enroll this station with the central service")
    enroll.add_argument(
        "--server",
        dest="enroll_server",
        help="central service URL (default: server_url of the settings, e.g. the one "
        "preseeded into the machine-wide station.toml)",
    )
    enroll.add_argument("--code", required=True, help="one-time code from the service")
    enroll.add_argument(
        "--insecure-http",
        "--yes",
        dest="insecure_http",
        action="store_true",
        help="enroll over plain http:// with a server on another machine without asking "
        "(the station token then crosses the network unencrypted)",
    )
    return p


# The `station` extra (pyproject.toml): import name -> distribution name.
STATION_MODULES = {
    "PySide6": "pyside6",
    "serial": "pyserial",
    "escpos": "python-escpos",
    "barcode": "python-barcode",
    "qrcode": "qrcode",
    "tomli_w": "tomli-w",
}


def missing_station_packages() -> list[str]:
    """The station's distributions that cannot be imported here (empty when all are)."""
    missing = []
    for module, distribution in STATION_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    return missing


def _stack_dump_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints every thread's Python stack to stderr: what a station that
    seems stuck is doing, without stopping it (support, and the packaging tests)."""
    import faulthandler
    import signal

    if hasattr(signal, "SIGUSR1") and sys.stderr is not None:
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the station; returns the process exit code."""
    _stack_dump_on_sigusr1()
    args = build_parser().parse_args(argv)
    if args.check_libraries:  # before anything loads Qt: it runs where Qt cannot start
        from app.libcheck import check_libraries

        return check_libraries()
    missing = missing_station_packages()
    if missing:
        print(
            f"packbench: the packing station is not installed here (missing: "
            f"{', '.join(missing)}); install it with: pip install 'packbench[station]' "
            "(this installation has the central service only: packbench-service)",
            file=sys.stderr,
        )
        return 3
    if args.version:
        from app.buildinfo import version_text

        print(version_text())
        return 0
    from app.libcheck import missing_in_bundle, missing_sentence

    absent = missing_in_bundle()
    if absent:  # every missing one at once, not the first dynamic-linker error of Qt's
        print(missing_sentence(absent), file=sys.stderr)
        return 2
    from app.launch import launch

    return launch(args)


if __name__ == "__main__":
    sys.exit(main())
