"""`packbench-service carrier ...` through the installed console script, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from service.db import make_engine
from service.models import Channel
from tests.integration.service.test_cli_entry import _cli, cli, ok, refused

__all__ = ["cli"]  # the fixture, shared with test_cli_entry


def test_carrier_accounts_limits_and_pickup_fields(
    cli: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = cli
    ok(_cli(env, "channel", "add", "operator", "--name", "cz"))
    assert set(ok(_cli(env, "carrier", "list")).split()) >= {"gls", "packeta", "house"}

    stored = ok(
        _cli(
            env,
            "carrier",
            "set-secret",
            "packeta",
            "api_password",
            "--account",
            "cz",
            stdin="0123456789abcdef\n",
        )
    )
    assert "carrier:packeta:cz:api_password" in stored and "0123456789abcdef" not in stored
    keyring_file = json.loads(Path(env["PACKBENCH_TEST_KEYRING_FILE"]).read_text())
    assert keyring_file["packbench-service\x00carrier:packeta:cz:api_password"] == (
        "0123456789abcdef"
    )
    refused(_cli(env, "carrier", "set-secret", "packeta", "eshop", stdin="x\n"), "not a secret")
    refused(_cli(env, "carrier", "set-secret", "dhl", "password", stdin="x\n"), "No carrier")
    refused(_cli(env, "carrier", "set-secret", "gls", "password", stdin="\n"), "on stdin")

    ok(
        _cli(
            env,
            "carrier",
            "configure",
            "--channel",
            "cz",
            "--carrier",
            "packeta",
            "--set",
            "account=cz",
            "--set",
            "eshop=MyEshop",
            "--set",
            'cod_limits={"CZK": 20000}',
        )
    )
    refused(
        _cli(
            env,
            "carrier",
            "configure",
            "--channel",
            "cz",
            "--carrier",
            "packeta",
            "--set",
            "api_password=leak",
        ),
        "is a secret",
    )
    refused(
        _cli(
            env,
            "carrier",
            "configure",
            "--channel",
            "cz",
            "--carrier",
            "gls",
            "--set",
            "country=DE",
        ),
        "MyGLS serves",
    )
    ok(
        _cli(
            env,
            "carrier",
            "pickup-field",
            "--channel",
            "cz",
            "--from",
            "note_attributes",
            "--id",
            "packeta_point_id",
        )
    )
    refused(
        _cli(env, "carrier", "pickup-field", "--channel", "cz", "--from", "notes", "--id", "x"),
        "invalid choice",
    )
    engine = make_engine(url)  # the service's own URL handling (psycopg 3 for PostgreSQL)
    try:
        with engine.connect() as conn:
            settings = conn.execute(
                select(Channel.settings).where(Channel.name == "cz")
            ).scalar_one()
    finally:
        engine.dispose()
    assert settings["carriers"] == {
        "packeta": {"account": "cz", "eshop": "MyEshop", "cod_limits": {"CZK": 20000}}
    }
    assert settings["pickup_point"] == {"from": "note_attributes", "id": "packeta_point_id"}
    assert "leak" not in json.dumps(settings)
