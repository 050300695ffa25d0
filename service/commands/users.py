"""`user add|list|update|disable|enable` and `token create|list|revoke`."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.models import User
from service.users import (
    TokenRole,
    UserRole,
    add_user,
    create_token,
    list_tokens,
    revoke_token,
    set_user_active,
    update_user,
)


def register(subparsers: Subparsers) -> None:
    """Add the `user` and `token` command groups."""
    user = subparsers.add_parser("user", help="manage packers and supervisors")
    user_actions = user.add_subparsers(dest="user_action", metavar="ACTION")
    add = user_actions.add_parser("add", help="add a packer or supervisor")
    add_db_option(add)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole])
    add.add_argument(
        "--badge",
        required=True,
        help="the code on the user's badge: any code, but not a product's SKU/GTIN/alias, "
        "an order number or tote, or a PB: command",
    )
    add.add_argument(
        "--pin",
        default=None,
        help="6-12 digits; '-' asks for it without echo (supervisors need one to override)",
    )
    add.add_argument(
        "--language",
        default=None,
        help="the language the station shows this user (default: the site's)",
    )
    add.set_defaults(handler=run_user_add)
    update = user_actions.add_parser(
        "update", help="change a user's role, language or PIN (a new PIN lifts a lock-out)"
    )
    add_db_option(update)
    update.add_argument("user", help="the user's id or badge code")
    update.add_argument("--role", default=None, choices=[r.value for r in UserRole])
    update.add_argument(
        "--language", default=None, help="a language code such as de; '' for the site's"
    )
    update.add_argument(
        "--pin", default=None, help="'-' asks for a new PIN without echo (or reads it piped in)"
    )
    update.set_defaults(handler=run_user_update)
    lst = user_actions.add_parser("list", help="list users (never their PINs)")
    add_db_option(lst)
    lst.set_defaults(handler=run_user_list)
    for verb, active, text in (
        ("disable", False, "stop a user logging in at every station"),
        ("enable", True, "let a disabled user log in again"),
    ):
        p = user_actions.add_parser(verb, help=text)
        add_db_option(p)
        p.add_argument("user", help="the user's id or badge code")
        p.set_defaults(handler=run_user_active, active=active)

    token = subparsers.add_parser("token", help="manage operator API tokens")
    token_actions = token.add_subparsers(dest="token_action", metavar="ACTION")
    create = token_actions.add_parser("create", help="create a bearer token (printed once)")
    add_db_option(create)
    create.add_argument("--role", required=True, choices=[r.value for r in TokenRole])
    create.add_argument("--name", default="", help="who or what uses the token")
    create.set_defaults(handler=run_token_create)
    tlist = token_actions.add_parser("list", help="list tokens (id, role, name; never the token)")
    add_db_option(tlist)
    tlist.set_defaults(handler=run_token_list)
    revoke = token_actions.add_parser("revoke", help="refuse a token from now on")
    add_db_option(revoke)
    revoke.add_argument("id", type=int, help="the token's id (see `token list`)")
    revoke.set_defaults(handler=run_token_revoke)


def _read_pin(pin: str | None) -> str | None:
    if pin == "-":
        # Typed without echo at a terminal; piped in by a script (never on the command line).
        return getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    return pin


def run_user_add(args: argparse.Namespace) -> int:
    """Create the user and print its id."""
    pin = _read_pin(args.pin)
    with transaction(open_sessions(args)) as session:
        user = add_user(
            session,
            name=args.name,
            role=args.role,
            badge=args.badge,
            pin=pin,
            language=args.language,
        )
        line = f"Added {user.role} {user.name} (id {user.id}, badge {user.badge})"
    print(line + (" with a PIN." if pin else "."))
    return 0


def run_user_update(args: argparse.Namespace) -> int:
    """Change role, language or PIN; says what changed."""
    pin = _read_pin(args.pin)
    if args.role is None and args.language is None and pin is None:
        raise CommandError("Say what to change: --role, --language or --pin.")
    with transaction(open_sessions(args)) as session:
        user, changed = update_user(
            session, args.user, role=args.role, language=args.language, pin=pin
        )
        name, uid = user.name, user.id
    print(f"{name} (user {uid}): {', '.join(changed) + ' changed' if changed else 'no change'}")
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    """Create the token and print it alone on stdout (scripts capture it)."""
    with transaction(open_sessions(args)) as session:
        row, token = create_token(session, role=args.role, name=args.name)
        token_id = row.id
    print(token)
    print(
        f"Token {token_id} ({args.role}) created. It is shown only this once; "
        "only its hash is stored.",
        file=sys.stderr,
    )
    return 0


def run_user_list(args: argparse.Namespace) -> int:
    """One line per user: id, role, name, badge, PIN set or not, active or disabled."""
    with transaction(open_sessions(args)) as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        rows = [(u.id, u.role, u.name, u.badge, bool(u.pin_hash), u.active) for u in users]
    if not rows:
        print("No users yet: add one with `packbench-service user add`.")
    for uid, role, name, badge, has_pin, active in rows:
        pin = "PIN set" if has_pin else "no PIN"
        print(f"{uid}\t{role}\t{name}\t{badge}\t{pin}\t{'active' if active else 'disabled'}")
    return 0


def run_user_active(args: argparse.Namespace) -> int:
    """Disable or enable a user."""
    with transaction(open_sessions(args)) as session:
        user = set_user_active(session, args.user, args.active)
        name, uid = user.name, user.id
    print(f"{name} (user {uid}) {'enabled' if args.active else 'disabled'}")
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    """One line per token: id, role, name, created, revoked."""
    with transaction(open_sessions(args)) as session:
        rows = [(t.id, t.role, t.name, t.created_at, t.revoked_at) for t in list_tokens(session)]
    if not rows:
        print("No API tokens yet: create one with `packbench-service token create`.")
    for tid, role, name, created, revoked in rows:
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "active"
        print(f"{tid}\t{role}\t{name or '-'}\tcreated {created:%Y-%m-%d %H:%M}\t{state}")
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    """Revoke one token by id."""
    with transaction(open_sessions(args)) as session:
        row = revoke_token(session, args.id)
        role = row.role
    print(f"token {args.id} ({role}) revoked")
    return 0
