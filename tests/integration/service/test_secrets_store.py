"""Server secrets without a desktop keyring: encrypted in the database with a key file, read
by the real service to verify a webhook, rotated in one transaction, and every wrong or
missing key a one-line error with no traceback and no secret in it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.models import StoredSecret
from tests.support import factories
from tests.support.service_process import ServiceProcess, child_env, run_cli
from tests.support.shop_payloads import shopify_headers, shopify_order

WEBHOOK_SECRET = "whsec-7f3a9c1e5b"
TOKEN = "shpat-4d2e8b0a6c"


def _env(tmp_path: Path, url: str, key: Path | None) -> dict[str, str]:
    env = child_env(tmp_path / "unused-keyring.json", url)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # no keyring at all
    env.pop("PACKBENCH_TEST_KEYRING_FILE", None)
    env.pop("PACKBENCH_SECRETS_BACKEND", None)
    env.pop("CREDENTIALS_DIRECTORY", None)
    if key is not None:
        env["PACKBENCH_SECRETS_KEY_FILE"] = str(key)
    return env


def _clean(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        assert WEBHOOK_SECRET not in text and TOKEN not in text


def _post_order(base_url: str, secret: str) -> httpx.Response:
    body = json.dumps(shopify_order(5940139490001)).encode()
    return httpx.post(
        f"{base_url}/v1/channels/shopify/myshop/webhooks",
        content=body,
        headers=shopify_headers(secret, body, delivery="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
        timeout=10,
    )


def _shop_channel(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        factories.channel(s, "myshop", "shopify").secret_ref = "channel:shopify:myshop"


def test_a_key_file_keeps_a_channel_secret_the_served_service_reads(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, _engine = service_db
    key = tmp_path / "secrets.key"
    made = run_cli("secrets", "new-key", "--out", str(key), env=_env(tmp_path, url, None))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in made.stdout  # the key itself is never printed
    again = run_cli("secrets", "new-key", "--out", str(key), env=_env(tmp_path, url, None))
    assert again.returncode == 1 and "never overwritten" in again.stderr

    env = _env(tmp_path, url, key)
    _shop_channel(sessions)
    stored = run_cli(
        "secrets", "set", "channel:shopify:myshop", "--db", url, env=env, input=WEBHOOK_SECRET
    )
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == "Secret channel:shopify:myshop stored (database)."
    with sessions() as s:
        row = s.get_one(StoredSecret, "channel:shopify:myshop")
    assert WEBHOOK_SECRET.encode() not in row.ciphertext  # a dump of the table reveals nothing

    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        assert _post_order(service.base_url, "not-the-secret").status_code == 401
        accepted = _post_order(service.base_url, WEBHOOK_SECRET)
        assert accepted.status_code == 200, accepted.text
    listed = run_cli("secrets", "list", "--db", url, env=env)
    assert listed.stdout.startswith("channel:shopify:myshop\tkey ")
    _clean(made.stdout, stored.stdout, stored.stderr, listed.stdout, service.log())


def test_rotating_the_key_re_encrypts_every_secret_and_the_old_key_stops_working(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, _engine = service_db
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    for path in (old, new):
        made = run_cli("secrets", "new-key", "--out", str(path), env=_env(tmp_path, url, None))
        assert made.returncode == 0, made.stderr
    env = _env(tmp_path, url, old)
    _shop_channel(sessions)
    for ref, value in (("channel:shopify:myshop", WEBHOOK_SECRET), ("shopify:myshop:token", TOKEN)):
        assert run_cli("secrets", "set", ref, "--db", url, env=env, input=value).returncode == 0

    rotated = run_cli("secrets", "rotate-key", "--new-key-file", str(new), "--db", url, env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("Re-encrypted 2 secret(s) with key ")

    stale = run_cli("secrets", "check", "--db", url, env=env)  # still the old key configured
    assert stale.returncode == 1
    assert stale.stdout.strip().startswith("0 of 2 secret(s) decrypt")
    assert "was encrypted with key" in stale.stderr and "configure the key" in stale.stderr

    env = _env(tmp_path, url, new)
    fresh = run_cli("secrets", "check", "--db", url, env=env)
    assert fresh.returncode == 0 and fresh.stdout.strip().startswith("2 of 2 secret(s) decrypt")
    same = run_cli("secrets", "rotate-key", "--new-key-file", str(new), "--db", url, env=env)
    assert same.returncode == 1 and "is the key in use" in same.stderr
    with ServiceProcess(url, env, tmp_path / "service.log") as service:
        assert _post_order(service.base_url, WEBHOOK_SECRET).status_code == 200
    _clean(rotated.stdout, stale.stdout, stale.stderr, fresh.stdout, same.stderr, service.log())


def test_a_wrong_or_missing_key_is_one_clear_line(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, _engine = service_db
    nothing = run_cli(
        "secrets", "set", "channel:shopify:myshop", "--db", url,
        env=_env(tmp_path, url, None), input=WEBHOOK_SECRET,
    )  # fmt: skip
    assert nothing.returncode == 1
    assert nothing.stderr.count("\n") == 1 and "PACKBENCH_SECRETS_KEY_FILE" in nothing.stderr

    missing = _env(tmp_path, url, tmp_path / "no-such.key")
    missing["PACKBENCH_SECRETS_BACKEND"] = "database"
    refused = run_cli("serve", "--db", url, "--port", "0", env=missing)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        f"packbench-service: error: Cannot read the secrets key file {tmp_path / 'no-such.key'}: "
        "No such file or directory."
    )
    garbage = tmp_path / "garbage.key"
    garbage.write_text(WEBHOOK_SECRET)
    bad = run_cli("secrets", "check", "--db", url, env=_env(tmp_path, url, garbage))
    assert bad.returncode == 1 and "is not a Fernet key" in bad.stderr

    right, wrong = tmp_path / "right.key", tmp_path / "wrong.key"
    for path in (right, wrong):
        made = run_cli("secrets", "new-key", "--out", str(path), env=_env(tmp_path, url, None))
        assert made.returncode == 0, made.stderr
    _shop_channel(sessions)
    stored = run_cli(
        "secrets", "set", "channel:shopify:myshop", "--db", url,
        env=_env(tmp_path, url, right), input=WEBHOOK_SECRET,
    )  # fmt: skip
    assert stored.returncode == 0
    with ServiceProcess(url, _env(tmp_path, url, wrong), tmp_path / "service.log") as service:
        answer = _post_order(service.base_url, WEBHOOK_SECRET)
        assert answer.status_code == 401  # cannot verify: refused, nothing stored
    assert "was encrypted with key" in service.log()
    _clean(nothing.stderr, refused.stderr, bad.stderr, service.log())
