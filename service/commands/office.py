"""`office-user add|list|disable|enable`: the people who sign in to the operations console."""

from __future__ import annotations

import argparse
import getpass
import sys

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.office.accounts import (
    OfficeRole,
    add_office_user,
    list_office_users,
    set_office_user_active,
)


def register(subparsers: Subparsers) -> None:
    """Add the `office-user` command group."""
    office = subparsers.add_parser(
        "office-user", help="manage the people who sign in to the operations console"
    )
    actions = office.add_subparsers(dest="office_action", metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="add a console user; the password is read from stdin, or asked for without echo",
    )
    add_db_option(add)
    add.add_argument("--email", required=True, help="what they sign in with")
    add.add_argument("--name", required=True)
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in OfficeRole],
        help="viewer reads; operator acts on orders and batches; admin also closes the day",
    )
    add.set_defaults(handler=run_add)
    lst = actions.add_parser("list", help="list console users (never their passwords)")
    add_db_option(lst)
    lst.set_defaults(handler=run_list)
    for verb, active, text in (
        ("disable", False, "stop a console user signing in (their sessions end at once)"),
        ("enable", True, "let a disabled console user sign in again"),
    ):
        p = actions.add_parser(verb, help=text)
        add_db_option(p)
        p.add_argument("email")
        p.set_defaults(handler=run_active, active=active)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("The two passwords differ; nothing was added.")
    return first


def run_add(args: argparse.Namespace) -> int:
    """Create the account and say so (the password is never printed)."""
    password = _read_password()
    with transaction(open_sessions(args)) as session:
        user = add_office_user(
            session, email=args.email, name=args.name, role=args.role, password=password
        )
        line = f"Added console {user.role} {user.name} <{user.email}> (id {user.id})."
    print(line)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per console user: id, role, e-mail, name, active or disabled."""
    with transaction(open_sessions(args)) as session:
        rows = [(u.id, u.role, u.email, u.name, u.active) for u in list_office_users(session)]
    if not rows:
        print("No console users yet: add one with `packbench-service office-user add`.")
    for uid, role, email, name, active in rows:
        print(f"{uid}\t{role}\t{email}\t{name}\t{'active' if active else 'disabled'}")
    return 0


def run_active(args: argparse.Namespace) -> int:
    """Disable or enable a console user."""
    with transaction(open_sessions(args)) as session:
        user = set_office_user_active(session, args.email, args.active)
        email = user.email
    print(f"{email} {'enabled' if args.active else 'disabled'}")
    return 0
