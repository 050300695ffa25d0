"""The app a server process runs keeps its start-up objects out of the garbage collector."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from service.api.app import serving_app


def test_serving_app_freezes_start_up_objects_and_serves(tmp_path: Path) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        app = serving_app(f"sqlite:///{tmp_path / 'svc.sqlite3'}")
        assert gc.get_freeze_count() > 10_000  # routes, models, schemas: all frozen
        with TestClient(app) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
        app.state.engine.dispose()
    finally:
        gc.unfreeze()  # the test process goes on building apps
