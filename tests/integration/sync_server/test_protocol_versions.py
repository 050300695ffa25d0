"""A station and a service of different releases: they work together or say who must upgrade."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from service.models import Station
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.integration.sync_server.conftest import StationAuth


def me(client: TestClient, station: StationAuth, protocol: str | None) -> object:
    headers = dict(station.headers)
    if protocol is not None:
        headers[PROTOCOL_HEADER] = protocol
    return client.get("/v1/stations/me", headers=headers)


def test_same_protocol_and_no_header_are_served(
    client: TestClient, make_station: Callable[[str], StationAuth]
) -> None:
    station = make_station("bench-1")
    for protocol in (str(PROTOCOL_VERSION), None):
        r = me(client, station, protocol)
        assert r.status_code == 200, r.text
        assert r.json()["protocol_version"] == PROTOCOL_VERSION


def test_a_newer_station_is_told_to_upgrade_the_service(
    client: TestClient, make_station: Callable[[str], StationAuth]
) -> None:
    station = make_station("bench-1")
    r = me(client, station, str(PROTOCOL_VERSION + 1))
    assert r.status_code == 426
    body = r.json()
    assert body["error"] == "protocol_mismatch"
    assert body["message"].endswith(
        "upgrade the service (packbench-service) to the stations' release."
    )
    assert f"protocol {PROTOCOL_VERSION + 1}" in body["message"]


@pytest.mark.parametrize("protocol", ["0", "one", "99999999"])
def test_an_older_or_garbled_station_is_told_to_upgrade_itself(
    client: TestClient, make_station: Callable[[str], StationAuth], protocol: str
) -> None:
    station = make_station("bench-1")
    r = me(client, station, protocol)
    assert r.status_code == 426
    assert r.json()["message"].endswith("upgrade the station (packbench).")


def test_enrolment_is_checked_too(client: TestClient) -> None:
    r = client.post(
        "/v1/stations/enroll",
        json={"code": "ABCD-EFGH", "app_version": "9.0"},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION + 1)},
    )
    assert r.status_code == 426  # before the code is looked at: it is not used up


def test_a_heartbeat_without_a_version_keeps_the_stations_version(
    client: TestClient,
    make_station: Callable[[str], StationAuth],
    sessions: sessionmaker[Session],
) -> None:
    station = make_station("bench-1")  # enrols with app_version "test"

    def version() -> str:
        with sessions() as s:
            return str(s.get(Station, station.id).heartbeat["app_version"])

    r = client.post("/v1/stations/heartbeat", json={"queue_depth": 3}, headers=station.headers)
    assert r.status_code == 204, r.text
    assert version() == "test"
    r = client.post(
        "/v1/stations/heartbeat",
        json={"queue_depth": 0, "app_version": "0.2.0"},
        headers=station.headers,
    )
    assert r.status_code == 204
    assert version() == "0.2.0"


def _sync_routes() -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute

    from service.api.sync import router

    return sorted(
        (method, route.path.replace("{claim_id}", "1"))
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


@pytest.mark.parametrize(("method", "path"), _sync_routes())
def test_every_sync_route_checks_the_protocol_first(
    client: TestClient, make_station: Callable[[str], StationAuth], method: str, path: str
) -> None:
    """Push and pull check it in their own dependency (one instead of three, for speed), the
    others with a route dependency: none may be left out, nor be reached by a station the
    service does not speak to."""
    station = make_station("bench-1")
    headers = {**station.headers, PROTOCOL_HEADER: str(PROTOCOL_VERSION + 1)}
    r = client.request(method, path, headers=headers)
    assert r.status_code == 426, (method, path, r.status_code, r.text)
    assert r.json()["error"] == "protocol_mismatch"
