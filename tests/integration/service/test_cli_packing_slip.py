"""`packbench-service channel add|update --packing-slip`, each a process of its own, on SQLite
and PostgreSQL: which of a channel's orders get a packing slip."""

from __future__ import annotations

from sqlalchemy import select

from service.db import make_engine
from service.models import Channel
from tests.integration.service.test_cli_entry import _cli, cli, ok, refused

__all__ = ["cli"]  # the fixture, shared with test_cli_entry


def _settings(url: str, name: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(Channel.settings).where(Channel.name == name)).scalar_one()
            return dict(found or {})
    finally:
        engine.dispose()


def test_packing_slip_per_channel(cli: tuple[str, dict[str, str]]) -> None:
    url, env = cli
    ok(_cli(env, "channel", "add", "operator", "--name", "b2b-desk", "--packing-slip", "b2b"))
    assert _settings(url, "b2b-desk")["packing_slip"] == "b2b"
    ok(_cli(env, "channel", "add", "operator", "--name", "ro"))
    assert "slips: never" in ok(_cli(env, "channel", "list"))

    refused(
        _cli(env, "channel", "update", "ro", "--packing-slip", "cross-border"),
        "--ship-from-country",
    )
    refused(_cli(env, "channel", "update", "ro", "--packing-slip", "sometimes"), "invalid choice")
    refused(_cli(env, "channel", "update", "ro", "--ship-from-country", "Romania"), "two-letter")
    assert "packing_slip" not in _settings(url, "ro")  # refused: nothing changed

    said = ok(
        _cli(
            env,
            "channel",
            "update",
            "ro",
            "--packing-slip",
            "cross-border",
            "--ship-from-country",
            "ro",
        )
    )
    assert "slips: cross-border (from RO)" in said and "0 order(s) not yet packed" in said
    assert _settings(url, "ro") == {"packing_slip": "cross_border", "ship_from_country": "RO"}
    said = ok(_cli(env, "channel", "update", "ro", "--packing-slip", "always"))
    assert "slips: always" in said
    listed = ok(_cli(env, "channel", "list"))
    assert "slips: always" in listed and "slips: b2b" in listed
    refused(_cli(env, "channel", "update", "nope", "--packing-slip", "always"), "No channel")
