"""Start the station: settings, local replica, devices, sync engine, runtime and window.

Everything that can fail at start (a locked or damaged database, a bad device URL, no
keyring) ends in a sentence that says what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from app.config import (
    ConfigError,
    StationPaths,
    StationSettings,
    load_settings,
    machine_config_path,
    save_settings,
)
from app.i18n import _
from app.logs import setup_logging

log = logging.getLogger(__name__)


def _apply_overrides(settings: StationSettings, args: argparse.Namespace) -> StationSettings:
    changes: dict[str, object] = {}
    for arg, key in (
        ("server", "server_url"),
        ("scanner", "scanner"),
        ("scale", "scale"),
        ("label_printer", "label_printer"),
        ("document_printer", "document_printer"),
    ):
        value = getattr(args, arg, None)
        if value:
            changes[key] = value
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _fail(message: str) -> int:
    print(f"packbench: {message}", file=sys.stderr)
    log.error(message)
    return 2


# Qt platforms that draw without a display server.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem(env: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why the window cannot open here (no display), in one sentence; None if it can try."""
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if qpa in _HEADLESS_PLATFORMS:
        return None
    wayland = bool(env.get("WAYLAND_DISPLAY"))
    if qpa.startswith("wayland"):
        if wayland:
            return None
        return "no Wayland display to open the station window on (WAYLAND_DISPLAY is not set)"
    if env.get("DISPLAY") or (not qpa and wayland):
        return None
    return "no display to open the station window on (DISPLAY is not set)"


class _Stopped(BaseException):
    """SIGTERM or SIGINT before the window took over the signals.

    A BaseException, like KeyboardInterrupt: a signal that lands inside a step that catches
    Exception (the demo's command sheet) must still stop the station, not be logged and lost.
    """


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def launch(args: argparse.Namespace) -> int:
    """Run the command the arguments ask for; returns the exit code."""
    if not args.self_test and args.command != "enroll":
        problem = display_problem(os.environ)
        if problem:  # before logging is set up: one line on stderr, nothing else
            advice = _(
                "{problem}: start it in the station's desktop session (or over ssh -X); "
                "{command} needs no display",
                problem=problem,
                command="`packbench --self-test`",
            )
            print(f"packbench: {advice}", file=sys.stderr)
            return 2
    # Until the window handles them (app.views.run), the signals unwind this function so the
    # demo's temporary folder is removed.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    try:
        return _launch(args)
    except _Stopped as stopped:
        log.info("%s before the station window opened: stopped", stopped)
        return 0


def speak_site_language(settings: StationSettings) -> str:
    """The station's own language (config `language`): what the screen says when nobody, or
    someone without a language of their own, is logged in. A badge login switches to the
    person's (app.station.runtime), a logout back to this."""
    from app import i18n

    site = i18n.set_site_language(settings.language)
    i18n.set_language(None)
    return site


def _launch(args: argparse.Namespace) -> int:
    demo = None
    data_dir: Path | None = args.data_dir
    if args.demo:
        from app.demo import DemoService

        demo = DemoService.start(data_dir)
        data_dir = demo.data_dir
    paths = StationPaths.for_data_dir(data_dir)
    setup_logging(paths.log_dir)
    try:
        settings = _apply_overrides(load_settings(paths.config_file), args)
    except ConfigError as exc:
        return _fail(str(exc))
    speak_site_language(settings)  # the self-test report and the wizard too
    try:
        if args.command == "enroll":
            # A station installed with its server preseeded needs only the code.
            server = args.enroll_server or settings.server_url
            if not server:
                return _fail(
                    _(
                        "enroll needs the service's address: give --server https://HOST, or "
                        "set server_url in {path} (packbench/server-url on Debian)",
                        path=str(machine_config_path()),
                    )
                )
            if not _plain_http_accepted(server, args.insecure_http):
                return _fail(
                    _(
                        "enrolment cancelled: use an https:// server address, or confirm "
                        "plain HTTP with {option}",
                        option="--insecure-http",
                    )
                )
            return _enroll(paths, settings, server, args.code)
        if demo is not None:
            settings = demo.configure(paths, settings)
        if args.self_test:
            from app.selftest import run_self_test

            return run_self_test(paths, settings)
        if demo is None and not settings.server_url:
            from app.views.wizard import WizardOutcome, first_run

            outcome, settings = first_run(paths, settings)
            if outcome is WizardOutcome.DEMO:
                return _launch(argparse.Namespace(**{**vars(args), "demo": True}))
            if outcome is WizardOutcome.CANCELLED:
                return _fail(_("first-run wizard cancelled; nothing was saved"))
        from app.views.run import run_station

        speak_site_language(settings)
        return run_station(paths, settings, demo=demo)
    finally:
        if demo is not None:
            demo.stop()


def _plain_http_accepted(server: str, confirmed: bool) -> bool:
    """Warn before enrolling over http:// with another machine; ask unless `confirmed`."""
    from sync.client import plain_http_to_another_host

    if not plain_http_to_another_host(server):
        return True
    print(
        _(
            "WARNING: {server} is plain HTTP to another machine. The station token, supervisor "
            "PINs and customers' addresses would cross the network unencrypted; anyone on the "
            "way could act as this station.",
            server=server,
        ),
        file=sys.stderr,
    )
    if confirmed:
        return True
    # TRANSLATORS: keep "[y/N]": the answer is read as y or yes
    print(_("Enroll over plain HTTP anyway? [y/N]") + " ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _enroll(paths: StationPaths, settings: StationSettings, server: str, code: str) -> int:
    from app import __version__
    from sync.client import enroll
    from sync.errors import KeyringUnavailable, SyncError

    try:
        enrolled = enroll(server.rstrip("/"), code, app_version=__version__)
    except KeyringUnavailable as exc:
        return _fail(
            _(
                "{problem} The enrolment code is not used up: once the keyring works, run the "
                "same command again (within 15 minutes if it got as far as the service).",
                problem=exc,
            )
        )
    except SyncError as exc:
        return _fail(_("enrolment failed: {error}", error=exc))
    save_settings(
        paths.config_file,
        dataclasses.replace(
            settings, server_url=server.rstrip("/"), station_name=enrolled.station_name
        ),
    )
    print(
        _(
            "Enrolled as station {station} (station id {id}); the token is in the OS keyring.",
            station=repr(enrolled.station_name),
            id=enrolled.station_id,
        )
    )
    return 0
