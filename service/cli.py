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
from service.commands import LOG_FORMAT, MODULE_OF, CommandError
from service.errors import ServiceError
from service.secrets_store import SecretUnavailable

log = logging.getLogger("service.cli")

Handler = Callable[[argparse.Namespace], int]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, with every discovered command module registered (or only the module
    named `only`)."""
    parser = argparse.ArgumentParser(
        prog="packbench-service", description="Packbench central order service."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = [only] if only else sorted(i.name for i in pkgutil.iter_modules(_commands.__path__))
    for name in names:
        module = importlib.import_module(f"{_commands.__name__}.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print one line on stderr and return 1."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The first word that is not an option names the command: build only its module's part.
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=MODULE_OF.get(command or ""))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format=LOG_FORMAT, stream=sys.stderr
    )
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        # `db` with no action, or no command at all: show what exists instead of failing.
        if args.command:
            commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            commands.choices[args.command].print_help(sys.stderr)
        else:
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
