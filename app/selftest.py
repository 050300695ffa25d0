"""`packbench --self-test`: check database, keyring, devices and server; print a report.

Each check says what it found in one line. The exit code is non-zero when any check failed,
so an installer or a monitoring script can rely on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app import i18n
from app.config import StationPaths, StationSettings
from app.i18n import N_, _

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _database(paths: StationPaths, _settings: StationSettings) -> str:
    from sync.replica import Replica

    paths.database.parent.mkdir(parents=True, exist_ok=True)
    replica = Replica.open(paths.database)
    try:
        return _(
            "{path} opens; {orders} orders cached, {events} events waiting to be sent",
            path=paths.database,
            orders=i18n.number(replica.order_count()),
            events=i18n.number(replica.queue_depth()),
        )
    finally:
        replica.close()


def _keyring(_paths: StationPaths, settings: StationSettings) -> str:
    from sync.client import load_token

    if not settings.server_url:
        raise RuntimeError(
            _("no server configured; run {command} first", command="'packbench enroll'")
        )
    load_token(settings.server_url)
    return _("the station token is in the keyring")


def _server(_paths: StationPaths, settings: StationSettings) -> str:
    from sync.client import StationClient

    client = StationClient(settings.server_url)
    try:
        me = client.me()
    finally:
        client.close()
    return _(
        "{server} answers; this is station {station}",
        server=settings.server_url,
        station=repr(me.station_name),
    )


def _scanner(_paths: StationPaths, settings: StationSettings) -> str:
    from app.scanning.source import open_scanner

    source = open_scanner(settings.scanner)
    return f"{settings.scanner}: {source.probe()}"


def _scale(_paths: StationPaths, settings: StationSettings) -> str:
    from app.weighing.url import open_scale

    if settings.scale in ("", "manual"):
        if not settings.allow_manual_weight:
            raise RuntimeError(
                _(
                    "manual weight entry, but typed-in weights are not allowed "
                    "({setting} = false): nothing can be weighed. Configure a scale "
                    "or set {setting} = true.",
                    setting="allow_manual_weight",
                )
            )
        return _("manual weight entry (each typed-in weight is recorded as manual)")
    scale = open_scale(settings.scale)
    try:
        reading = scale.read()  # a weight request; a silent scale raises ScaleTimeout
    finally:
        scale.close()
    return _(
        "{scale} answers a weight request: {reading}",
        scale=settings.scale,
        reading=reading.describe(),
    )


def _printer(paths: StationPaths, settings: StationSettings) -> str:
    from app.printing.printer import open_printer

    # The same fallback the station uses: no printer configured means preview files.
    url = settings.label_printer or f"file://{paths.labels_dir}?lang=zpl"
    printer = open_printer(url)
    status = printer.status()  # a status query on the wire; silence is not "ready"
    if not status.ready:
        raise RuntimeError(
            _(
                "{printer}: {problem} Check that the printer is switched on and reachable "
                "at that address, then run the self-test again.",
                printer=url,
                problem=status.message,
            )
        )
    if not printer.transport.can_query:
        return _("{printer} is ready (label files; there is no status to ask)", printer=url)
    return _("{printer} answers its status query: ready", printer=url)


# The check names are the report's (N_: shown in the station's language).
CHECKS: tuple[tuple[str, Callable[[StationPaths, StationSettings], str]], ...] = (
    (N_("database"), _database),
    (N_("keyring"), _keyring),
    (N_("server"), _server),
    (N_("scanner"), _scanner),
    (N_("scale"), _scale),
    (N_("label printer"), _printer),
)


def run_checks(paths: StationPaths, settings: StationSettings) -> list[CheckResult]:
    """Run every check; one failing never stops the others."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(CheckResult(_(name), True, check(paths, settings)))
        except Exception as exc:  # noqa: BLE001  (every failure becomes a line of the report)
            log.warning("self-test %s failed: %s", name, exc)
            results.append(CheckResult(_(name), False, str(exc) or type(exc).__name__))
    return results


def run_self_test(paths: StationPaths, settings: StationSettings) -> int:
    """Print the report; 0 when every check passed, 1 otherwise."""
    results = run_checks(paths, settings)
    for r in results:
        print(f"[{'ok' if r.ok else 'FAIL'}] {r.name}: {r.detail}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(_("self-test FAILED: {checks}", checks=", ".join(failed)))
    else:
        print(_("self-test passed"))
    return 0 if not failed else 1
