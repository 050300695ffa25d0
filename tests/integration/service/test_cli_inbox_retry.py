"""`packbench-service channel inbox --retry-failed` queues failed webhook deliveries again
only with a reason, and the office audit log keeps who did it, when and why, as it does for
the console's "Apply again" (both databases, the real command)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, insert, select

from service.models import Base, Channel, OfficeAudit, WebhookReceipt
from tests.support.service_process import child_env, run_cli

SECRET = "shpss_cli_inbox_retry_7d2a"


def _outcome(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(WebhookReceipt.outcome)).scalar_one())


def test_retry_failed_needs_a_reason_and_is_audited(
    service_db: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = service_db
    Base.metadata.drop_all(engine)
    env = child_env(tmp_path / "keyring.json") | {"USER": "ops-anna"}
    for args in (
        ["db", "upgrade"],
        ["channel", "add", "shopify", "--name", "shop", "--secret", "-"],
    ):
        done = run_cli(*args, "--db", url, env=env, input=SECRET + "\n")
        assert done.returncode == 0, done.stderr
    with engine.begin() as conn:
        channel_id = conn.execute(select(Channel.id).where(Channel.name == "shop")).scalar_one()
        conn.execute(
            insert(WebhookReceipt).values(
                channel_id=channel_id,
                webhook_id="d-1",
                topic="orders/create",
                outcome="failed",
                channel_order_id="9001",
                body=b"{}",
                error="SKU MUG-9 is not in the catalogue",
            )
        )

    shown = run_cli("channel", "inbox", "--db", url, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "shop\t0 queued\t1 failed" in shown.stdout
    assert "failed: shop delivery d-1: SKU MUG-9 is not in the catalogue" in shown.stdout
    assert '--retry-failed --reason "what was fixed"' in shown.stdout

    refused = run_cli("channel", "inbox", "--db", url, "--retry-failed", env=env)
    assert refused.returncode != 0
    assert "Say what was fixed (--reason)" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _outcome(engine) == "failed"  # nothing queued without a reason
    with engine.connect() as conn:
        assert conn.execute(select(OfficeAudit)).first() is None

    why = "MUG-9 added to the catalogue"
    done = run_cli(
        "channel", "inbox", "--db", url, "--channel", "shop", "--retry-failed", "--reason", why,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 failed deliveries queued again" in done.stdout
    assert _outcome(engine) == "queued"
    a = OfficeAudit
    with engine.connect() as conn:
        row = conn.execute(select(a.actor, a.action, a.target, a.reason, a.details, a.at)).one()
    assert tuple(row[:5]) == ("cli:ops-anna", "webhook_retry", "shop", why, {"requeued": 1})
    assert row.at is not None
