"""Per-person language at the bench: each packer's badge switches the station to their
language, a logout back to the site's, `PB:LANG:<code>` lets a person choose theirs (an
outbox event for the service), an unknown code changes nothing. What is recorded is codes,
the same whoever packs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from app import i18n
from app.i18n import Msg
from app.packing.events import PackEvent
from app.scanning.classify import classify
from app.station.ports import UserRecord
from app.station.runtime import StationRuntime
from app.station.screen import Screen, ScreenModel
from app.weighing.reading import ScaleReading, WeightUnit
from sync.protocol import MutationType, UserLanguageSet
from tests.support.catalogues import SENTENCES, reset_station_language, station_catalogues
from tests.support.pins import checker
from tests.support.station_fakes import (
    MUG,
    PLATE,
    FakeClaims,
    FakeLabels,
    FakeStore,
    order,
    run_now,
)

HELLO = "Hello {name}. Scan an order or tote barcode."
WELCOME = "Scan your badge to start."
AGATA = UserRecord(11, "Agata", "packer", "BADGE-PL01", None, language="pl")
IOANA = UserRecord(12, "Ioana", "packer", "BADGE-RO01", None, language="ro")
NOBODY = UserRecord(13, "Sam", "packer", "BADGE-EN01", None)  # no language of their own
KIM = UserRecord(14, "Kim", "packer", "BADGE-HU01", None, language="hu")  # hu not shipped


@pytest.fixture(autouse=True)
def catalogues(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    yield station_catalogues(monkeypatch, tmp_path / "locale")
    reset_station_language()


class Bench:
    def __init__(self, site: str | None = None) -> None:
        i18n.set_site_language(site)
        i18n.set_language(None)
        self.store = FakeStore(users={u.badge: u for u in (AGATA, IOANA, NOBODY, KIM)})
        self.store.orders[1] = order(1, (MUG, 2), (PLATE, 1))
        self.shown: list[ScreenModel] = []
        self.switched: list[str] = []
        self.labels = FakeLabels()
        self.rt = StationRuntime(
            self.store,
            FakeClaims(self.store),
            self.labels,
            run_now,
            self.shown.append,
            pin_checker=checker(),
            auto_complete=False,
            language_changed=self.switched.append,
        )

    def scan(self, text: str) -> ScreenModel:
        self.rt.handle_scan(classify(text.encode()))
        return self.rt.model

    def pack_order(self, order_id: int) -> None:
        self.scan(f"ORD-{100000 + order_id}")
        for code in ("4006381333931", "4006381333931", "PLT-WHT-27"):
            self.scan(code)
        self.rt.scale_reading(ScaleReading(Decimal(0), WeightUnit.G, True))  # platter empty
        self.rt.scale_reading(ScaleReading(Decimal(1530), WeightUnit.G, True))
        [job] = [j for j, (_box, reprint) in self.rt._label_jobs.items() if not reprint]
        self.rt.label_done(job, True, "")
        self.scan("PB:CLOSE")


def _codes(events: list[PackEvent]) -> list[tuple[str, str]]:
    """What was recorded, without who recorded it or which order/line/label it was."""
    out = []
    for event in events:
        payload = {
            k: v
            for k, v in event.payload_json().items()
            if not k.endswith("_id") and k not in ("parcel_id", "tracking_number")
        }
        out.append((event.type.value, json.dumps(payload, sort_keys=True)))
    return out


def test_a_polish_then_a_romanian_packer_each_read_their_own_language() -> None:
    bench = Bench()
    first = bench.store.orders[1]  # the same parcel again, as order 2
    bench.store.orders[2] = replace(first, view=replace(first.view, id=2, number="ORD-100002"))
    m = bench.scan("BADGE-PL01")
    assert i18n.current() == "pl" and bench.switched == ["pl"]
    polish = SENTENCES["pl"][HELLO].format(name="Agata")
    assert m.message == Msg(HELLO, name="Agata").render("pl") == polish  # from pl.po
    assert m.screen is Screen.BATCHES and m.tone == "green"
    bench.pack_order(1)
    assert bench.rt.model.tone == "green"
    agata_did = list(bench.store.recorded)
    m = bench.scan("PB:LOGOUT")
    assert i18n.current() == "en" and bench.switched == ["pl", "en"]
    assert m.message == WELCOME and m.screen is Screen.LOGIN

    m = bench.scan("BADGE-RO01")  # the same station, the next person
    assert i18n.current() == "ro" and bench.switched == ["pl", "en", "ro"]
    romanian = SENTENCES["ro"][HELLO].format(name="Ioana")
    assert m.message == Msg(HELLO, name="Ioana").render("ro") == romanian  # from ro.po
    bench.pack_order(2)
    assert bench.rt.model.tone == "green"
    ioana_did = bench.store.recorded[len(agata_did) :]

    # The same work records the same codes, in neither person's words.
    assert len(agata_did) == len(ioana_did) == 7
    assert _codes(agata_did) == _codes(ioana_did)
    assert {e.order_id for e in ioana_did} == {2}
    recorded = json.dumps([e.payload_json() for e in bench.store.recorded], ensure_ascii=False)
    assert "Salut" not in recorded and "Cześć" not in recorded


def test_the_site_language_is_what_a_person_without_their_own_reads() -> None:
    bench = Bench(site="pl")
    assert bench.rt.model.message == SENTENCES["pl"][WELCOME]
    bench.scan("BADGE-RO01")
    assert i18n.current() == "ro"
    m = bench.scan("PB:LOGOUT")
    assert i18n.current() == "pl" and m.message == SENTENCES["pl"][WELCOME]
    m = bench.scan("BADGE-EN01")
    assert i18n.current() == "pl" and m.message == Msg(HELLO, name="Sam").render("pl")


def test_a_language_the_station_does_not_ship_falls_back_to_the_site(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bench = Bench(site="ro")
    with caplog.at_level("WARNING", logger="app.i18n"):
        m = bench.scan("BADGE-HU01")
        bench.scan("PB:LOGOUT")
        bench.scan("BADGE-HU01")
    assert i18n.current() == "ro" and m.message == SENTENCES["ro"][HELLO].format(name="Kim")
    logged = [r.getMessage() for r in caplog.records]
    assert logged.count("no hu catalogue in this build; using ro") == 1


def test_a_person_chooses_their_language_with_a_command_barcode() -> None:
    bench = Bench()
    bench.scan("BADGE-RO01")
    m = bench.scan("PB:LANG:de")
    assert m.tone == "green" and i18n.current() == "de"
    assert m.message == SENTENCES["de"]["This station now speaks {language} to you."].format(
        language="Deutsch"
    )
    assert bench.switched == ["ro", "de"]
    [event] = bench.store.recorded
    assert event.type is MutationType.USER_LANGUAGE_SET and event.order_id is None
    assert event.payload == UserLanguageSet(user_id=IOANA.id, language="de")
    bench.scan("PB:LOGOUT")
    assert i18n.current() == "en"
    bench.scan("BADGE-RO01")  # the synced list still says ro: the choice made here stands
    assert i18n.current() == "de"


@pytest.mark.parametrize("code", ["PB:LANG:xx", "PB:LANG:", "PB:LANG:klingon"])
def test_an_unknown_language_is_refused_and_nothing_changes(code: str) -> None:
    bench = Bench()
    bench.scan("BADGE-PL01")
    m = bench.scan(code)
    shown = code.removeprefix("PB:LANG:") or "?"
    # Agata reads Polish; pl.po lacks this sentence, so it falls back to English
    assert m.tone == "red" and m.message == (
        f"{shown} is not a language this station knows. Nothing was changed; "
        "scan a language from the command sheet."
    )
    assert i18n.current() == "pl" and bench.store.recorded == []
    assert bench.switched == ["pl"]


def test_pb_lang_needs_someone_logged_in() -> None:
    bench = Bench()
    m = bench.scan("PB:LANG:de")
    assert m.tone == "red" and i18n.current() == "en" and bench.store.recorded == []


def test_the_config_language_is_the_site_language_at_start_up() -> None:
    from app.config import StationSettings
    from app.launch import speak_site_language

    assert speak_site_language(StationSettings(language="ro")) == "ro"
    assert i18n.site_language() == "ro" and i18n.current() == "ro"
    bench = Bench(site=i18n.site_language())
    assert bench.rt.model.message == SENTENCES["ro"][WELCOME]
    assert speak_site_language(StationSettings(language="tlh")) == "en"  # logged, English
