"""A flash sale cannot take every thread and database connection of a serving process:
at most PACKBENCH_WEBHOOK_THREADS deliveries are worked on at once, the rest wait for a
thread (holding no connection), and each is answered once a thread is free."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from service import limits
from service.api import webhooks
from service.api.app import create_app


def test_deliveries_beyond_the_limit_wait_for_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(limits.WEBHOOK_THREADS_ENV, "2")
    release = threading.Event()
    lock = threading.Lock()
    working: list[int] = []
    most = 0

    def held_receive(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        nonlocal most
        with lock:
            working.append(1)
            most = max(most, len(working))
        release.wait(10)
        with lock:
            working.pop()
        return {"status": "created"}

    monkeypatch.setattr(webhooks, "receive", held_receive)
    app = create_app(f"sqlite:///{tmp_path}/service.db")
    answers: list[int] = []

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def deliver(n: int) -> None:
                r = await client.post(
                    "/v1/channels/shopify/shop/webhooks", content=b'{"id": %d}' % n
                )
                answers.append(r.status_code)

            async with anyio.create_task_group() as tasks:
                for n in range(5):
                    tasks.start_soon(deliver, n)
                deadline = time.monotonic() + 5
                while len(working) < 2 and time.monotonic() < deadline:
                    await anyio.sleep(0.01)
                await anyio.sleep(0.3)  # time for a third to start, were it allowed to
                assert len(working) == 2
                # The process still answers while its webhook threads are all busy.
                assert (await client.get("/healthz")).status_code == 200
                release.set()

    anyio.run(main)
    assert answers == [200] * 5
    assert most == 2


@pytest.mark.parametrize(("raw", "threads"), [("", 8), ("3", 3), ("0", 8), ("many", 8)])
def test_the_limit_reads_its_setting(
    monkeypatch: pytest.MonkeyPatch, raw: str, threads: int
) -> None:
    monkeypatch.setenv(limits.WEBHOOK_THREADS_ENV, raw)
    assert limits.webhook_threads() == threads
