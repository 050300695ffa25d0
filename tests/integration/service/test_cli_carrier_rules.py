"""`packbench-service channel rules`: each command a process of its own, on each database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.service.test_cli_entry import _cli, cli, ok, refused

__all__ = ["cli"]  # the fixture, shared with test_cli_entry

TABLE = {
    "rules": [
        {
            "name": "RO cash",
            "countries": ["RO"],
            "cod": True,
            "carrier": "cargus",
            "service": "standard",
        },
        {"delivery": "pickup", "max_grams": 5000, "carrier": "packeta", "service": "z-point"},
    ],
    "fallback": {"carrier": "house", "service": "standard"},
}


def test_channel_rules_set_show_and_refuse(cli: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    _url, env = cli
    ok(_cli(env, "channel", "add", "operator", "--name", "ro"))
    assert "no carrier rules" in ok(_cli(env, "channel", "rules", "ro"))

    good = tmp_path / "rules.json"
    good.write_text(json.dumps(TABLE))
    assert "2 carrier rule(s) set" in ok(_cli(env, "channel", "rules", "ro", "--file", str(good)))
    shown = json.loads(ok(_cli(env, "channel", "rules", "ro")))
    assert shown == TABLE

    bad = {"rules": [TABLE["rules"][0], {**TABLE["rules"][1], "min_grams": 9000}]}
    out = refused(
        _cli(env, "channel", "rules", "ro", "--file", "-", stdin=json.dumps(bad)),
        "Rule 2, min_grams",
        "Nothing was changed",
    )
    assert "Traceback" not in out
    refused(_cli(env, "channel", "rules", "ro", "--file", "-", stdin="{not json"), "not JSON")
    refused(
        _cli(env, "channel", "rules", "ro", "--file", str(tmp_path / "none.json")), "Cannot read"
    )
    refused(_cli(env, "channel", "rules", "nope", "--file", str(good)), "No channel")
    assert json.loads(ok(_cli(env, "channel", "rules", "ro"))) == TABLE  # unchanged
