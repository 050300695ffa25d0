"""`user add` and `token create`."""

from __future__ import annotations

import argparse
import getpass
import sys

from service.commands import Subparsers, add_db_option, open_sessions
from service.db import transaction
from service.users import TokenRole, UserRole, add_user, create_token


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
        help="4-12 digits; '-' asks for it without echo (supervisors need one to override)",
    )
    add.set_defaults(handler=run_user_add)

    token = subparsers.add_parser("token", help="manage operator API tokens")
    token_actions = token.add_subparsers(dest="token_action", metavar="ACTION")
    create = token_actions.add_parser("create", help="create a bearer token (printed once)")
    add_db_option(create)
    create.add_argument("--role", required=True, choices=[r.value for r in TokenRole])
    create.add_argument("--name", default="", help="who or what uses the token")
    create.set_defaults(handler=run_token_create)


def run_user_add(args: argparse.Namespace) -> int:
    """Create the user and print its id."""
    pin: str | None = args.pin
    if pin == "-":
        pin = getpass.getpass("PIN: ")
    with transaction(open_sessions(args)) as session:
        user = add_user(session, name=args.name, role=args.role, badge=args.badge, pin=pin)
        line = f"Added {user.role} {user.name} (id {user.id}, badge {user.badge})"
    print(line + (" with a PIN." if pin else "."))
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
