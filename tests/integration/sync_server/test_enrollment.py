"""Enrolment: a one-time code becomes a token; a wrong, used or expired code is refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.cli import main
from service.db import utcnow
from service.models import Station
from service.security import token_hash
from service.sync_server.enrollment import issue_enroll_code


def test_good_code_gives_a_token_and_is_spent(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "Bench 1")
    r = client.post("/v1/stations/enroll", json={"code": code.lower()})
    assert r.status_code == 200, r.text
    body = r.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/v1/stations/me", headers=headers).json()
    assert me["station_name"] == "Bench 1"
    assert me["last_mutation_id"] == 0
    with sessions() as s:
        station = s.scalars(select(Station)).one()
        assert station.token_hash == token_hash(body["token"])
        assert code not in repr(station.__dict__)  # only hashes stored

    again = client.post("/v1/stations/enroll", json={"code": code})
    assert again.status_code == 409
    assert "already used" in again.json()["message"]


def test_wrong_and_expired_codes_are_401(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    r = client.post("/v1/stations/enroll", json={"code": "NOPE-NOPE-NOPE"})
    assert r.status_code == 401
    assert "Unknown enrolment code" in r.json()["message"]
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "Bench 2")
        s.execute(update(Station).values(enroll_expires_at=utcnow() - timedelta(minutes=1)))
    r = client.post("/v1/stations/enroll", json={"code": code})
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_unknown_token_is_401(client: TestClient) -> None:
    r = client.get("/v1/stations/me", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_heartbeat_is_stored(
    client: TestClient, sessions: sessionmaker[Session], make_station
) -> None:
    st = make_station("Bench 3")
    r = client.post(
        "/v1/stations/heartbeat",
        json={"queue_depth": 4, "devices": {"scale": "ok"}},
        headers=st.headers,
    )
    assert r.status_code == 204
    with sessions() as s:
        station = s.get(Station, st.id)
        assert station is not None
        assert station.heartbeat["queue_depth"] == 4
        assert station.heartbeat["devices"] == {"scale": "ok"}
        assert station.last_seen_at is not None


def test_cli_enroll_code_creates_station_and_prints_code(
    service_db: tuple[str, Engine], client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _engine = service_db
    assert main(["enroll-code", "--db", url, "--station", "Bench 9"]) == 0
    out = capsys.readouterr().out
    code = out.split(": ", 1)[1].splitlines()[0].strip()
    r = client.post("/v1/stations/enroll", json={"code": code})
    assert r.status_code == 200
    assert r.json()["station_name"] == "Bench 9"
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/v1/stations/me", headers=headers).status_code == 200  # enrolled
    capsys.readouterr()
    # A second bench called "Bench 9" by mistake: refused, naming the way to move it instead.
    assert main(["enroll-code", "--db", url, "--station", "Bench 9"]) == 1
    err = capsys.readouterr().err
    assert "already enrolled" in err and "--reenroll" in err
    assert main(["enroll-code", "--db", url, "--station", "Bench 9", "--reenroll"]) == 0


def test_a_malformed_pin_key_is_422_and_does_not_spend_the_code(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        _station, code = issue_enroll_code(s, "bench-key")
    for bad in ("not base64 at all, but long enough to pass!!", "QUFB" * 11):  # 33 bytes
        r = client.post("/v1/stations/enroll", json={"code": code, "pin_public_key": bad})
        assert (r.status_code, r.json()["field"]) == (422, "pin_public_key"), r.text
    r = client.post(
        "/v1/stations/enroll", json={"code": code, "pin_public_key": "QUFB" * 10 + "QUE"}
    )
    assert r.status_code == 200, r.text  # 32 bytes: a key; the code was still good
    with sessions() as s:
        station = s.scalars(select(Station).where(Station.name == "bench-key")).one()
        assert station.pin_public_key == "QUFB" * 10 + "QUE"


def test_traded_code_stays_valid_until_the_first_authenticated_call(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "Bench 4")
    first = client.post("/v1/stations/enroll", json={"code": code})
    assert first.status_code == 200
    # The station lost that token (keyring refused): the same code works again ...
    second = client.post("/v1/stations/enroll", json={"code": code})
    assert second.status_code == 200, second.text
    old = {"Authorization": f"Bearer {first.json()['token']}"}
    new = {"Authorization": f"Bearer {second.json()['token']}"}
    assert client.get("/v1/stations/me", headers=old).status_code == 401  # only one token
    assert client.get("/v1/stations/me", headers=new).status_code == 200
    # ... until the station has called with its token: then it is spent.
    third = client.post("/v1/stations/enroll", json={"code": code})
    assert third.status_code == 409 and "already used" in third.json()["message"]


def test_traded_but_unconfirmed_code_is_used_up_after_the_window(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    from service.sync_server.enrollment import REENROLL_WINDOW

    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "Bench 5")
    assert client.post("/v1/stations/enroll", json={"code": code}).status_code == 200
    with sessions() as s, s.begin():
        station = s.scalars(select(Station).where(Station.name == "Bench 5")).one()
        assert station.enrolled_at is not None
        late = REENROLL_WINDOW + timedelta(seconds=1)
        station.enrolled_at -= late
        station.enroll_expires_at -= late  # type: ignore[operator]
    again = client.post("/v1/stations/enroll", json={"code": code})
    assert again.status_code == 409 and "already used" in again.json()["message"]


def test_an_enrolled_station_calling_does_not_spend_its_next_fresh_code(
    client: TestClient, sessions: sessionmaker[Session], make_station
) -> None:
    st = make_station("Bench 6")
    assert client.get("/v1/stations/me", headers=st.headers).status_code == 200
    with sessions() as s, s.begin():
        _st, code = issue_enroll_code(s, "Bench 6")  # a new code, e.g. for a new PC
    assert client.get("/v1/stations/me", headers=st.headers).status_code == 200
    assert client.post("/v1/stations/enroll", json={"code": code}).status_code == 200


def _bulk(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`packbench-service enroll-code` through the installed console script."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("packbench-service")),
            "enroll-code",
            "--db",
            url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bulk_codes_from_a_names_file_enrol_each_station_once(
    service_db: tuple[str, Engine],
    client: TestClient,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    url, _engine = service_db
    names = tmp_path / "stations.txt"
    names.write_text("# hall 2\nbench-01\n\nbench-02\n  bench-03  \n", encoding="utf-8")
    done = _bulk(url, "--names-file", str(names), "--hours", "48")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "# station\tcode\tvalid until (UTC), once each"
    rows = [line.split("\t") for line in lines[1:]]
    assert [row[0] for row in rows] == ["bench-01", "bench-02", "bench-03"]
    codes = {row[0]: row[1] for row in rows}
    assert len(set(codes.values())) == 3
    with sessions() as s:
        stored = s.scalars(select(Station).order_by(Station.name)).all()
        assert [st.name for st in stored] == ["bench-01", "bench-02", "bench-03"]
        for st in stored:
            assert st.enroll_expires_at is not None
            assert f"{st.enroll_expires_at:%Y-%m-%d %H:%M}" == rows[stored.index(st)][2]
            left = st.enroll_expires_at - utcnow()
            assert timedelta(hours=47) < left <= timedelta(hours=48)
            assert codes[st.name] not in repr(st.__dict__)  # only hashes stored

    # Each code enrols its own station over the enrol route, once.
    r = client.post("/v1/stations/enroll", json={"code": codes["bench-02"]})
    assert r.status_code == 200 and r.json()["station_name"] == "bench-02", r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/v1/stations/me", headers=headers).status_code == 200
    reused = client.post("/v1/stations/enroll", json={"code": codes["bench-02"]})
    assert reused.status_code == 409
    assert "already used (station bench-02" in reused.json()["message"]
    # An expired code of the batch is refused with its expiry, and changes nothing.
    with sessions() as s, s.begin():
        s.execute(
            update(Station)
            .where(Station.name == "bench-03")
            .values(enroll_expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = client.post("/v1/stations/enroll", json={"code": codes["bench-03"]})
    assert expired.status_code == 401 and "expired at" in expired.json()["message"]
    with sessions() as s:
        assert s.scalar(select(Station.token_hash).where(Station.name == "bench-03")) is None
    assert client.post("/v1/stations/enroll", json={"code": codes["bench-01"]}).status_code == 200

    # A file naming an enrolled station: refused as a whole, no code issued, nothing changed.
    names.write_text("bench-02\nbench-04\n", encoding="utf-8")
    refused = _bulk(url, "--names-file", str(names))
    assert refused.returncode == 1 and refused.stdout == ""
    assert "Already enrolled: bench-02" in refused.stderr and "--reenroll" in refused.stderr
    with sessions() as s:
        assert s.scalar(select(Station).where(Station.name == "bench-04")) is None
    moved = _bulk(url, "--names-file", str(names), "--reenroll")
    assert moved.returncode == 0, moved.stderr
    assert [line.split("\t")[0] for line in moved.stdout.splitlines()[1:]] == [
        "bench-02",
        "bench-04",
    ]


def test_bulk_codes_refuse_a_bad_names_file_and_issue_nothing(
    service_db: tuple[str, Engine], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    url, _engine = service_db
    twice = tmp_path / "twice.txt"
    twice.write_text("bench-01\nbench-02\nbench-01\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    for args, message in (
        (["--names-file", str(twice)], "names bench-01 more than once"),
        (["--names-file", str(empty)], "names no station"),
        (["--names-file", str(tmp_path / "absent.txt")], "Cannot read"),
        (["--names-file", str(twice), "--station", "x"], "not allowed with argument"),
    ):
        done = _bulk(url, *args)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    with sessions() as s:
        assert s.scalars(select(Station)).all() == []
