"""Every `packbench-service` command through the installed console script, as an operator runs it.

A parser built by a test once hid three commands that never ran (`channel add`, `channel
list`, `import-csv`): here each command is a process of its own running `service.cli`, the
module the script runs, on SQLite and PostgreSQL. The installed script itself runs each
top-level command's help and every fixture's `db upgrade` (a fresh interpreter each, with
the command's own imports); the other commands run in processes forked from a warm one
(tests.support.cli_fork), which skips only the interpreter's second of start-up. The help
of every sub-command is read through `service.cli.main`, the function the script calls.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.cli import build_parser, main
from service.models import Base
from tests.support.service_process import ROOT, child_env, run_cli

SCRIPT = Path(sys.executable).with_name("packbench-service")


def _leaves(parser: argparse.ArgumentParser, path: list[str]) -> Iterator[list[str]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
        return
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaves(sub, [*path, name])


def _cli(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`packbench-service *args` in a process of its own (forked from a warm one)."""
    return run_cli(*args, env=env, input=stdin)


def _script(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed console script itself, in a fresh interpreter."""
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_command_has_a_handler_and_its_help_runs(tmp_path: Path) -> None:
    assert SCRIPT.exists(), f"the installed console script is missing: {SCRIPT}"
    parser = build_parser()
    leaves = list(_leaves(parser, []))
    assert len(leaves) >= 20
    env = child_env(tmp_path / "keyring.json")

    # The script: each top-level command's help, as an operator would ask for it (a
    # subprocess each costs the interpreter's start-up and the command's imports).
    commands = sorted({path[0] for path in leaves})
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda command: _script(env, command, "--help"), commands))
    for command, run in zip(commands, runs, strict=True):
        assert run.returncode == 0, (command, run.stderr)
        assert f"usage: packbench-service {command}" in run.stdout, command
    # Every sub-command's help through main(), which builds the parser the script builds for
    # that argument list (only the command's own module: service.commands.MODULE_OF).
    for path in leaves:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0, path
        assert f"usage: packbench-service {' '.join(path)}" in out.getvalue(), path
    # A leaf without a handler prints the top-level usage and exits 2 when run for real.
    for path in leaves:
        assert callable(_node(parser, path).get_default("handler")), path


def _node(parser: argparse.ArgumentParser, path: list[str]) -> argparse.ArgumentParser:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.fixture
def cli(service_db: tuple[str, Engine], tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url, engine = service_db
    Base.metadata.drop_all(engine)  # from nothing: the CLI builds the schema
    env = child_env(tmp_path / "keyring.json", db_url=url)
    upgraded = _script(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    yield url, env


def ok(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return run.stdout


def refused(run: subprocess.CompletedProcess[str], *words: str) -> str:
    assert run.returncode != 0, run.stdout
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in run.stderr, (word, run.stderr)
    return run.stderr


def test_channel_commands(cli: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = cli
    secret = "shpss_super_secret_value"
    added = ok(
        _cli(env, "channel", "add", "shopify", "--name", "eu", "--secret", "-", stdin=secret)
    )
    assert "webhook URL path: /v1/channels/shopify/eu/webhooks" in added
    assert secret in (tmp_path / "keyring.json").read_text()  # in the secret store, not the DB
    refused(_cli(env, "channel", "add", "shopify", "--name", "eu", "--secret", "x"), "already")
    refused(_cli(env, "channel", "add", "woocommerce", "--name", "w"), "webhook secret")
    # --db works like PACKBENCH_DB_URL.
    env_without_url = {k: v for k, v in env.items() if k != "PACKBENCH_DB_URL"}
    listed = ok(_cli(env_without_url, "channel", "list", "--db", url))
    assert "eu" in listed and "secret set" in listed and "enabled" in listed
    assert secret not in listed

    ok(_cli(env, "channel", "update", "eu", "--secret", "rotated-secret", "--cutoff-utc", "14:00"))
    assert "rotated-secret" in (tmp_path / "keyring.json").read_text()
    refused(_cli(env, "channel", "update", "eu"), "Nothing to change")
    refused(_cli(env, "channel", "update", "eu", "--shop-url", "eu.shop"), "https://")
    ok(_cli(env, "channel", "update", "eu", "--shop-url", "https://eu.myshopify.com/"))
    refused(_cli(env, "channel", "update", "nope", "--cutoff-utc", "10:00"), "No channel")
    ok(_cli(env, "channel", "disable", "eu"))
    assert "disabled" in ok(_cli(env, "channel", "list"))
    ok(_cli(env, "channel", "enable", "eu"))

    set_shipping = ["channel", "set-shipping", "--channel", "eu", "--method", "DHL Paket"]
    refused(_cli(env, *set_shipping, "--carrier", "dhl"), "No carrier adapter 'dhl'", "house")
    mapped = ok(_cli(env, *set_shipping, "--carrier", "house", "--service", "standard"))
    assert "'DHL Paket' ships with house / standard" in mapped
    assert "DHL Paket\thouse\tstandard" in ok(_cli(env, "channel", "shipping", "--channel", "eu"))


def test_user_token_and_station_commands(cli: tuple[str, dict[str, str]]) -> None:
    _url, env = cli
    ok(_cli(env, "user", "add", "--name", "Ana Pop", "--role", "packer", "--badge", "B-77"))
    refused(
        _cli(env, "user", "add", "--name", "Bo", "--role", "packer", "--badge", "B-77"),
        "already belongs to Ana Pop",
    )
    assert "Ana Pop\tB-77\tno PIN\tactive" in ok(_cli(env, "user", "list"))
    ok(_cli(env, "user", "disable", "B-77"))
    assert "B-77\tno PIN\tdisabled" in ok(_cli(env, "user", "list"))
    refused(_cli(env, "user", "disable", "NOBODY"), "No user")

    token = ok(_cli(env, "token", "create", "--role", "operator", "--name", "office")).strip()
    tokens = ok(_cli(env, "token", "list"))
    assert "operator\toffice" in tokens and "active" in tokens and token not in tokens
    token_id = tokens.split("\t", 1)[0]
    ok(_cli(env, "token", "revoke", token_id))
    assert "revoked" in ok(_cli(env, "token", "list"))
    refused(_cli(env, "token", "revoke", "999"), "No API token")

    assert "No stations yet" in ok(_cli(env, "station", "list"))
    code_out = ok(_cli(env, "enroll-code", "--station", "bench-07"))
    assert "bench-07" in code_out
    stations = ok(_cli(env, "station", "list"))
    assert "\tbench-07\tnot enrolled\tnever seen\t0 open batch(es)" in stations
    # A code for a station not yet enrolled can be issued again (the code was lost) ...
    ok(_cli(env, "enroll-code", "--station", "bench-07"))


def test_import_csv_command(cli: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    _url, env = cli
    ok(_cli(env, "channel", "add", "operator", "--name", "phone"))
    good = tmp_path / "orders.csv"
    good.write_text(
        "order_id,currency,payment,ship_name,ship_street1,ship_postcode,ship_city,ship_country,"
        "sku,quantity,unit_price\n"
        "B2B-1,EUR,invoice,Anna Nowak,ul. Prosta 1,00950,Warszawa,PL,UNKNOWN-9,12,9.50\n",
        encoding="utf-8",
    )
    out = ok(_cli(env, "import-csv", str(good), "--channel", "phone"))
    assert "imported 1 order(s)" in out and "1 created" in out and "unknown_sku" in out
    # Importing the same file again changes nothing.
    assert "1 unchanged" in ok(_cli(env, "import-csv", str(good), "--channel", "phone"))
    refused(_cli(env, "import-csv", str(good), "--channel", "zzz"), "No channel named 'zzz'")
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text() + "B2B-3,EUR,paid,X,Y,10178,Berlin,DE,PLATE-24,0,1\n")
    refused(_cli(env, "import-csv", str(bad), "--channel", "phone"), "line 3: quantity")
