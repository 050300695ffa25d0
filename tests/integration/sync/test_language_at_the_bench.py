"""Each person's language, from the service to a real station and back: the synced user list
carries it (only to stations speaking protocol 4), a badge login speaks it, and `PB:LANG`
at the bench reaches the service as one `user_language_set` mutation applied once and
audited, even when the answer to the push is lost. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app import i18n
from app.i18n import Msg
from app.scanning.classify import classify
from app.station.replica_store import ReplicaStore
from app.station.runtime import StationRuntime
from service.models import OfficeAudit, User
from service.users import add_user
from sync.protocol import PROTOCOL_HEADER
from tests.integration.sync.conftest import Station
from tests.integration.sync.service_runner import station_mutations
from tests.support.catalogues import SENTENCES, reset_station_language, station_catalogues
from tests.support.fault_proxy import FaultProxy
from tests.support.station_fakes import FakeClaims, FakeLabels, run_now

HELLO = "Hello {name}. Scan an order or tote barcode."


@pytest.fixture(autouse=True)
def catalogues(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    yield station_catalogues(monkeypatch, tmp_path / "locale")
    reset_station_language()


def _bench(st: Station, shown: list[str], switched: list[str]) -> StationRuntime:
    store = ReplicaStore(st.replica, st.id)
    return StationRuntime(
        store,
        FakeClaims(store),  # type: ignore[arg-type]
        FakeLabels(),
        run_now,
        lambda m: shown.append(f"{m.tone}: {m.message}"),
        language_changed=switched.append,
    )


def _scan(runtime: StationRuntime, shown: list[str], text: str) -> str:
    runtime.handle_scan(classify(text.encode()))
    return shown[-1]


def _language(sessions: sessionmaker[Session], user_id: int) -> str | None:
    with sessions() as s:
        return s.scalar(select(User.language).where(User.id == user_id))


def test_each_person_reads_their_language_and_a_choice_at_the_bench_sticks(
    make_station: Callable[[str], Station],
    sessions: sessionmaker[Session],
    service_engine: Engine,
    proxy: FaultProxy,
) -> None:
    with sessions() as s, s.begin():
        agata = add_user(s, name="Agata", role="packer", badge="BADGE-PL01", language="pl").id
        ioana = add_user(s, name="Ioana", role="packer", badge="BADGE-RO01", language="ro").id
    st = make_station("lang-1")
    assert st.engine.run_once()
    shown: list[str] = []
    switched: list[str] = []
    runtime = _bench(st, shown, switched)

    said = _scan(runtime, shown, "BADGE-PL01")
    assert said == f"green: {Msg(HELLO, name='Agata').render('pl')}"
    assert said == f"green: {SENTENCES['pl'][HELLO].format(name='Agata')}"
    assert i18n.current() == "pl"
    _scan(runtime, shown, "PB:LOGOUT")
    assert i18n.current() == "en"
    said = _scan(runtime, shown, "BADGE-RO01")
    assert said == f"green: {SENTENCES['ro'][HELLO].format(name='Ioana')}"
    assert i18n.current() == "ro" and switched == ["pl", "en", "ro"]

    # An unknown code: red, nothing queued, nothing switched.
    said = _scan(runtime, shown, "PB:LANG:xx")
    assert said.startswith("red: xx is not a language this station knows.")
    assert st.replica.queue_depth() == 0 and i18n.current() == "ro"

    # Ioana picks German: now at this bench, and for good on the service.
    said = _scan(runtime, shown, "PB:LANG:de")
    assert said == "green: Diese Station spricht jetzt Deutsch mit dir."
    assert st.replica.queue_depth() == 1
    proxy.fail_next("drop_response")  # the service commits, the station never hears it
    assert not st.engine.run_once()
    assert st.engine.run_once()  # the same mutation again: answered from the stored result
    assert station_mutations(service_engine, st.id) == {1: ("applied", None)}
    assert _language(sessions, ioana) == "de" and _language(sessions, agata) == "pl"
    with sessions() as s:
        audits = s.scalars(
            select(OfficeAudit).where(OfficeAudit.action == "user_language_set")
        ).all()
    assert [(a.target, a.details["language"], a.details["before"]) for a in audits] == [
        (str(ioana), "de", "ro")
    ]

    # Every station learns it: a second bench's list says German for Ioana.
    other = make_station("lang-2")
    assert other.engine.run_once()
    [snap] = other.replica.users_by_badge("BADGE-RO01")
    assert snap.language == "de"
    assert st.engine.run_once()
    [snap] = st.replica.users_by_badge("BADGE-RO01")
    assert snap.language == "de"


def test_an_older_station_gets_users_without_a_language(
    make_station: Callable[[str], Station], sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        add_user(s, name="Agata", role="packer", badge="BADGE-PL01", language="pl")
    st = make_station("lang-old")

    def users(protocol: str) -> list[dict[str, object]]:
        r = st.client._http.get(
            "/v1/sync/pull", params={"cursor": 0}, headers={PROTOCOL_HEADER: protocol}
        )
        assert r.status_code == 200, r.text
        return [c["data"] for c in r.json()["changes"] if c["entity"] == "user"]

    [old] = users("3")
    assert "language" not in old and old["badge"] == "BADGE-PL01"
    [new] = users("4")
    assert new["language"] == "pl"


def test_the_service_refuses_an_unknown_language_and_changes_nothing(
    make_station: Callable[[str], Station],
    sessions: sessionmaker[Session],
    service_engine: Engine,
) -> None:
    """A station that skipped its own check (an older build, a bug) cannot store junk."""
    with sessions() as s, s.begin():
        ioana = add_user(s, name="Ioana", role="packer", badge="BADGE-RO01", language="ro").id
    st = make_station("lang-3")
    assert st.engine.run_once()
    st.replica.record([("user_language_set", None, None, {"user_id": ioana, "language": "xx"})])
    st.replica.record([("user_language_set", None, None, {"user_id": 9999, "language": "de"})])
    st.engine.run_once()
    assert station_mutations(service_engine, st.id) == {
        1: ("rejected", "validation_failed"),
        2: ("rejected", "not_found"),
    }
    assert _language(sessions, ioana) == "ro"
    with sessions() as s:
        audited = select(OfficeAudit).where(OfficeAudit.action == "user_language_set")
        assert s.scalars(audited).all() == []
