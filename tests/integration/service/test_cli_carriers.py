"""`packbench-service carrier ...` as an operator runs it: each a process of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_dpd_and_brt_accounts_and_shipping_methods(cli: tuple[str, dict[str, str]]) -> None:
    url, env = cli
    ok(_cli(env, "channel", "add", "operator", "--name", "ro"))
    ok(_cli(env, "channel", "add", "operator", "--name", "it"))
    assert set(ok(_cli(env, "carrier", "list")).split()) >= {"dpd", "brt"}
    for carrier, account in (("dpd", "ro"), ("brt", "it")):
        stored = ok(
            _cli(
                env,
                "carrier",
                "set-secret",
                carrier,
                "password",
                "--account",
                account,
                stdin="s3cret-value\n",
            )
        )
        assert f"carrier:{carrier}:{account}:password" in stored and "s3cret" not in stored
    dpd = ["--set", "account=ro", "--set", "username=200912345", "--set", "mode=production"]
    ok(_cli(env, "carrier", "configure", "--channel", "ro", "--carrier", "dpd", *dpd))
    brt = ["--set", "account=it", "--set", "user_id=1020103", "--set", "departure_depot=131"]
    ok(_cli(env, "carrier", "configure", "--channel", "it", "--carrier", "brt", *brt))
    refused(
        _cli(env, "carrier", "configure", "--channel", "it", "--carrier", "brt", "--set", "mode=x"),
        "not one of production, test",
    )
    for channel, method, carrier, service in (
        ("ro", "DPD Pickup", "dpd", "pickup"),
        ("it", "BRT-fermopoint", "brt", "fermopoint"),
    ):
        ok(
            _cli(
                env,
                "channel",
                "set-shipping",
                "--channel",
                channel,
                "--method",
                method,
                "--carrier",
                carrier,
                "--service",
                service,
            )
        )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(select(Channel.name, Channel.settings)).all()
            rows: dict[str, Any] = {name: settings for name, settings in result}
    finally:
        engine.dispose()
    assert rows["ro"]["carriers"]["dpd"] == {
        "account": "ro",
        "username": 200912345,
        "mode": "production",
    }
    assert rows["it"]["carriers"]["brt"]["departure_depot"] == 131
    methods = {**rows["ro"]["shipping_methods"], **rows["it"]["shipping_methods"]}
    assert {m["carrier"] for m in methods.values()} == {"dpd", "brt"}
    assert "s3cret" not in json.dumps(rows)
