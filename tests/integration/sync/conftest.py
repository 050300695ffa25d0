"""Station-side sync against the real service process, through a fault-injecting proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sync.client import StationClient, enroll
from sync.engine import SyncEngine
from sync.replica import Replica
from sync.status import Backoff
from tests.integration.sync.service_runner import ServiceProcess, enroll_code
from tests.support.fault_proxy import FaultProxy


@pytest.fixture
def service(service_db: tuple[str, Engine], tmp_path: Path) -> Iterator[ServiceProcess]:
    proc = ServiceProcess(service_db[0], log_path=tmp_path / "service.log").start()
    yield proc
    proc.stop()


@pytest.fixture
def proxy(service: ServiceProcess) -> Iterator[FaultProxy]:
    with FaultProxy(service.port) as p:
        yield p


@dataclass
class Station:
    """One station: replica, client (through the proxy) and engine, not started."""

    id: int
    name: str
    replica: Replica
    client: StationClient
    engine: SyncEngine

    def close(self) -> None:
        self.engine.stop()
        self.client.close()
        self.replica.close()


@pytest.fixture
def make_station(
    proxy: FaultProxy, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[Callable[[str], Station]]:
    made: list[Station] = []

    def make(name: str) -> Station:
        enrolled = enroll(proxy.url, enroll_code(sessions, name))
        replica = Replica.open(tmp_path / f"{name}.sqlite3")
        client = StationClient(proxy.url, token=enrolled.token)
        engine = SyncEngine(
            replica,
            client,
            enrolled.station_id,
            poll_interval=0.5,
            checksum_interval=0.0,
            backoff=Backoff(base=0.05, cap=0.5),
        )
        st = Station(enrolled.station_id, name, replica, client, engine)
        made.append(st)
        return st

    yield make
    for st in made:
        st.close()
