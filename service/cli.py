"""`packbench-service`: the central order service's command line.

Every module in `service.commands` that defines `register(subparsers)` adds its own
sub-commands (see that package's docstring), so areas never edit this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence

import service.commands as _commands
from service.commands import CommandError
from service.errors import ServiceError
from service.secrets_store import SecretUnavailable

log = logging.getLogger("service.cli")

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every discovered command module registered."""
    parser = argparse.ArgumentParser(
        prog="packbench-service", description="Packbench central order service."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{_commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print one line on stderr and return 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        # `db` with no action, or no command at all: show what exists instead of failing.
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except (CommandError, ServiceError, SecretUnavailable) as exc:
        print(f"packbench-service: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
