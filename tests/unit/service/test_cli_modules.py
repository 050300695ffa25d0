"""`packbench-service CMD` imports only the module that registers CMD (MODULE_OF): the table
must name every command each module registers, and only those."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import subprocess
import sys

import service.commands as commands
from service.cli import build_parser
from service.commands import MODULE_OF


def _registered(module_name: str) -> list[str]:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    module = importlib.import_module(f"service.commands.{module_name}")
    register = getattr(module, "register", None)
    if callable(register):
        register(subparsers)
    return list(subparsers.choices)


def test_the_table_names_each_command_with_the_module_that_registers_it() -> None:
    found = {
        command: info.name
        for info in pkgutil.iter_modules(commands.__path__)
        for command in _registered(info.name)
    }
    assert len(found) >= 20
    assert found == MODULE_OF


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub: argparse.ArgumentParser = action.choices[command]
    return sub


def test_a_command_alone_parses_and_helps_as_in_the_full_parser() -> None:
    full = build_parser()
    for command, module in MODULE_OF.items():
        alone = _command_parser(build_parser(only=module), command)
        assert alone.format_help() == _command_parser(full, command).format_help(), command


def test_a_command_does_not_import_the_other_commands_modules() -> None:
    probe = (
        "import sys; from service.cli import main\n"
        "try:\n    main(['reconcile', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('service.commands.')))\n"
        "print('fastapi' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    *_, loaded, fastapi = run.stdout.strip().splitlines()
    assert loaded == "['service.commands.reconcile']", run.stdout
    assert fastapi == "False"


def test_a_command_without_its_action_shows_that_commands_actions(capsys) -> None:
    from service.cli import main

    assert main(["db"]) == 2
    err = capsys.readouterr().err
    assert "usage: packbench-service db" in err
    assert "upgrade" in err and "current" in err
