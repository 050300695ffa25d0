"""`enroll-code`, `station list` and `sync-prune`: stations and change-feed maintenance."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction, utcnow
from service.models import Station
from service.stations import list_stations
from service.sync_server.enrollment import ENROLL_CODE_VALIDITY, issue_enroll_code
from service.sync_server.pull import prune_changes, prune_changes_before


def register(subparsers: Subparsers) -> None:
    """Add `enroll-code` and `sync-prune`."""
    enroll = subparsers.add_parser(
        "enroll-code",
        help="print a one-time enrolment code for a station (creates the station if missing)",
    )
    add_db_option(enroll)
    which_stations = enroll.add_mutually_exclusive_group(required=True)
    which_stations.add_argument("--station", metavar="NAME", help="station name")
    which_stations.add_argument(
        "--names-file",
        type=Path,
        metavar="FILE",
        help="many stations at once: one name a line (blank lines and # comments skipped); "
        "prints name, code and expiry tab-separated, one station a line; all or nothing",
    )
    enroll.add_argument(
        "--hours",
        type=float,
        default=ENROLL_CODE_VALIDITY.total_seconds() / 3600,
        help="how long the code stays valid (default: 24)",
    )
    enroll.add_argument(
        "--reenroll",
        action="store_true",
        help="the station is already enrolled and moves to a new computer: its current token "
        "stops working once the new code is used",
    )
    enroll.set_defaults(handler=run_enroll_code)

    station = subparsers.add_parser("station", help="list the packing stations")
    station_actions = station.add_subparsers(dest="station_action", metavar="ACTION")
    slist = station_actions.add_parser("list", help="stations with their ids and batches")
    add_db_option(slist)
    slist.set_defaults(handler=run_station_list)

    prune = subparsers.add_parser(
        "sync-prune", help="delete old change-feed rows (stations behind them re-snapshot)"
    )
    add_db_option(prune)
    which = prune.add_mutually_exclusive_group(required=True)
    which.add_argument("--keep-after-seq", type=int, metavar="SEQ", help="keep rows after SEQ")
    which.add_argument("--older-than-days", type=float, metavar="DAYS", help="delete older rows")
    prune.set_defaults(handler=run_sync_prune)


def _names_from(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {path}: {exc}. Give a UTF-8 text file.") from exc
    names = [line.strip() for line in text.splitlines()]
    names = [name for name in names if name and not name.startswith("#")]
    if not names:
        raise CommandError(f"{path} names no station: write one station name a line.")
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise CommandError(
            f"{path} names {', '.join(twice)} more than once: each station once. "
            "No code was issued."
        )
    return names


def run_enroll_codes(args: argparse.Namespace) -> int:
    """Codes for every station in the names file, in one transaction; all or none."""
    names = _names_from(args.names_file)
    with transaction(open_sessions(args)) as session:
        enrolled = session.scalars(
            select(Station.name).where(Station.name.in_(names), Station.enrolled_at.is_not(None))
        ).all()
        if enrolled and not args.reenroll:
            raise CommandError(
                f"Already enrolled: {', '.join(sorted(enrolled))}. To give them new computers, "
                "run this again with --reenroll; otherwise take them out of the file. "
                "No code was issued."
            )
        issued = []
        for name in names:
            station, code = issue_enroll_code(session, name, timedelta(hours=args.hours))
            assert station.enroll_expires_at is not None
            issued.append((station.name, code, station.enroll_expires_at))
    print("# station\tcode\tvalid until (UTC), once each")
    for name, code, expires in issued:
        print(f"{name}\t{code}\t{expires:%Y-%m-%d %H:%M}")
    return 0


def run_enroll_code(args: argparse.Namespace) -> int:
    """Issue the code and print it once; only its hash is stored."""
    if args.hours <= 0:
        raise CommandError("--hours must be more than 0.")
    if args.names_file is not None:
        return run_enroll_codes(args)
    with transaction(open_sessions(args)) as session:
        existing = session.scalar(select(Station).where(Station.name == args.station.strip()))
        if existing is not None and existing.enrolled_at is not None and not args.reenroll:
            raise CommandError(
                f"Station {existing.name} is already enrolled (id {existing.id}, since "
                f"{existing.enrolled_at:%Y-%m-%d}). To give it a new computer, run this again "
                "with --reenroll; for another bench, choose another name."
            )
        station, code = issue_enroll_code(session, args.station, timedelta(hours=args.hours))
        name, expires = station.name, station.enroll_expires_at
    assert expires is not None
    print(f"Enrolment code for station {name}: {code}")
    print(f"Valid until {expires:%Y-%m-%d %H:%M} UTC, once. Enter it on the station.")
    return 0


def run_sync_prune(args: argparse.Namespace) -> int:
    """Delete change rows by sequence number or age."""
    with transaction(open_sessions(args)) as session:
        if args.keep_after_seq is not None:
            deleted = prune_changes(session, args.keep_after_seq)
        else:
            if args.older_than_days < 0:
                raise CommandError("--older-than-days must be 0 or more.")
            deleted = prune_changes_before(session, utcnow() - timedelta(days=args.older_than_days))
    print(f"Deleted {deleted} change rows.")
    return 0


def run_station_list(args: argparse.Namespace) -> int:
    """One line per station: id, name, enrolled or not, last contact, open batches."""
    with transaction(open_sessions(args)) as session:
        rows = list_stations(session)
    if not rows:
        print("No stations yet: `packbench-service enroll-code --station NAME` creates one.")
    for r in rows:
        enrolled = f"enrolled {r.enrolled_at:%Y-%m-%d}" if r.enrolled_at else "not enrolled"
        seen = f"last seen {r.last_seen_at:%Y-%m-%d %H:%M} UTC" if r.last_seen_at else "never seen"
        print(f"{r.id}\t{r.name}\t{enrolled}\t{seen}\t{r.open_batches} open batch(es)")
    return 0
