"""`secrets new-key|set|list|check|rotate-key`: the service's encrypted secrets.

packbench-service secrets new-key --out FILE        (mode 0600; `--out -` writes to stdout,
                                                     e.g. into `systemd-creds encrypt`)
packbench-service secrets set REF < value           (the value from stdin, never the command line)
packbench-service secrets list                      (references and key ids, never values)
packbench-service secrets check                     (every secret decrypts with the current key)
packbench-service secrets rotate-key --new-key-file FILE
                                                    (re-encrypt all in one transaction)

References: `channel:<kind>:<name>` (webhook secret), `shopify:<channel>:token`,
`woocommerce:<channel>:consumer_key|consumer_secret`, `carrier:sendcloud:secret_key`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sqlalchemy import select

from service.commands import CommandError, Subparsers, add_db_option, open_sessions
from service.db import transaction, utcnow
from service.models import StoredSecret
from service.secrets_store import (
    KEY_FILE_ENV,
    SecretsKey,
    SecretUnavailable,
    backend,
    configured_key,
    decrypt,
    forget_cached_secrets,
    new_key,
    put_secret,
)


def register(subparsers: Subparsers) -> None:
    """Add the `secrets` command and its actions."""
    secrets = subparsers.add_parser(
        "secrets", help="webhook secrets and carrier credentials (encrypted in the database)"
    )
    sub = secrets.add_subparsers(dest="action", metavar="ACTION")
    key = sub.add_parser("new-key", help="create a random key file (mode 0600)")
    key.add_argument("--out", required=True, help="file to create ('-': standard output)")
    key.set_defaults(handler=run_new_key)

    put = sub.add_parser("set", help="store a secret; the value is read from stdin")
    add_db_option(put)
    put.add_argument("ref", help="e.g. shopify:<channel>:token")
    put.set_defaults(handler=run_set)

    lst = sub.add_parser("list", help="stored secret references and their key ids")
    add_db_option(lst)
    lst.set_defaults(handler=run_list)

    check = sub.add_parser("check", help="decrypt every stored secret with the configured key")
    add_db_option(check)
    check.set_defaults(handler=run_check)

    rotate = sub.add_parser(
        "rotate-key", help="re-encrypt every secret with a new key, in one transaction"
    )
    add_db_option(rotate)
    rotate.add_argument("--new-key-file", type=Path, required=True, metavar="FILE")
    rotate.set_defaults(handler=run_rotate)


def run_new_key(args: argparse.Namespace) -> int:
    """Write a fresh key; never over an existing file."""
    key = new_key()
    if args.out == "-":
        sys.stdout.write(key.decode("ascii") + "\n")
        return 0
    path = Path(args.out)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists; a key is never overwritten (move it first).") from None
    except OSError as exc:
        raise CommandError(f"Cannot create {path}: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    print(f"Key {SecretsKey.from_bytes(key, str(path)).key_id} written to {path} (mode 0600).")
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Store one secret read from stdin."""
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError("No value on standard input; nothing stored.")
    with transaction(open_sessions(args)) as session:
        put_secret(args.ref, value, session=session)
    forget_cached_secrets()
    print(f"Secret {args.ref} stored ({backend()}).")
    return 0


def _database_key() -> SecretsKey:
    if backend() != "database":
        raise CommandError(
            f"Secrets are not kept in the database here; set {KEY_FILE_ENV} (or the systemd "
            "credential) to use the database backend."
        )
    key = configured_key()
    if key is None:
        raise CommandError(f"No secrets key configured; set {KEY_FILE_ENV}.")
    return key


def run_list(args: argparse.Namespace) -> int:
    """Print reference, key id and last change of every stored secret."""
    with transaction(open_sessions(args)) as session:
        rows = session.execute(
            select(StoredSecret.ref, StoredSecret.key_id, StoredSecret.updated_at).order_by(
                StoredSecret.ref
            )
        ).all()
    for ref, key_id, updated in rows:
        print(f"{ref}\tkey {key_id}\t{updated.isoformat(timespec='seconds')}")
    if not rows:
        print("(no secrets stored)")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Decrypt each secret; exit 1 naming those that do not decrypt."""
    key = _database_key()
    bad: list[str] = []
    with transaction(open_sessions(args)) as session:
        rows = list(session.scalars(select(StoredSecret).order_by(StoredSecret.ref)))
        for row in rows:
            try:
                decrypt(row, key)
            except SecretUnavailable as exc:  # the message names the ref and the keys
                bad.append(str(exc))
    for line in bad:
        print(line, file=sys.stderr)
    print(f"{len(rows) - len(bad)} of {len(rows)} secret(s) decrypt with key {key.key_id}.")
    return 1 if bad else 0


def run_rotate(args: argparse.Namespace) -> int:
    """Re-encrypt every secret from the configured key to the new one; all or nothing."""
    old = _database_key()
    new = SecretsKey.from_file(args.new_key_file)
    if new.key_id == old.key_id:
        raise CommandError("The new key is the key in use; create one with `secrets new-key`.")
    with transaction(open_sessions(args)) as session:
        rows = list(
            session.scalars(select(StoredSecret).order_by(StoredSecret.ref).with_for_update())
        )
        for row in rows:
            if row.key_id == new.key_id:
                continue  # a rotation that stopped half-way cannot happen, but be safe
            plain = decrypt(row, old)  # one that does not decrypt aborts the whole rotation
            row.ciphertext = new.fernet.encrypt(plain.encode("utf-8"))
            row.key_id = new.key_id
            row.updated_at = utcnow()
    print(
        f"Re-encrypted {len(rows)} secret(s) with key {new.key_id}. Now point {KEY_FILE_ENV} "
        f"(or the systemd credential) at {args.new_key_file} and restart the service."
    )
    return 0
