"""Fixtures for the station sync tests: a replica on a temp file, a fake service, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.client import StationClient
from sync.replica import Replica
from tests.unit.sync.fake_service import TOKEN, FakeSyncService

SERVER = "https://service.test"


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Replica]:
    r = Replica.open(tmp_path / "station.sqlite3")
    yield r
    r.close()


@pytest.fixture
def fake() -> FakeSyncService:
    return FakeSyncService()


@pytest.fixture
def client(fake: FakeSyncService) -> Iterator[StationClient]:
    c = StationClient(SERVER, token=TOKEN, transport=fake.transport())
    yield c
    c.close()


def scan(order_id: int = 1, epoch: int | None = 1, code: str = "SKU-1") -> tuple:
    """One scan_recorded mutation spec."""
    return ("scan_recorded", order_id, epoch, {"code": code, "outcome": "accepted"})
